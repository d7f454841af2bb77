"""The Celery tasks against real Redis and a real worker.

A worker runs in a thread of this process (`start_worker`, solo pool) or, to be killed, as
a subprocess (`celery -A haven worker`) on the same test database. Every test here commits
(`transaction=True`) so that the worker's own connection sees the rows; the queue in this
run's Redis database is purged first, and the app is made non-eager (the setting is read at
app configuration, so the fixture sets `app.conf` and restores it).

Waiting for a worker is polling the database or the queue with a generous time limit that
only a broken worker reaches; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from accounts import roles
from accounts.models import Unit
from cases import reminders, tasks, workflow
from cases.models import Application, Deadline, DeadlineRule, Notification, Reminder
from haven.celery import RequeueOnConnect, app
from tests.conftest import make_user, on_duty, submit

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
D = dt.date
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
PATIENCE = 60.0  # seconds; reached only when something is broken


class FlakyBackend(LocmemBackend):
    """A mail server that drops the first connection and accepts the next ones."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """This run's Redis database with an empty queue, and a non-eager app."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.ping()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    client.delete("unacked", "unacked_index")
    yield client
    app.control.purge()
    client.delete("unacked", "unacked_index")
    app.conf.task_always_eager = previous


def idle(client: redis.Redis) -> bool:
    """Nothing waiting in the queue and nothing taken but not yet acknowledged."""
    return client.llen("celery") == 0 and client.hlen("unacked") == 0


@pytest.fixture
def run_worker(broker, django_db_blocker, settings):
    """A context manager that runs a worker thread in this process (locmem mail)."""
    settings.MAILERS = LOCMEM

    @contextlib.contextmanager
    def run() -> Iterator[None]:
        with (
            django_db_blocker.unblock(),
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30),
        ):
            yield

    return run


