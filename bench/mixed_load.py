# The scenario starts its own tools (gunicorn, manage.py) with fixed arguments and sends HTTP
# only to the gunicorn it started on 127.0.0.1.
# ruff: noqa: S603, S310
"""Mixed load on one case over real HTTP: readers, note writers, uploaders and a race.

One case, in detention, is worked on by 20 signed-in people at once, against gunicorn with 4
workers, DEBUG off, on a free port of 127.0.0.1. In each round all 20 sessions wait at a
barrier, then at the same moment:

- readers open the case page (each view is written to the case's access log);
- note writers add a note, each with its own text;
- uploaders add a document, each a distinct small valid PDF or PNG;
- racers submit one transition that the case's state allows (`release` from detention,
  `detain` from examination), each from the form it opened before the barrier, so each
  request carries the status its user saw: exactly one must win, the others get 409.

Roles rotate between rounds, so every session does every kind of request. Latency is from
sending to the answer's last byte, so it includes the wait for a free worker (20 requests
arrive at once at 4 workers); requests per second count the requests sent at the barriers
over the rounds' time, from each barrier's release to the round's last answer. This is the load
under which workflow writes (case row, then the case's chain lock) and access-log writes
(chain lock, then the case row at commit) once met in a deadlock and answered 500.

Used by `tests/reliability/test_mixed_load.py` (which checks what was stored), by
`make bench` (`bench/run.py`: the `mixed_*` rows, BENCH_MIXED_ROUNDS rounds, default 20,
0 skips it) and on its own:

    DATABASE_URL=postgres://root@127.0.0.1:5432/haven_load .venv/bin/python -m bench.mixed_load

Alone it migrates DATABASE_URL (a PostgreSQL database; `createdb haven_load` makes one), adds
its world there (unit "Mixed load", users `mixed-load-01`..`20` without passwords, a
detention facility and one new case per run; the case is released again at the end, so the
facility's places stay free), collects static files into var/mixed-load/, runs MIXED_ROUNDS
rounds (default 20) and prints requests per second and p50/p95 latency per kind of request,
the answers by status code and the `deadlock detected` lines of the server's log
(var/mixed-load/gunicorn.log). REDIS_URL is passed on when set (the broker for the tasks the
changes queue); without it those tasks run inside the requests (HAVEN_ALLOW_NO_REDIS). The
exit status is 1 when any answer was 5xx or the log shows a deadlock.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 20
WORKERS = 4
HTTP_TIMEOUT = 60.0  # seconds, per request
ROUND_TIMEOUT = 180.0  # seconds, per round (all threads joined by then)

CASE_PAGE, NOTE, DOCUMENT, TRANSITION, TRANSITION_FORM = (
    "case_page",
    "note",
    "document",
    "transition",
    "transition_form",
)
# The kinds sent at the barrier, in the order of the mix; the transition forms are opened
# before it (each racer's form records the status its user saw).
KINDS = (CASE_PAGE, NOTE, DOCUMENT, TRANSITION)
# What a correct server answers each kind of request with.
EXPECTED = {
    CASE_PAGE: {200},
    NOTE: {302},
    DOCUMENT: {302},
    TRANSITION: {302, 409},  # exactly one 302 per round
    TRANSITION_FORM: {200},
}

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SEEN = re.compile(r'name="expected_status" value="([^"]*)"')
FORM_TYPE = "application/x-www-form-urlencoded"
# The environment of the test run must not reach the server: it would switch Haven's
# settings to their test mode (PYTEST_VERSION) or allow async-unsafe calls.
NOT_PASSED_ON = (
    "PYTEST_VERSION",
    "PYTEST_CURRENT_TEST",
    "HAVEN_TESTING",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "TEST_DATABASE_NAME",
)


@dataclasses.dataclass(frozen=True)
class Mix:
    """How many of the sessions send each kind of request in a round."""

    readers: int = 8
    notes: int = 5
    documents: int = 3
    racers: int = 4

    def plan(self) -> list[str]:
        return (
            [CASE_PAGE] * self.readers
            + [NOTE] * self.notes
            + [DOCUMENT] * self.documents
            + [TRANSITION] * self.racers
        )


@dataclasses.dataclass(frozen=True)
class World:
    """What the load works on: one case of the unit, its people and a detention facility."""

    case_id: int
    reference: str
    facility_id: int
    usernames: list[str]


@dataclasses.dataclass
class Session:
    """A signed-in person as a browser holds them: cookies and the form token."""

    username: str
    cookies: dict[str, str]
    token: str = ""


@dataclasses.dataclass
class Outcome:
    """One HTTP request of the load and its answer."""

    round: int
    kind: str
    username: str
    status: int = 0  # 0: no answer (see `error`)
    ms: float = 0.0
    location: str = ""
    error: str = ""
    body: str = ""  # kept for answers a correct server does not give, to show them
    marker: str = ""  # the note's text, the document's name or the transition's reason
    sha256: str = ""  # of the uploaded document
    step: str = ""  # the transition raced for

    @property
    def accepted(self) -> bool:
        """The server said yes: the page, or a redirect back to the case after a change."""
        return not self.error and self.status in (200, 302)


@dataclasses.dataclass
class Report:
    """Everything the rounds sent and got back."""

    outcomes: list[Outcome]
    round_seconds: list[float]  # from the barrier's release to the round's last answer
    rounds: int
    sessions: int

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status >= 500]

    def unexpected(self) -> list[Outcome]:
        """Answers a correct server does not give: 5xx, no answer, or a status the kind of
        request never gets (a 400 would mean the load itself sent a bad form), or a redirect
        away from the case (to the sign-in page, say)."""
        return [o for o in self.outcomes if o.error or o.status not in EXPECTED[o.kind]]

    def statuses(self) -> dict[str, dict[int, int]]:
        counts: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
        for outcome in self.outcomes:
            counts[outcome.kind][outcome.status] += 1
        return {kind: dict(sorted(c.items())) for kind, c in counts.items()}

    def figures(self) -> dict[str, dict[str, Any]]:
        """Per kind sent at the barrier, and for all of them: requests, requests per second
        over the rounds' time, median and p95 latency, answers that were not 2xx/3xx."""
        seconds = sum(self.round_seconds) or 1e-9
        groups = {kind: self.of(kind) for kind in KINDS}
        groups["all"] = [o for o in self.outcomes if o.kind in KINDS]
        out: dict[str, dict[str, Any]] = {}
        for kind, rows in groups.items():
            if not rows:
                continue
            ms = [o.ms for o in rows if o.status]
            out[kind] = {
                "requests": len(rows),
                "rps": round(len(rows) / seconds, 1),
                "median_ms": round(statistics.median(ms), 1) if ms else None,
                "p95_ms": round(p95(ms), 1) if ms else None,
                "non_2xx_3xx": sum(1 for o in rows if not 200 <= o.status < 400),
                "statuses": dict(sorted(collections.Counter(o.status for o in rows).items())),
            }
        return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


