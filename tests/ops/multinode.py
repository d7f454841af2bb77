"""The multi-node proof: Haven's topology on one machine, without Docker.

Two gunicorn instances (each with its own empty MEDIA_ROOT) and two Celery workers (prefork,
one child each) run on one PostgreSQL database, one Redis server and moto's S3 server, with
DEBUG off, as in production. One person works through a load balancer's host name on both
web instances alternately: intake on one and the case page on the other, a transition on one
and the page on the other, an upload on one and the download on the other, a note likewise.
Then the sweep runs, and the first email it sends is held by the mail server (a small SMTP
sink of this module, one port per worker, so it knows whose send it holds), which kills that
worker's whole process group with SIGKILL before answering: the worker dies inside its send,
after claiming the reminder and delivering it in the app, before the email was accepted.
Sweeps are then sent every few seconds, as beat would, until every reminder is sent and Redis
holds no message, taken or waiting.

The processes run with short, valid timings (EMAIL_TIMEOUT, SEND_TIME_LIMIT,
REMINDER_GRACE_SECONDS, BROKER_VISIBILITY_TIMEOUT at the settings' minimums), so the dead
worker's claim expires after 25 seconds and Redis delivers its unacknowledged message again
after 30: the surviving worker sends the reminder once, and the message delivered again finds
it sent. Waiting is polling with a generous limit that only something broken reaches.

It checks: every due deadline has its reminder and every reminder was delivered once (one
in-app notification each, one email each accepted by the mail server, the interrupted one
re-sent by the other worker), every case's events form one chain (one start, no fork) and
`verify_audit` exits 0, the document came back from the bucket byte for byte, and nothing was
written to either instance's disk.

`make multinode` runs it on a database of its own (`haven_multinode`, made afresh);
tests/ops/test_multinode.py runs it on the test database. Every process it starts is in a
process group of its own, ended on success, failure and Ctrl-C alike (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PATIENCE = 120.0  # seconds for any one thing to happen; reached only when something is broken
SETTLE = 600.0  # seconds for the sweep, the kill and the recovery together (expected: ~1 min)
SWEEP_EVERY = 3.0  # seconds between the sweeps sent after the kill (beat's interval, shortened)
HOST = "haven.example"  # the load balancer's name: both instances serve it
# Unassigned overdue cases taken in at intake (one reminder each to the duty officer), with
# names and birth dates the duplicate check finds no likeness in.
FAMILY_NAMES = ("Kowalski", "Berzins", "Tamm", "Virtanen", "Horvath", "Dimitrov")
CASES = len(FAMILY_NAMES)
# The timings of every process: the settings' minimums (haven/settings.py).
TIMINGS = {
    "EMAIL_TIMEOUT": "5",
    "SEND_TIME_LIMIT": "15",  # at least 3 x EMAIL_TIMEOUT
    "REMINDER_GRACE_SECONDS": "25",  # at least SEND_TIME_LIMIT + 10
    "BROKER_VISIBILITY_TIMEOUT": "30",  # at least 2 x SEND_TIME_LIMIT
}
LETTER = "A letter from the applicant: „Prašau prieglobsčio“.\n".encode()
# Variables of the calling process that must not reach Haven's processes.
DROPPED = {
    "PYTEST_VERSION",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_CURRENT_TEST",
    "HAVEN_TESTING",
    "TEST_DATABASE_NAME",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "DEBUG",
    "MFA_REQUIRED",
}


class ProofFailed(AssertionError):
    """A check of the proof failed; the message says which and what was found."""


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise ProofFailed(f"Timed out waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ProofFailed(message)


# ---- processes ----------------------------------------------------------------------------


class Processes:
    """The processes the proof starts, each in a process group of its own (so a worker's
    pool children die with it), with their output in files of `logs`."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our interpreter and tools, fixed arguments
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def log(self, name: str, tail: int = 4000) -> str:
        """The end of a process's output (`tail=0`: all of it)."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def alive(self, name: str) -> None:
        if self.running[name].poll() is not None:
            raise ProofFailed(f"{name} stopped (exit {self.running[name].returncode}):\n"
                              f"{self.log(name)}")  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL to the whole group: the process and its children die at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.running[name].pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        give_up = time.monotonic() + 20
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, give_up - time.monotonic()))
        for process in self.running.values():
            # A group outlives its leader when a child lingers: end the group in any case.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


# ---- the mail server ----------------------------------------------------------------------


@dataclasses.dataclass
class Mail:
    port: int
    to: str
    subject: str


class MailSink:
    """An SMTP server on one port per worker that accepts every message, except that once
    armed it holds the next one: it reads the whole message, calls `on_hold(port)` (which
    kills the sending worker) and closes the connection without answering, so the message
    is not accepted (a server must not deliver what it did not acknowledge)."""

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.accepted: list[Mail] = []
        self.held: list[Mail] = []
        self.on_hold: Callable[[int], None] | None = None
        self.hold_done = threading.Event()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 60

            def handle(self) -> None:
                port = self.server.server_address[1]
                self.reply("220 haven-sink ESMTP")
                rcpt: list[str] = []
                while line := self.rfile.readline(8192):
                    command = line.decode("ascii", "replace").strip()
                    verb = command[:4].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.reply("250-haven-sink\r\n250 8BITMIME")
                    elif verb == "MAIL" or verb == "RSET":
                        rcpt = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpt.append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = self.read_data()
                        message = email.message_from_bytes(data, policy=email.policy.default)
                        mail = Mail(port, ",".join(rcpt), str(message["Subject"]))
                        if sink.take_hold(mail):
                            return  # closed without an answer: not accepted
                        with sink.lock:
                            sink.accepted.append(mail)
                        self.reply("250 OK: accepted")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Not implemented")

            def read_data(self) -> bytes:
                lines = []
                while (line := self.rfile.readline(1 << 20)) not in {b".\r\n", b".\n", b""}:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return b"".join(lines)

            def reply(self, text: str) -> None:
                self.wfile.write(text.encode("ascii") + b"\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.servers = [Server(("127.0.0.1", 0), Handler) for _ in range(count)]
        self.ports = [server.server_address[1] for server in self.servers]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def arm(self, on_hold: Callable[[int], None]) -> None:
        with self.lock:
            self.on_hold = on_hold

    def take_hold(self, mail: Mail) -> bool:
        with self.lock:
            on_hold, self.on_hold = self.on_hold, None
        if on_hold is None:
            return False
        on_hold(mail.port)  # the sender dies here, waiting for the answer
        with self.lock:
            self.held.append(mail)
        self.hold_done.set()
        return True

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


# ---- a browser's session, through the load balancer's name --------------------------------


class Web:
    """One person's HTTP session (cookies kept here, as a browser keeps them for one host
    name), sent to one web instance or the other. The load balancer terminates TLS: requests
    say so with X-Forwarded-Proto (Haven runs with BEHIND_TLS_PROXY)."""

    def __init__(self, session_key: str) -> None:
        self.cookies = {"sessionid": session_key}

    def request(
        self, port: int, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={
                    "Host": HOST,
                    "X-Forwarded-Proto": "https",
                    "Origin": f"https://{HOST}",
                    "Referer": f"https://{HOST}{path}",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                    **{k.replace("_", "-"): v for k, v in headers.items()},
                },
            )
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, dict(response.headers.items()), content

    def get(self, port: int, path: str, *, expect: int = 200) -> bytes:
        status, _headers, content = self.request(port, "GET", path)
        check(status == expect, f"GET {path} on :{port} answered {status}, not {expect}")
        return content

    def post(
        self,
        port: int,
        path: str,
        fields: dict[str, str | list[str]],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        expect: int = 302,
    ) -> dict[str, str]:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        items = [("csrfmiddlewaretoken", self.cookies.get("csrftoken", ""))]
        for name, value in fields.items():
            items += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        for name, value in items:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        status, headers, content = self.request(
            port,
            "POST",
            path,
            b"".join(parts),
            Content_Type=f"multipart/form-data; boundary={boundary}",
        )
        if status != expect:
            page = content.decode(errors="replace")
            said = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
            raise ProofFailed(
                f"POST {path} on :{port} answered {status}, not {expect}: "
                f"{' '.join(said) or page[-3000:]}"
            )
        return headers


# ---- the proof ----------------------------------------------------------------------------


@dataclasses.dataclass
class Topology:
    env: dict[str, str]
    web: list[int]  # the gunicorn instances' ports
    media: list[Path]  # their MEDIA_ROOTs
    workers: list[str]  # the workers' process names
    sink: MailSink
    redis_url: str
    processes: Processes


def haven_env(database_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("S3_")}
    env = {k: v for k, v in env.items() if not k.startswith(("EMAIL_", "GUNICORN_"))}
    env.update(
        DEBUG="false",
        HAVEN_IGNORE_DOTENV="1",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1",
        BEHIND_TLS_PROXY="true",
        DATABASE_URL=database_url,
        PYTHONPATH=str(BASE_DIR),
        DJANGO_SETTINGS_MODULE="haven.settings",
        LOG_FORMAT="json",
        SITE_URL=f"https://{HOST}",
        **TIMINGS,
    )
    env.update(extra)
    return env


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


@contextlib.contextmanager
def topology(database_url: str, workdir: Path, say: Callable[[str], None]) -> Iterator[Topology]:
    """Start Redis, moto's S3 server, two gunicorn instances and two workers; yield them;
    stop them all, whatever happens."""
    redis_server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if redis_server is None:
        raise ProofFailed(
            "redis-server is not installed: the proof starts a Redis server of its own "
            "(apt-get install redis-server)."
        )
    processes = Processes(workdir)
    sink = MailSink(2)
    try:
        redis_port, s3_port = free_port(), free_port()
        processes.start(
            "redis",
            [
                redis_server,
                *f"--port {redis_port} --bind 127.0.0.1 --databases 64".split(),
                "--save",
                "",
                "--appendonly",
                "no",
            ],  # fmt: skip
            dict(os.environ),
        )
        processes.start(
            "s3",
            python("-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)),
            dict(os.environ),
        )
        for name, port in (("redis", redis_port), ("s3", s3_port)):
            wait_for(lambda p=port, n=name: connectable(p) or processes.alive(n), name)
        bucket = "haven-multinode"
        s3 = {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "S3_REGION": "eu-north-1",
            "S3_ACCESS_KEY_ID": "haven-multinode",
            "S3_SECRET_ACCESS_KEY": "haven-multinode-secret",
        }
        make_bucket(s3)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        static = workdir / "static"
        env = haven_env(database_url, {"REDIS_URL": redis_url, **s3, "STATIC_ROOT": str(static)})
        done = subprocess.run(  # noqa: S603
            python("manage.py", "collectstatic", "--no-input", "-v0"),
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=PATIENCE * 3,
        )  # fmt: skip
        check(done.returncode == 0, f"collectstatic failed: {done.stderr[-3000:]}")
        say(f"Redis :{redis_port}, S3 (moto) :{s3_port}, mail server :{sink.ports}")

        web, media = [], []
        for index in range(2):
            port, root = free_port(), workdir / f"media-{index + 1}"
            root.mkdir()
            processes.start(
                f"web-{index + 1}",
                python("-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"),
                {
                    **env,
                    "MEDIA_ROOT": str(root),
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "GUNICORN_WORKERS": "2",
                },
            )
            web.append(port)
            media.append(root)
        workers = []
        for index in range(2):
            name = f"worker-{index + 1}"
            processes.start(
                name,
                python("-m", "celery", "-A", "haven", "worker", "--concurrency", "1",
                       "--hostname", f"{name}@multinode", "--without-mingle", "--without-gossip"),
                {
                    **env,
                    "MEDIA_ROOT": str(workdir / f"{name}-media"),
                    "EMAIL_HOST": "127.0.0.1",
                    "EMAIL_PORT": str(sink.ports[index]),
                    "EMAIL_USE_TLS": "false",
                },
            )  # fmt: skip
            workers.append(name)
        for index, port in enumerate(web):
            name = f"web-{index + 1}"
            wait_for(lambda p=port, n=name: health(p) is not None or processes.alive(n), name)
            checks = health(port) or {}
            failing = [k for k in ("database", "migrations", "redis", "storage")
                       if checks.get(k, {}).get("ok") is not True]  # fmt: skip
            check(not failing, f"{name}'s /health/ fails {failing}: {checks}")
        with celery_client(redis_url) as client:
            wanted = {f"{name}@multinode" for name in workers}

            def both_answer() -> bool:
                for name in workers:
                    processes.alive(name)
                replies = client.control.ping(timeout=1.0) or []
                return wanted <= {name for reply in replies for name in reply}

            wait_for(both_answer, "both workers to answer")
        say(
            f"web :{web[0]} and :{web[1]} (gunicorn; /health/ passes database, migrations, "
            f"redis and storage on both), workers {', '.join(workers)} (celery, prefork)"
        )
        yield Topology(env, web, media, workers, sink, redis_url, processes)
    finally:
        processes.stop_all()
        sink.close()


def connectable(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def health(port: int) -> dict | None:
    """The checks of `/health/` (200 or 503: beat does not run here), or None while the
    instance does not answer."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/health/", headers={"Host": HOST, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
    except OSError:
        return None
    if response.status not in {200, 503}:
        return None
    return json.loads(body).get("checks", {})


def make_bucket(s3: dict[str, str]) -> None:
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3["S3_ENDPOINT_URL"],
        region_name=s3["S3_REGION"],
        aws_access_key_id=s3["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=s3["S3_SECRET_ACCESS_KEY"],
    ).create_bucket(
        Bucket=s3["S3_BUCKET"],
        CreateBucketConfiguration={"LocationConstraint": s3["S3_REGION"]},
    )


@contextlib.contextmanager
def celery_client(redis_url: str):
    """A Celery client of this proof's Redis (not the calling process's broker): it sends
    sweeps as beat does, by name, and pings the workers."""
    from celery import Celery

    client = Celery("multinode", broker=redis_url, set_as_current=False)
    client.conf.broker_connection_timeout = 5
    try:
        yield client
    finally:
        client.close()


def redis_idle(redis_url: str) -> bool:
    """Nothing waiting in the queue and nothing taken but not yet acknowledged."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return client.llen("celery") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def quiet(redis_url: str, seconds: float = 2.0) -> Callable[[], bool]:
    """A condition for `wait_for`: Redis idle at every look for `seconds`. One look is not
    enough: a worker pops a message from the queue a moment before it records it as taken
    but unacknowledged, and a look in between sees neither."""
    since: list[float] = []

    def condition() -> bool:
        if not redis_idle(redis_url):
            since.clear()
            return False
        since[:] = since or [time.monotonic()]
        return time.monotonic() - since[0] >= seconds

    return condition


# ---- the people -----------------------------------------------------------------------------


def people():
    """A unit with a caseworker (alice, who works through the web) and a second caseworker
    (dora) who becomes the unit's duty officer just before the sweep. Made in the database
    directly, as an administrator would in the admin."""
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import Unit, User
    from cases.roles import ensure_roles

    ensure_roles()
    unit = Unit.objects.create(name=f"Multi-node Division {uuid.uuid4().hex[:6]}")
    users = []
    for name in ("alice", "dora"):
        user = User.objects.create_user(
            username=f"mn-{name}-{uuid.uuid4().hex[:6]}",
            password=secrets.token_urlsafe(16),
            unit=unit,
            first_name=name.title(),
            email=f"{name}@multinode.example",
        )
        user.groups.add(Group.objects.get(name=roles.CASEWORKER))
        users.append(user)
    return unit, *users


def signed_in_session(user, secret_key: str) -> str:
    """A database session of `user` past the second factor (a confirmed device), as a
    sign-in makes it, valid for processes whose SECRET_KEY is `secret_key`."""
    from django.test import Client
    from django.test.utils import override_settings

    from bench.signin import verify_session

    with override_settings(SECRET_KEY=secret_key):
        client = Client()
        client.force_login(user)
        verify_session(client, user)
        return client.session.session_key


def intake_fields(family_name: str, **overrides: str) -> dict[str, str | list[str]]:
    """The intake form: an application lodged on 11 August 2023, so its examination period
    (six months) is long overdue; nobody assigned."""
    return {
        "family_name": family_name,
        "given_names": "Pavel",
        "name_original": "",
        "aliases": "",
        "date_of_birth": "1990-04-02",
        "sex": "male",
        "nationality": "RU",
        "languages": "Russian",
        "procedure": "regular",
        "submitted_on": "2023-08-11",
        "lodged_on": "2023-08-11",
        "submission_place": "Vilnius",
        "submission_authority": "migration_department",
        "grounds": ["political_opinion"],
        "claim_summary": "Refused mobilisation.",
        **overrides,
    }


# ---- the proof ----------------------------------------------------------------------------


def run(database_url: str, *, say: Callable[[str], None] = print, workdir: Path | None = None):
    """The whole proof against the (migrated) database of `database_url`, which this
    process's Django is also configured for. Raises ProofFailed naming what failed."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(terminate_is_an_exit())
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="multinode-")))
        top = stack.enter_context(topology(database_url, workdir, say))
        try:
            prove(top, say)
        except BaseException:
            for name in ("web-1", "web-2", *top.workers):
                say(f"---- the end of {name}'s log ----\n{top.processes.log(name, 3000)}")
            raise