@pytest.fixture
def worker(run_worker, broker):
    with run_worker():
        yield broker


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a Haven process on this test database."""
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_NAME", "EMAIL_HOST"}}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        HAVEN_IGNORE_DOTENV="1",
        PYTHONPATH=str(BASE_DIR),
        DJANGO_SETTINGS_MODULE="haven.settings",
    )
    env.update(extra)
    return env


def overdue_case(alice, **extra) -> Application:
    """The sample case's clocks: made and lodged on 11 August 2023, so its examination
    deadline (11 February 2024) is long overdue."""
    case = submit(alice, lodged_on=D(2023, 8, 11), entered_on=D(2023, 8, 10), **extra)
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def all_sent() -> bool:
    return Reminder.objects.exists() and not Reminder.objects.filter(sent_at__isnull=True).exists()


# ---- through the worker -------------------------------------------------------------------


def test_the_sweep_sends_through_the_worker_and_a_second_sweep_sends_nothing(alice, dora, worker):
    case = overdue_case(alice)
    overdue_case(alice, family_name="Petrov")
    examination = Deadline.objects.get(application=case, rule="examination")
    assert examination.due_on == D(2024, 2, 11)
    assert examination.is_overdue()
    tasks.sweep_deadlines.delay()
    wait_for(lambda: Reminder.objects.count() == 2 and all_sent(), "two reminders sent")
    wait_for(lambda: idle(worker), "the worker to go idle")
    # The right to work is an entitlement from its date: never overdue, never reminded.
    assert (
        list(Reminder.objects.values_list("deadline__rule", "level", "recipient__username"))
        == [("examination", 0, "alice")] * 2
    )
    assert Notification.objects.filter(kind="reminder").count() == 2
    assert len(mail.outbox) == 2
    # Again: a sweep, and a duplicate message for a reminder already sent.
    tasks.sweep_deadlines.delay()
    tasks.send_reminder.delay(Reminder.objects.first().pk)
    wait_for(lambda: idle(worker), "the worker to go idle")
    assert Reminder.objects.count() == 2
    assert Notification.objects.filter(kind="reminder").count() == 2
    assert len(mail.outbox) == 2
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}


def test_the_sample_case_brought_up_to_date_is_reminded_through_the_worker(worker):
    call_command("import_seed", verbosity=0)
    case = Application.objects.get(applicant__family_name="Korolev")
    head = on_duty(
        make_user(
            "head",
            roles.DECISION_MAKER,
            Unit.objects.get(name="Migration Department, Asylum Division"),
        )
    )
    workflow.bring_up_to_date(case, actor=head, reason="Facts checked with the file.")
    tasks.sweep_deadlines.delay()
    examination = Deadline.objects.get(application=case, rule="examination")
    assert examination.due_on == D(2024, 2, 11)
    wait_for(
        lambda: Reminder.objects.filter(
            deadline=examination, level=0, recipient=head, sent_at__isnull=False
        ).exists(),
        "the overdue examination reminder to the unit's duty officer",
    )
    wait_for(lambda: idle(worker), "the worker to go idle")
    subjects = [m.subject for m in mail.outbox if m.to == ["head@example.test"]]
    assert f"Overdue: Examination period, case {case.reference} (due 2024-02-11)" in subjects


def test_a_send_that_fails_once_is_retried_and_delivered_once(dora, alice, worker, settings):
    DeadlineRule.objects.filter(code="right-to-work").update(is_active=False)
    FlakyBackend.calls = 0
    settings.MAILERS = {"default": {"BACKEND": "tests.cases.test_tasks.FlakyBackend"}}
    on_duty(dora)
    with_dora = submit(alice, lodged_on=D(2023, 8, 11))  # unassigned: the duty officer
    tasks.sweep_deadlines.delay()
    wait_for(all_sent, "the reminder to be sent after its retry")
    wait_for(lambda: idle(worker), "the worker to go idle")
    reminder = Reminder.objects.get()
    assert reminder.deadline.application_id == with_dora.pk
    assert reminder.recipient == dora
    assert FlakyBackend.calls == 2
    assert (reminder.attempts, reminder.last_error) == (2, "")
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert [m.to for m in mail.outbox] == [["dora@example.test"]]


def test_two_workers_sending_one_reminder_at_once_send_it_once(alice, dora, settings):
    settings.MAILERS = LOCMEM
    DeadlineRule.objects.filter(code="right-to-work").update(is_active=False)
    on_duty(dora)
    submit(alice, lodged_on=D(2023, 8, 11))  # unassigned: one reminder, to dora
    reminders.sweep(enqueue=lambda pk: None)
    reminder = Reminder.objects.get()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(reminders.send_reminder(reminder.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    assert sorted(outcomes) in (["busy", "sent"], ["done", "sent"])
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(reminder=reminder).count() == 1
    reminder.refresh_from_db()
    assert reminder.attempts == 1


# ---- a worker killed in the middle of a send ---------------------------------------------


class SilentMailServer:
    """A TCP server that accepts connections and never answers: an SMTP client connected
    to it waits for the greeting. `connected` is set on the first connection."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connected = threading.Event()
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.clients.append(client)
            self.connected.set()

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.socket.close()


def test_a_worker_killed_in_the_middle_of_a_send_loses_nothing_and_doubles_nothing(
    alice, dora, broker, run_worker, tmp_path, settings
):
    server = SilentMailServer()
    overdue_case(alice)  # its commits enqueue a check of the case
    overdue_case(alice, family_name="Petrov")
    tasks.sweep_deadlines.delay()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "haven",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],  # fmt: skip
        cwd=BASE_DIR,
        env=subprocess_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(server.port), EMAIL_USE_TLS="0"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not server.connected.wait(PATIENCE):
            raise AssertionError((tmp_path / "worker.log").read_text())
        worker.send_signal(signal.SIGKILL)  # in the middle of the first email
        worker.wait(PATIENCE)
    finally:
        if worker.poll() is None:
            worker.kill()
        server.close()
        log.close()
    # The killed send had claimed its reminder and delivered it in-app; its email is out.
    interrupted = Reminder.objects.get(claimed_at__isnull=False)
    assert interrupted.sent_at is None
    assert interrupted.attempts == 1
    assert Notification.objects.filter(reminder=interrupted).count() == 1
    # Redis holds the killed worker's message as unacknowledged and would deliver it again
    # after the visibility timeout (an hour); the claim makes that a no-op once the next
    # sweep sent it. Drop it here so that "idle" below means this test's work is done.
    broker.delete("unacked", "unacked_index")
    # After the grace period the next sweep releases the dead claim and sends again.
    later = timezone.now() + reminders.grace_period() + dt.timedelta(minutes=1)
    with run_worker():
        result = reminders.sweep(now=later, enqueue=tasks.send_reminder.delay)
        assert result.requeued >= 1
        wait_for(all_sent, "every reminder to be sent")
        wait_for(lambda: idle(broker), "the worker to go idle")
    count = Reminder.objects.count()
    assert count == 2  # the two examinations, to alice (the right to work is no alarm)
    assert Notification.objects.filter(kind="reminder").count() == count  # in-app: exactly once
    assert Notification.objects.filter(reminder=interrupted).count() == 1
    assert len(mail.outbox) == count  # the interrupted email never reached the server
    interrupted.refresh_from_db()
    assert interrupted.sent_at is not None
    assert interrupted.attempts == 2