# ------------------------------------------------------------------------------------------
# The world, through the workflow
# ------------------------------------------------------------------------------------------


def build_world(*, sessions: int = SESSIONS, unit_name: str = "Mixed load") -> World:
    """A unit with `sessions` people (every fifth a decision-maker, the rest caseworkers,
    none able to sign in with a password), a detention facility, and a new case walked
    through the workflow into detention.

    Idempotent for everything but the case, so a benchmark database can be reused: each run
    works on a case of its own, whose state the transition race then flips.
    """
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts import roles
    from accounts.models import Unit, User
    from cases import workflow
    from cases.models import Facility

    unit, _created = Unit.objects.get_or_create(name=unit_name)
    users = []
    for number in range(1, sessions + 1):
        role = roles.DECISION_MAKER if number % 5 == 0 else roles.CASEWORKER
        user, created = User.objects.get_or_create(
            username=f"mixed-load-{number:02d}",
            defaults={"unit": unit, "first_name": f"Load {number:02d}"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
        users.append(user)
    facility, _created = Facility.objects.get_or_create(
        code="mixed-load-detention",
        defaults={
            "name": "Mixed load detention centre",
            "kind": Facility.Kind.DETENTION,
            "operator": "State Border Guard Service",
            "capacity": 20,
        },
    )
    caseworker = users[0]
    today = timezone.localdate()
    case = workflow.submit_application(
        actor=caseworker,
        applicant_data={
            "family_name": "Korolev",
            "given_names": "Ivan",
            "name_original": "Иван Королёв",
            "nationality": "RU",
        },
        submitted_on=today - dt.timedelta(days=2),
        apprehended_on=today - dt.timedelta(days=3),
    )
    case = workflow.start_examination(
        case, actor=caseworker, expected_status="submitted", reason="Examination begins."
    )
    case = workflow.detain(
        case,
        actor=caseworker,
        expected_status="examination",
        reason="Risk of absconding.",
        facility=facility,
        legal_basis="Law on the Legal Status of Aliens, Art. 113",
        order_reference="MIXED-LOAD-0",
    )
    return World(
        case_id=case.pk,
        reference=case.reference,
        facility_id=facility.pk,
        usernames=[u.username for u in users],
    )


def release_world(world: World) -> None:
    """Release the case if the race left it in detention, freeing the facility's place
    (a reused benchmark database would otherwise fill it, one case per run)."""
    from accounts.models import User
    from cases import workflow
    from cases.models import Application

    case = Application.objects.get(pk=world.case_id)
    if case.status == "detention":
        actor = User.objects.get(username=world.usernames[0])
        workflow.release(
            case, actor=actor, expected_status="detention", reason="Mixed load finished."
        )


def case_status(world: World) -> str:
    from cases.models import Application

    return Application.objects.values_list("status", flat=True).get(pk=world.case_id)


def sign_in(world: World, *, secret_key: str) -> list[Session]:
    """A database session per person, made as a sign-in makes it (`force_login`), signed
    with the server's SECRET_KEY so that the server accepts it."""
    from django.conf import settings
    from django.test import override_settings

    from accounts.models import User
    from bench.signin import signed_in_client

    by_name = User.objects.in_bulk(world.usernames, field_name="username")
    sessions = []
    with override_settings(SECRET_KEY=secret_key):
        for username in world.usernames:
            client = signed_in_client(by_name[username])
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            sessions.append(Session(username, {settings.SESSION_COOKIE_NAME: cookie}))
    return sessions


# ------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------


def database_url(settings_dict: dict[str, Any]) -> str:
    """A postgres:// URL for a Django connection's settings (the test database's real name)."""
    from urllib.parse import quote

    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def server_environment(
    *,
    database_url: str,
    secret_key: str,
    static_root: Path,
    media_root: Path,
    redis_url: str = "",
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """Haven's production settings (DEBUG off) on plain HTTP on the loopback.

    `SECURE_SSL_REDIRECT=false` because nothing here serves HTTPS: with the redirect on,
    every request would answer 301 to https://. Everything else is production: the
    manifest static storage (hence collectstatic), secure cookies (sent back by the load as
    a browser would over HTTPS), HSTS, Argon2.
    """
    env = {k: v for k, v in (base or os.environ).items() if k not in NOT_PASSED_ON}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE") or "haven.settings",
            "HAVEN_IGNORE_DOTENV": "1",  # a development .env would turn DEBUG on
            "DEBUG": "false",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "STATIC_ROOT": str(static_root),
            "MEDIA_ROOT": str(media_root),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("HAVEN_ALLOW_NO_REDIS", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:  # a measurement, not a deployment: the tasks may run inside the requests
        env.pop("REDIS_URL", None)
        env["HAVEN_ALLOW_NO_REDIS"] = "1"
    return env


def collect_static(env: dict[str, str]) -> None:
    """The manifest storage of production settings needs collected static files."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict[str, str], *, log: Path, workers: int = WORKERS) -> Iterator[str]:
    """gunicorn with `workers` sync workers on a free port of 127.0.0.1; yields its base URL.
    Its output (gunicorn's own log and Django's, which writes errors to stderr) goes to
    `log`. Stopped (SIGTERM, then SIGKILL after 30 s) when the block ends, however it ends."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(gunicorn),
                "haven.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--graceful-timeout",
                "20",
                "--error-logfile",
                "-",
                "--no-control-socket",  # other gunicorns on the machine share its path
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not start (exit {server.poll()}); see {log}:\n"
                        + log.read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def deadlock_lines(server_log: str) -> list[str]:
    return [line for line in server_log.splitlines() if "deadlock detected" in line]


def error_lines(server_log: str) -> list[str]:
    """Lines of the server's log that say something went wrong (the first of each error)."""
    marks = ("Internal Server Error", "ERROR", "CRITICAL", "Error:", "deadlock detected")
    return [line for line in server_log.splitlines() if any(m in line for m in marks)]


# ------------------------------------------------------------------------------------------
# HTTP, as a browser sends it
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str
    ms: float


def request(
    host: str,
    method: str,
    path: str,
    cookies: dict[str, str],
    *,
    body: bytes = b"",
    content_type: str = "",
) -> Answer:
    """One request on a new connection to the loopback server; time measured from sending to
    the last byte of the answer. Redirects are not followed."""
    name, port = host.rsplit(":", 1)
    connection = http.client.HTTPConnection(name, int(port), timeout=HTTP_TIMEOUT)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        start = time.perf_counter()
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        ms = (time.perf_counter() - start) * 1000
        set_cookies = {}
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                cookie_name, _eq, cookie_value = pair.partition("=")
                set_cookies[cookie_name.strip()] = cookie_value.strip()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            set_cookies,
            data.decode("utf-8", errors="replace"),
            ms,
        )
    finally:
        connection.close()


def multipart(fields: dict[str, str], file_field: str, filename: str, content: bytes, ctype: str):
    boundary = f"----haven-load-{uuid.uuid4().hex}"
    parts = []
    for key, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{key}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def pdf_document(text: str) -> bytes:
    """A small valid one-page PDF that shows `text` (ASCII), with a correct xref table."""
    safe = text.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_image(text: str) -> bytes:
    """A small valid PNG (8x8, one colour taken from `text`) carrying `text` as a comment."""
    colour = hashlib.sha256(text.encode()).digest()[:3]
    raw = b"".join(b"\x00" + colour * 8 for _ in range(8))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1", errors="replace"))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------------------------------
# The rounds
# ------------------------------------------------------------------------------------------


def _case_path(world: World) -> str:
    return f"/cases/{world.case_id}/"


def open_case_pages(host: str, world: World, sessions: list[Session]) -> None:
    """Each person opens the case once, one after the other, as they would before working
    on it: the page sets the CSRF cookie and carries the form token (and the server's
    workers load their code before the load starts)."""
    for session in sessions:
        answer = request(host, "GET", _case_path(world), session.cookies)
        if answer.status != 200:
            raise RuntimeError(
                f"{session.username} could not open the case before the load: "
                f"{answer.status} {answer.headers.get('location', '')} {answer.body[:500]}"
            )
        session.cookies.update(
            {k: v for k, v in answer.cookies.items() if k in ("csrftoken", "sessionid")}
        )
        token = TOKEN.search(answer.body)
        if token is None or "csrftoken" not in session.cookies:
            raise RuntimeError(f"no form token on the case page for {session.username}")
        session.token = token.group(1)


def _transition_fields(step: str, world: World, label: str) -> dict[str, str]:
    if step == "release":
        return {"reason": f"Released: {label}"}
    return {
        "facility": str(world.facility_id),
        "legal_basis": "Law on the Legal Status of Aliens, Art. 113",
        "order_reference": label[:100],
        "reason": f"Detained: {label}",
    }


def _prepare(
    host: str, world: World, session: Session, outcome: Outcome, done: list[Outcome]
) -> tuple[str, str, bytes, str] | None:
    """What the session will send at the barrier: (method, path, body, content type). A
    racer first opens its transition's form, as its user would: the form carries the status
    the user saw. None when the form did not open (recorded in `done`)."""
    case = _case_path(world)
    if outcome.kind == CASE_PAGE:
        return "GET", case, b"", ""
    if outcome.kind == NOTE:
        fields = {"text": outcome.marker, "csrfmiddlewaretoken": session.token}
        return "POST", f"{case}notes/", urlencode(fields).encode(), FORM_TYPE
    if outcome.kind == DOCUMENT:
        name = outcome.marker
        is_pdf = name.endswith(".pdf")
        content = pdf_document(name) if is_pdf else png_image(name)
        outcome.sha256 = hashlib.sha256(content).hexdigest()
        body, ctype = multipart(
            {"csrfmiddlewaretoken": session.token, "description": f"Scan {name}"},
            "file",
            name,
            content,
            "application/pdf" if is_pdf else "image/png",
        )
        return "POST", f"{case}documents/", body, ctype
    path = f"/cases/{world.case_id}/steps/{outcome.step}/"
    form = Outcome(outcome.round, TRANSITION_FORM, session.username, step=outcome.step)
    done.insert(0, form)
    answer = request(host, "GET", path, session.cookies)
    form.status, form.ms = answer.status, answer.ms
    seen = SEEN.search(answer.body)
    token = TOKEN.search(answer.body)
    if answer.status != 200 or seen is None or token is None:
        form.body = answer.body[:2000]
        outcome.error = f"its form did not open ({answer.status})"
        return None
    fields = {
        **_transition_fields(outcome.step, world, outcome.marker),
        "expected_status": seen.group(1),
        "csrfmiddlewaretoken": token.group(1),
    }
    return "POST", path, urlencode(fields).encode(), FORM_TYPE


def _act(
    host: str, world: World, session: Session, outcome: Outcome, barrier: threading.Barrier
) -> list[Outcome]:
    """One session's part in a round: prepare, wait at the barrier (always, so that one
    failure does not hold the others back), send, record. Returns the outcomes: a racer's
    form and its submission, or the one request."""
    done = [outcome]
    prepared = None
    try:
        prepared = _prepare(host, world, session, outcome, done)
    except Exception as exc:  # noqa: BLE001 - every failure is reported with the outcomes
        outcome.error = f"{type(exc).__name__}: {exc}"
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        outcome.error = outcome.error or "the round's barrier broke"
        return done
    if prepared is None:
        return done
    method, path, body, ctype = prepared
    try:
        answer = request(host, method, path, session.cookies, body=body, content_type=ctype)
    except Exception as exc:  # noqa: BLE001
        outcome.error = f"{type(exc).__name__}: {exc}"
        return done
    outcome.status, outcome.ms = answer.status, answer.ms
    outcome.location = answer.headers.get("location", "")
    if answer.status == 302 and not outcome.location.startswith(_case_path(world)):
        outcome.error = f"302 to {outcome.location}, not back to the case"
    if answer.status not in EXPECTED[outcome.kind]:
        outcome.body = answer.body[:2000]
    return done


def _work(results: list[list[Outcome]], index: int, *args: Any) -> None:
    results[index] = _act(*args)


def run_rounds(
    host: str,
    world: World,
    sessions: list[Session],
    *,
    rounds: int,
    mix: Mix | None = None,
    run_id: str = "",
) -> Report:
    """`rounds` rounds of the mix, all sessions at once behind a barrier in each. Each note
    text, document and transition reason names its round and session (and `run_id`), so
    that what was stored can be matched with what was answered."""
    mix = mix or Mix()
    plan = mix.plan()
    if len(plan) != len(sessions):
        raise ValueError(f"the mix has {len(plan)} places for {len(sessions)} sessions")
    run_id = run_id or secrets.token_hex(3)
    outcomes: list[Outcome] = []
    seconds: list[float] = []
    for round_no in range(1, rounds + 1):
        status = case_status(world)
        step = {"detention": "release", "examination": "detain"}.get(status)
        if step is None:
            raise RuntimeError(f"round {round_no}: the case is {status!r}; nothing to race for")
        barrier = threading.Barrier(len(sessions) + 1, timeout=ROUND_TIMEOUT / 2)
        results: list[list[Outcome]] = [[] for _ in sessions]
        threads = []
        for index, session in enumerate(sessions):
            kind = plan[(index + round_no) % len(plan)]
            label = f"{run_id} round {round_no} by {session.username}"
            marker = {
                NOTE: f"Note {label}",
                DOCUMENT: f"scan-{run_id}-r{round_no}-{index:02d}."
                + ("pdf" if (index + round_no) % 2 else "png"),
                TRANSITION: label,
            }.get(kind, "")
            outcome = Outcome(round_no, kind, session.username, marker=marker, step=step)
            threads.append(
                threading.Thread(
                    target=_work,
                    args=(results, index, host, world, session, outcome, barrier),
                    daemon=True,
                )
            )
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # released when every session is ready
        start = time.perf_counter()
        limit = time.monotonic() + ROUND_TIMEOUT
        for thread in threads:
            thread.join(timeout=max(0.0, limit - time.monotonic()))
        seconds.append(time.perf_counter() - start)
        for index, thread in enumerate(threads):
            if thread.is_alive():
                kind = plan[(index + round_no) % len(plan)]
                late = Outcome(round_no, kind, sessions[index].username)
                late.error = f"no answer within {ROUND_TIMEOUT:.0f} s"
                results[index] = [late]
        for result in results:
            outcomes.extend(result)
    return Report(outcomes, seconds, rounds, len(sessions))


def describe(outcome: Outcome) -> str:
    """One request and its answer in a line: round, kind, who, status (or why none), and the
    page's title or first words."""
    answer = outcome.error or str(outcome.status)
    text = ""
    if outcome.body:
        title = re.search(r"<title>(.*?)</title>", outcome.body, re.S)
        text = title.group(1) if title else re.sub(r"<[^>]+>|\s+", " ", outcome.body)
        text = " ".join(text.split())[:160]
    return f"round {outcome.round} {outcome.kind} by {outcome.username}: {answer} {text}".strip()


def summary(report: Report, server_log: str = "") -> str:
    """The figures as text: per kind, requests per second, latency, answers by status; and
    the server log's deadlocks and first error lines."""
    lines = [
        f"{report.rounds} rounds x {report.sessions} sessions at once; "
        f"{sum(report.round_seconds):.1f} s of load",
        f"{'kind':<12}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'non-2xx/3xx':>13}"
        "  answers by status",
    ]
    for kind, f in report.figures().items():
        lines.append(
            f"{kind:<12}{f['requests']:>9}{f['rps']:>8.1f}{f['median_ms'] or 0:>9.1f}"
            f"{f['p95_ms'] or 0:>9.1f}{f['non_2xx_3xx']:>13}  {f['statuses']}"
        )
    forms = report.statuses().get(TRANSITION_FORM)
    if forms:
        lines.append(f"transition forms opened before the barrier: {forms}")
    unexpected = report.unexpected()
    if unexpected:
        lines.append(f"{len(unexpected)} answers a correct server does not give, the first:")
        lines.extend(f"  {describe(o)}" for o in unexpected[:8])
    if server_log:
        deadlocks = deadlock_lines(server_log)
        errors = error_lines(server_log)
        lines.append(
            f"server log: {len(deadlocks)} lines with 'deadlock detected', "
            f"{len(errors)} error lines"
        )
        lines.extend(f"  {line[:300]}" for line in errors[:12])
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# make bench, and on its own
# ------------------------------------------------------------------------------------------


def bench_step(env: dict[str, str], *, cases: int) -> list[dict[str, Any]]:
    """The step of `bench/run.py`: the scenario against the benchmark database (Django is
    set up there, static files collected), BENCH_MIXED_ROUNDS rounds (default 20; 0 skips
    it). Returns results entries `mixed_<kind>` and `mixed_all`."""
    from django.conf import settings

    rounds = int(os.environ.get("BENCH_MIXED_ROUNDS", "20") or 0)
    if rounds <= 0:
        return []
    out = ROOT / "var" / "bench"
    env = {**env, "MEDIA_ROOT": str(out / "mixed-media"), "LOG_LEVEL": "WARNING"}
    report, server_log = measure(
        env, secret_key=settings.SECRET_KEY, rounds=rounds, log=out / "mixed-load.log"
    )
    print(summary(report, server_log), flush=True)
    entries = []
    for kind, f in report.figures().items():
        entries.append(
            {
                "page": f"mixed_{kind}",
                "cases": cases,
                "median_ms": f["median_ms"],
                "p95_ms": f["p95_ms"],
                "queries": None,  # over HTTP to gunicorn: not counted
                "requests": f["requests"],
                "rps": f["rps"],
                "non_2xx_3xx": f["non_2xx_3xx"],  # the race's losers answer 409
                "server_errors": sum(n for code, n in f["statuses"].items() if code >= 500),
                "statuses": {str(k): v for k, v in f["statuses"].items()},
                "mixed_rounds": rounds,
                "mixed_sessions": report.sessions,
                "gunicorn_workers": WORKERS,
                "deadlocks_in_log": len(deadlock_lines(server_log)),
            }
        )
    return entries


def measure(env: dict[str, str], *, secret_key: str, rounds: int, log: Path) -> tuple[Report, str]:
    """Build the world in the database Django is connected to (the same as env's
    DATABASE_URL), serve it with gunicorn, run the rounds, release the case; returns the
    report and the server's log."""
    world = build_world()
    sessions = sign_in(world, secret_key=secret_key)
    try:
        with serve(env, log=log) as host:
            open_case_pages(host, world, sessions)
            report = run_rounds(host, world, sessions, rounds=rounds)
    finally:
        release_world(world)
    return report, log.read_text(errors="replace")


def main() -> int:
    os.chdir(ROOT)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database, e.g. postgres://root@127.0.0.1:5432/haven_load"
        )
    rounds_raw = os.environ.get("MIXED_ROUNDS", "20")
    if not (rounds_raw.isascii() and rounds_raw.isdigit() and int(rounds_raw) > 0):
        sys.exit(f"MIXED_ROUNDS={rounds_raw!r}: give a whole number of at least 1.")
    out = ROOT / "var" / "mixed-load"
    secret_key = secrets.token_urlsafe(50)
    env = server_environment(
        database_url=url,
        secret_key=secret_key,
        static_root=out / "static",
        media_root=out / "media",
        redis_url=os.environ.get("REDIS_URL", ""),
    )
    os.environ.update(env)
    if "REDIS_URL" not in env:
        os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    collect_static(env)
    report, server_log = measure(
        env, secret_key=secret_key, rounds=int(rounds_raw), log=out / "gunicorn.log"
    )
    print(summary(report, server_log))
    print(f"Server log: {(out / 'gunicorn.log').relative_to(ROOT)}")
    return 1 if report.server_errors() or deadlock_lines(server_log) else 0


if __name__ == "__main__":
    sys.exit(main())