@contextlib.contextmanager
def terminate_is_an_exit() -> Iterator[None]:
    """SIGTERM to this process (a CI job cancelled, `kill`) unwinds like Ctrl-C, so that the
    processes it started are stopped too. (Only the main thread may set a handler.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def prove(top: Topology, say: Callable[[str], None]) -> None:
    from django.db.models import Count, Q
    from django.utils import timezone

    from cases import reminders
    from cases.models import Application, CaseEvent, Document, Notification, Reminder

    unit, alice, dora = people()
    web = Web(signed_in_session(alice, top.env["SECRET_KEY"]))
    a, b = top.web

    # 1. One case through both instances, alternately.
    web.get(a, "/cases/new/")
    location = web.post(a, "/cases/new/", intake_fields("Sokolov"))["Location"]
    match = re.fullmatch(r"/cases/(\d+)/", location)
    check(match is not None, f"intake redirected to {location!r}")
    case = Application.objects.get(pk=int(match[1]))
    check(case.reference.encode() in web.get(b, location), "the case page on B names the case")
    step = f"{location}steps/start_examination/"
    web.get(b, step)
    web.post(b, step, {"expected_status": "submitted", "reason": "Complete.", "assignee": ""})
    case.refresh_from_db()
    check(case.status == "examination", f"the case is {case.status} after the transition on B")
    check(b"examination" in web.get(a, location).lower(), "A's page shows the new status")
    web.post(
        a,
        f"{location}documents/",
        {"kind": "", "title": "Letter", "description": "From the applicant"},
        {"file": ("letter.txt", LETTER, "text/plain")},
    )
    document = Document.objects.get(application=case)
    check(document.sha256 == hashlib.sha256(LETTER).hexdigest(), "the stored SHA-256 is right")
    download = web.get(b, f"{location}documents/{document.pk}/")
    check(download == LETTER, "B streams the document A stored, byte for byte")
    web.post(b, f"{location}notes/", {"text": "Called the lawyer."})
    check(b"Called the lawyer." in web.get(a, location), "A's page shows the note made on B")
    say(
        f"case {case.reference}: intake on A, page on B, transition on B, page on A, "
        f"upload on A, download on B ({len(download)} bytes, same SHA-256), note on B, page on A"
    )
    # More cases, unassigned: nobody to remind until the unit has a duty officer.
    for index in range(CASES):
        port = top.web[index % 2]
        web.get(port, "/cases/new/")
        web.post(
            port,
            "/cases/new/",
            intake_fields(
                FAMILY_NAMES[index], date_of_birth=f"{1970 + index}-0{1 + index}-1{index}"
            ),
        )
    taken_in = list(Application.objects.filter(unit=unit).exclude(pk=case.pk))
    check(len(taken_in) == CASES, "every intake made one case")
    say(f"{CASES} more cases taken in, alternately on A and B, nobody assigned")
    idle = quiet(top.redis_url)
    wait_for(
        lambda: (
            idle()
            and Reminder.objects.exists()
            and not Reminder.objects.filter(sent_at__isnull=True).exists()
        ),
        "the reminder of the examined case to be sent and the workers to go idle",
    )
    check(
        set(Reminder.objects.values_list("recipient_id", "deadline__application"))
        == {(alice.pk, case.pk)},
        "the overdue deadlines of the assigned case reminded alice, and nothing else",
    )

    # 2. The sweep, with a worker killed inside a send.
    unit.duty_officer = dora
    unit.save(update_fields=["duty_officer"])
    ports = dict(zip(top.sink.ports, top.workers, strict=True))
    killed: list[str] = []

    def kill_the_sender(port: int) -> None:
        killed.append(ports[port])
        top.processes.kill(ports[port])

    top.sink.arm(kill_the_sender)
    with celery_client(top.redis_url) as client:
        client.send_task("cases.tasks.sweep_deadlines")
        if not top.sink.hold_done.wait(PATIENCE):
            raise ProofFailed("No email was sent after the sweep")
        (dead,) = killed
        top.processes.running[dead].wait(PATIENCE)
        (survivor,) = set(top.workers) - {dead}
        (held,) = top.sink.held
        interrupted = next(
            r
            for r in Reminder.objects.filter(recipient__email=held.to).select_related(
                "deadline__application"
            )
            if names(held.subject, {r.deadline.application.reference})
        )
        check(
            interrupted.sent_at is None and interrupted.claimed_at is not None,
            "the interrupted reminder is claimed and unsent",
        )
        check(
            Notification.objects.filter(reminder=interrupted).count() == 1,
            "the interrupted send had delivered its reminder in the app",
        )
        # The message the dead worker took: Redis holds it, unacknowledged.
        taken = logged(top.processes.log(dead, tail=0), RECEIVED, interrupted.pk)
        check(len(taken) == 1, f"{dead} took one message for reminder {interrupted.pk}: {taken}")
        say(
            f"sweep: {dead} killed (SIGKILL, its process group) while sending reminder "
            f"{interrupted.pk}; sweeps sent every {SWEEP_EVERY:g} s until all are sent"
        )
        give_up = time.monotonic() + SETTLE
        while Reminder.objects.filter(sent_at__isnull=True).exists():
            top.processes.alive(survivor)
            check(time.monotonic() < give_up, "every reminder sent in time")
            client.send_task("cases.tasks.sweep_deadlines")
            time.sleep(SWEEP_EVERY)
    # The dead worker's message, never acknowledged, is delivered again by Redis after the
    # visibility timeout: the survivor runs it to its end (it finds the reminder sent).
    wait_for(
        lambda: taken[0] in logged(top.processes.log(survivor, tail=0), DONE, interrupted.pk),
        f"Redis to deliver {dead}'s message {taken[0]} again to {survivor}, and its task to end",
        timeout=SETTLE,
    )
    wait_for(quiet(top.redis_url), "Redis to hold no message", timeout=SETTLE)
    say(
        f"every reminder sent; Redis holds no message, waiting or taken: {dead}'s message "
        f"was delivered again to {survivor} after the visibility timeout"
    )

    # 3. What must hold.
    rows = list(Reminder.objects.select_related("deadline__application", "recipient"))
    _due, missing = reminders.plan(timezone.now())
    check(missing == [], f"every due deadline has its reminder (missing: {missing})")
    reminded = {(r.recipient_id, r.deadline.application_id) for r in rows}
    check(
        reminded == {(alice.pk, case.pk)} | {(dora.pk, c.pk) for c in taken_in},
        f"alice is reminded of her case, dora (on duty) of each unassigned one: {reminded}",
    )
    check(
        len(rows) == len({(r.deadline_id, r.recipient_id) for r in rows}),
        "one reminder per deadline",
    )
    check(all(r.sent_at for r in rows), "every reminder is marked sent")
    notes = Counter(
        Notification.objects.filter(kind="reminder").values_list("reminder_id", flat=True)
    )
    check(notes == Counter(r.pk for r in rows), f"one in-app notification per reminder: {notes}")
    known = {r.deadline.application.reference for r in rows}
    mails = Counter((m.to, ref) for m in top.sink.accepted for ref in names(m.subject, known))
    wanted = Counter((r.recipient.email, r.deadline.application.reference) for r in rows)
    check(
        mails == wanted and len(top.sink.accepted) == len(rows),
        f"one email accepted per reminder: {mails} for {wanted}",
    )
    interrupted.refresh_from_db()
    check(interrupted.attempts == 2, f"the interrupted reminder took 2 attempts, not "
          f"{interrupted.attempts}")  # fmt: skip
    resent = [
        m for m in top.sink.accepted
        if interrupted.deadline.application.reference in names(m.subject, known)
    ]  # fmt: skip
    check(
        len(resent) == 1 and ports[resent[0].port] == survivor and held.to == resent[0].to,
        "the interrupted email was accepted once, sent by the surviving worker",
    )
    say(
        f"{len(rows)} reminders: each sent once (in the app {sum(notes.values())}, emails "
        f"accepted {len(top.sink.accepted)}, the interrupted one re-sent by {survivor})"
    )
    cases = Application.objects.filter(unit=unit)
    starts = cases.annotate(starts=Count("events", filter=Q(events__prev_hash=""))).values_list(
        "reference", "starts"
    )
    check(all(n == 1 for _ref, n in starts), f"one start of the chain per case: {list(starts)}")
    forks = (
        CaseEvent.objects.filter(application__in=cases)
        .values("application_id", "prev_hash")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    check(not forks.exists(), f"no event shares its predecessor with another: {list(forks)}")
    audit = subprocess.run(  # noqa: S603
        python("manage.py", "verify_audit"),
        cwd=BASE_DIR, env=top.env, capture_output=True, text=True, timeout=PATIENCE * 3,
    )  # fmt: skip
    check(audit.returncode == 0, f"verify_audit exits 0: {audit.stdout}{audit.stderr}")
    say(f"{cases.count()} cases, each one unbroken chain; verify_audit exits 0")
    on_disk = [str(p) for root in top.media if root.exists() for p in root.rglob("*")]
    check(on_disk == [], f"nothing on either web instance's disk: {on_disk}")
    say("nothing written to either instance's MEDIA_ROOT: the document is in the bucket")


RECEIVED = "celery.worker.strategy"  # the logger of "Task ...[id] received"
DONE = "celery.app.trace"  # the logger of "Task ...[id] succeeded" (or failed)


def logged(log: str, logger: str, reminder_id: int) -> list[str]:
    """The ids of the send_reminder messages for `reminder_id` that a worker's log (JSON
    lines) names in lines of `logger`."""
    ids = []
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            data = entry.get("data") or {}
            if (
                entry.get("logger") == logger
                and data.get("name") == "cases.tasks.send_reminder"
                and data.get("args") == f"({reminder_id},)"
            ):
                ids.append(data["id"])
    return ids


def names(subject: str, references: set[str]) -> list[str]:
    """Which of the case references an email's subject names."""
    return [
        ref for ref in references if re.search(rf"(?<![\w-]){re.escape(ref)}(?![\w-])", subject)
    ]