# ---- Redis down ---------------------------------------------------------------------------

WORKFLOW_SCRIPT = """
import datetime as dt
import django

django.setup()
from accounts.models import User
from cases import workflow
from cases.models import Facility

alice = User.objects.get(username="alice")
case = workflow.submit_application(
    actor=alice,
    applicant_data={"family_name": "Korolev", "given_names": "Ivan"},
    submitted_on=dt.date(2023, 8, 11),
    lodged_on=dt.date(2023, 8, 11),
)
case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
case = workflow.detain(
    case,
    actor=alice,
    expected_status="examination",
    reason="Risk of absconding",
    facility=Facility.objects.get(code="frc-pabrade"),
    legal_basis="Law on the Legal Status of Aliens Art. 113",
    order_reference="SBGS-1",
)
print("case", case.pk, case.status)
"""


def test_redis_down_breaks_neither_the_workflow_nor_the_sweep(
    alice, dora, pabrade, broker, run_worker
):
    down = subprocess_env(REDIS_URL="redis://127.0.0.1:1/0")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", WORKFLOW_SCRIPT],
        cwd=BASE_DIR,
        env=down,
        capture_output=True,
        text=True,
        timeout=PATIENCE * 2,
    )
    assert done.returncode == 0, done.stderr
    assert "Error 111 connecting to 127.0.0.1:1" in done.stderr  # it tried, and went on
    case = Application.objects.get()
    assert done.stdout.split() == ["case", str(case.pk), "detention"]  # the change is saved
    assert case.status == "detention"
    # The sweep by hand, with Redis still down: reminders saved, sends left for later.
    swept = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "sweep_deadlines"],
        cwd=BASE_DIR,
        env=down,
        capture_output=True,
        text=True,
        timeout=PATIENCE * 2,
    )
    assert swept.returncode == 0, swept.stderr
    created = Reminder.objects.count()
    assert created > 0
    assert f"{created} reminders created" in swept.stdout
    assert f"The broker did not answer: {created} sends wait for the next sweep" in swept.stdout
    assert not Reminder.objects.filter(sent_at__isnull=False).exists()
    assert idle(broker)  # nothing reached this run's Redis
    # Redis is back: the next sweep after the grace period sends what is unsent.
    left_unsent = list(Reminder.objects.values_list("pk", flat=True))
    later = timezone.now() + reminders.grace_period() + dt.timedelta(minutes=1)
    with run_worker():
        result = reminders.sweep(now=later, enqueue=tasks.send_reminder.delay)
        assert result.requeued == created
        wait_for(all_sent, "the reminders to be sent")
        wait_for(lambda: idle(broker), "the worker to go idle")
    # Each reminder left unsent is delivered once. (`later` may fall on the next Vilnius day,
    # where a clock reaches a more urgent level: that sweep then also writes its reminder.)
    assert Notification.objects.filter(kind="reminder", reminder__in=left_unsent).count() == created
    assert Notification.objects.filter(kind="reminder").count() == Reminder.objects.count()
    assert len(mail.outbox) == Reminder.objects.count()


def leave_unsent_while_redis_is_down() -> int:
    """A case changed and a sweep run by processes that cannot reach Redis: the reminders
    are saved, their sends lost. Then the outage lasts longer than the grace period (the
    rows are dated back by it). Returns how many reminders wait."""
    down = subprocess_env(REDIS_URL="redis://127.0.0.1:1/0")
    for command in (
        [sys.executable, "-c", WORKFLOW_SCRIPT],
        [sys.executable, "manage.py", "sweep_deadlines"],
    ):
        done = subprocess.run(  # noqa: S603
            command, cwd=BASE_DIR, env=down, capture_output=True, text=True, timeout=PATIENCE * 2
        )
        assert done.returncode == 0, done.stderr
    waiting = Reminder.objects.filter(sent_at__isnull=True)
    assert waiting.count() == Reminder.objects.count() > 0
    waiting.update(created_at=F("created_at") - reminders.grace_period() - dt.timedelta(minutes=1))
    return waiting.count()