# ---- `make multinode` ---------------------------------------------------------------------


def main() -> int:
    """Run the proof on a database of its own, made afresh, and report each step."""
    base = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/haven")
    name = os.environ.get("MULTINODE_DATABASE", "haven_multinode")
    check(re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None, f"bad database name {name!r}")
    database_url = re.sub(r"/[^/?]*(\?|$)", rf"/{name}\1", base.split("://", 1)[1], count=1)
    database_url = f"{base.split('://', 1)[0]}://{database_url}"
    env = haven_env(database_url, {"REDIS_URL": "", "HAVEN_ALLOW_NO_REDIS": "1"})
    for key, value in env.items():
        os.environ[key] = value
    sys.stdout.reconfigure(line_buffering=True)
    print(f"Database {name}: made afresh and migrated")
    maintenance = {**env, "DATABASE_URL": re.sub(rf"/{name}(\?|$)", r"/postgres\1", database_url)}
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        done = subprocess.run(  # noqa: S603
            python("-c", "import sys, psycopg; c = psycopg.connect(sys.argv[1], autocommit=True);"
                   " c.execute(sys.argv[2])", maintenance["DATABASE_URL"], sql),
            capture_output=True, text=True, timeout=PATIENCE,
        )  # fmt: skip
        check(done.returncode == 0, f"{sql}: {done.stderr[-2000:]}")
    done = subprocess.run(  # noqa: S603
        python("manage.py", "migrate", "--no-input", "-v0"),
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=PATIENCE * 10,
    )  # fmt: skip
    check(done.returncode == 0, f"migrate: {done.stderr[-3000:]}")
    import django

    django.setup()
    started = time.monotonic()
    workdir = BASE_DIR / "var" / "multinode"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        run(database_url, say=lambda line: print(f"  {line}", flush=True), workdir=workdir)
    except ProofFailed as failure:
        print(f"FAILED: {failure}\nLogs in {workdir}.", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit) as stop:
        print("Interrupted: every process it started was stopped.", file=sys.stderr)
        return stop.code if isinstance(stop, SystemExit) else 130
    print(f"Multi-node proof passed ({time.monotonic() - started:.0f} s); logs in {workdir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