def drop_connections(client: redis.Redis) -> int:
    """Close every other connection to this run's Redis database, as a Redis restart would
    (the other databases, used by other runs, are left alone)."""
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    others = [c["id"] for c in client.client_list() if c["db"] == db]
    for client_id in others:
        client.client_kill_filter(_id=client_id, skipme=True)
    return len(others)


def test_a_worker_that_starts_sends_what_an_outage_left_unsent(
    alice, dora, pabrade, broker, run_worker
):
    unsent = leave_unsent_while_redis_is_down()
    assert idle(broker)  # nothing reached the queue: only a re-send can deliver them

    with run_worker():  # no sweep: the worker's start-up does it
        wait_for(all_sent, "the reminders to be sent by the starting worker")
        wait_for(lambda: idle(broker), "the worker to go idle")

    assert Notification.objects.filter(kind="reminder").count() == unsent
    assert len(mail.outbox) == unsent


def test_a_worker_that_reconnects_to_the_broker_sends_what_was_left_unsent(
    alice, dora, pabrade, broker, run_worker
):
    with run_worker():
        wait_for(lambda: idle(broker), "the worker to go idle after its start")
        unsent = leave_unsent_while_redis_is_down()
        wait_for(lambda: idle(broker), "the worker to go idle")
        assert Reminder.objects.filter(sent_at__isnull=True).count() == unsent

        assert drop_connections(broker) > 0  # the worker's connection among them

        wait_for(all_sent, "the reminders to be sent after the worker reconnected")
        wait_for(lambda: idle(broker), "the worker to go idle")

    assert Notification.objects.filter(kind="reminder").count() == unsent
    assert len(mail.outbox) == unsent


def test_a_connecting_worker_plans_a_second_pass_one_grace_period_later(
    broker, django_db_blocker, settings
):
    # Sends lost just before the broker came back are younger than the grace period at the
    # first pass: the second one, a grace period later, finds them old enough.
    settings.MAILERS = LOCMEM
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w,
    ):
        wait_for(lambda: idle(broker), "the worker to go idle after its start")
        planned = [
            s
            for s in w.consumer.timer.queue
            if getattr(s.entry.fun, "__func__", None) is RequeueOnConnect._send
        ]
        assert len(planned) == 1
        assert 0 < planned[0].eta - time.monotonic() <= reminders.grace_period().total_seconds()


# ---- configuration and layering -----------------------------------------------------------

PROBE = """
import sys
import django

django.setup()
import cases.admin, cases.deadlines, cases.notifications, cases.reminders, cases.workflow
from haven.celery import RequeueOnConnect, app

print("tasks imported:", "cases.tasks" in sys.modules)
sweep = app.conf.beat_schedule["sweep-deadlines"]
digest = app.conf.beat_schedule["deadline-digest"]
print("sweep every", sweep["schedule"], "expires", sweep["options"]["expires"])
hours, minutes = sorted(digest["schedule"].hour), sorted(digest["schedule"].minute)
print("digest at", hours, minutes, app.conf.timezone)
checkpoint = app.conf.beat_schedule["audit-checkpoint"]
print(checkpoint["task"], "every", checkpoint["schedule"])
"""


def run_probe(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


def test_nothing_below_the_tasks_imports_them_and_beat_reads_the_environment():
    probe = run_probe(SWEEP_INTERVAL_MINUTES="5", DIGEST_HOUR="6", AUDIT_CHECKPOINT_MINUTES="30")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines() == [
        "tasks imported: False",
        "sweep every 300.0 expires 300",
        "digest at [6] [0] Europe/Vilnius",
        "cases.tasks.write_audit_checkpoints every 1800.0",
    ]


def test_beat_refuses_a_digest_hour_that_is_not_an_hour():
    probe = run_probe(DIGEST_HOUR="25")
    assert probe.returncode != 0
    assert "DIGEST_HOUR=25 must be between 0 and 23" in probe.stderr
