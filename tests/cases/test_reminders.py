"""The deadline sweep (`cases.reminders.sweep`) and the `sweep_deadlines` command.

Cases are built through `cases.workflow` with time-machine fixing "now"; the sweep's sends
are captured by passing an `enqueue` callable in (the worker itself is tested in
test_tasks.py), and `django_capture_on_commit_callbacks` runs what the sweep queues on commit.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from cases import reminders, workflow
from cases.models import Application, Deadline, DeadlineRule, Notification, Reminder
from haven.celery import app
from tests.conftest import decide, make_user, on_duty, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def at(*args: int):
    return time_machine.travel(vilnius(*args), tick=False)


def examined(alice, **extra) -> Application:
    """A case made and lodged on Friday 11 August 2023, examined by alice. Open: the
    examination limit (due 11 February 2024, reminders 14, 3, 1). The right to work from the
    same day is an entitlement: it reminds nobody and is never overdue."""
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11), **extra)
        return workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason="Go"
        )


def unassigned(alice, **extra) -> Application:
    with at(2023, 8, 11, 15, 0):
        return submit(alice, lodged_on=D(2023, 8, 11), **extra)


class Sends(list):
    """Stands in for the worker: records each reminder id the sweep enqueues and, with
    `deliver`, sends it at once in this process (as the worker would, later)."""

    def __init__(self, *, deliver: bool) -> None:
        super().__init__()
        self.deliver = deliver

    def __call__(self, reminder_id: int) -> None:
        self.append(reminder_id)
        if self.deliver:
            reminders.send_reminder(reminder_id)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run a sweep at a Vilnius moment; returns (result, ids enqueued on commit). With
    `deliver=False` the enqueued sends are lost, as with a broker that went away."""

    def run(*moment: int, deliver: bool = True, **kwargs):
        sends = Sends(deliver=deliver)
        with at(*moment), django_capture_on_commit_callbacks(execute=True):
            result = reminders.sweep(enqueue=sends, enqueue_digest=lambda *a: None, **kwargs)
        return result, sends

    return run


def made(case: Application | None = None) -> set[tuple[str, int, str]]:
    rows = Reminder.objects.select_related("deadline", "recipient")
    if case is not None:
        rows = rows.filter(deadline__application=case)
    return {(r.deadline.rule_id, r.level, r.recipient.username) for r in rows}


# ---- windows and levels -------------------------------------------------------------------


def test_it_reminds_nobody_before_the_first_window_opens(alice, sweep):
    examined(alice)
    result, sends = sweep(2024, 1, 27, 12, 0)  # 15 days before
    assert result.due == 0
    assert made() == set()
    assert sends == []


def test_it_reminds_the_assigned_caseworker_when_the_14_day_window_opens(alice, dora, sweep):
    examined(alice)
    result, sends = sweep(2024, 1, 28, 8, 0)
    assert made() == {("examination", 14, "alice")}
    assert (result.created, result.enqueued) == (1, 1)
    assert sorted(sends) == sorted(Reminder.objects.values_list("pk", flat=True))


def test_a_second_sweep_creates_and_sends_nothing(alice, sweep):
    examined(alice)
    sweep(2024, 1, 28, 8, 0)
    assert (Notification.objects.count(), len(mail.outbox)) == (1, 1)
    result, sends = sweep(2024, 1, 28, 8, 15)
    assert (result.created, result.requeued, sends) == (0, 0, [])
    assert Reminder.objects.count() == 1
    assert (Notification.objects.count(), len(mail.outbox)) == (1, 1)


def test_it_walks_through_the_levels_as_the_deadline_nears(alice, dora, sweep):
    examined(alice)
    sweep(2024, 1, 28, 8, 0)
    sweep(2024, 2, 8, 8, 0)
    sweep(2024, 2, 10, 8, 0)
    _, sends = sweep(2024, 2, 12, 0, 5)
    exam = {(level, user) for rule, level, user in made() if rule == "examination"}
    assert exam == {(14, "alice"), (3, "alice"), (1, "alice"), (0, "alice")}
    # Overdue reaches the unit's decision-makers through their daily digest, never as a
    # reminder each.
    assert not Reminder.objects.filter(recipient=dora).exists()
    assert len(sends) == 1  # the examination, overdue, to alice (the right to work is no alarm)


def test_a_late_sweep_sends_only_the_most_urgent_level_reached(alice, sweep):
    examined(alice)
    result, _ = sweep(2024, 2, 9, 6, 0)  # nothing ran since January
    assert made() == {("examination", 3, "alice")}
    assert result.due == 1


def test_a_sweep_after_long_downtime_catches_up_with_overdue_deadlines(alice, dora, sweep):
    examined(alice)
    sweep(2024, 5, 1, 9, 0)
    assert made() == {("examination", 0, "alice")}


def test_it_uses_the_lead_times_an_administrator_set_on_the_rule(alice, sweep):
    DeadlineRule.objects.filter(code="examination").update(reminder_days="30,7")
    DeadlineRule.objects.filter(code="right-to-work").update(reminder_days="")
    examined(alice)
    sweep(2024, 1, 12, 9, 0)  # 30 days before 11 February
    assert made() == {("examination", 30, "alice")}
    sweep(2024, 2, 5, 9, 0)
    assert made() == {("examination", 30, "alice"), ("examination", 7, "alice")}


def test_it_does_not_go_back_to_a_less_urgent_level_after_lead_times_change(alice, sweep):
    examined(alice)
    sweep(2024, 2, 9, 9, 0)  # level 3
    DeadlineRule.objects.filter(code="examination").update(reminder_days="14")
    sweep(2024, 2, 9, 10, 0)
    assert {lvl for rule, lvl, _ in made() if rule == "examination"} == {3}


def test_it_reminds_of_an_hour_limit_from_the_day_before(alice, pabrade, sweep):
    examined(alice)
    with at(2023, 8, 12, 10, 0):
        workflow.detain(
            Application.objects.get(),
            actor=alice,
            expected_status="examination",
            reason="Risk",
            facility=pabrade,
            legal_basis="Art. 113",
            order_reference="SBGS-1",
        )  # the court order is due Monday 14 August at 10:00
    sweep(2023, 8, 12, 23, 0)
    assert not any(rule == "detention-48h" for rule, *_ in made())
    sweep(2023, 8, 13, 0, 0)
    assert ("detention-48h", 1, "alice") in made()


def test_a_window_opening_before_the_autumn_clock_change_is_caught_at_once(alice, dora, sweep):
    """The day the clocks go back has 25 hours: the sweep still reaches the deadline."""
    DeadlineRule.objects.update(reminder_days="1")  # the longest lead time is one day
    case = examined(alice)
    with at(2023, 10, 16, 10, 0):
        # The appeal window ends on Monday 30 October 2023.
        decide(case, alice, dora, decided_on=D(2023, 10, 16), served_on=D(2023, 10, 16))
    sweep(2023, 10, 29, 0, 0)  # Sunday 29 October, the first minute of its 25 hours
    assert ("appeal-window", 1, "alice") in made()


# ---- recipients ---------------------------------------------------------------------------


def test_an_unassigned_case_reminds_its_units_duty_officer(alice, dora, oscar, sweep):
    outsider_dm = make_user("olga", roles.DECISION_MAKER, oscar.unit)
    bob = make_user("bob", roles.CASEWORKER, alice.unit)
    on_duty(bob)
    on_duty(oscar)  # another unit's duty officer
    unassigned(alice)
    sweep(2024, 1, 28, 8, 0)
    assert made() == {("examination", 14, "bob")}
    assert not Reminder.objects.filter(recipient__in=[alice, dora, oscar, outsider_dm]).exists()


def test_without_a_duty_officer_an_unassigned_case_reminds_nobody_one_by_one(alice, dora, sweep):
    unassigned(alice)
    result, sends = sweep(2024, 1, 28, 8, 0)
    assert result.due == 1
    assert (made(), sends) == (set(), [])  # it is in the decision-makers' digest instead
    # The digest covers DIGEST_DAYS ahead: a week before the legal date it is there.
    assert {d.rule_id for d in reminders.digest_deadlines(dora, vilnius(2024, 2, 5, 8, 0))} == {
        "examination",
    }


def test_a_deactivated_assignee_is_replaced_by_the_duty_officer(alice, dora, sweep):
    bob = make_user("bob", roles.CASEWORKER, alice.unit)
    on_duty(bob)
    examined(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    sweep(2024, 1, 28, 8, 0)
    assert {user for *_, user in made()} == {"bob"}


def test_an_inactive_duty_officer_is_not_reminded(alice, dora, sweep):
    bob = make_user("bob", roles.CASEWORKER, alice.unit)
    on_duty(bob)
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    unassigned(alice)
    sweep(2024, 1, 28, 8, 0)
    assert made() == set()


def test_a_new_assignee_gets_the_current_level(alice, dora, sweep):
    bob = make_user("bob", roles.CASEWORKER, alice.unit)
    case = examined(alice)
    sweep(2024, 2, 8, 8, 0)
    with at(2024, 2, 8, 9, 0):
        workflow.assign(case, actor=dora, assignee=bob)
    sweep(2024, 2, 8, 9, 15)
    assert ("examination", 3, "bob") in made()
    assert ("examination", 3, "alice") in made()


def test_a_closed_deadline_is_not_reminded(alice, dora, sweep):
    case = examined(alice)
    with at(2024, 1, 20, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 20))
    result, _ = sweep(2024, 2, 12, 9, 0)
    assert made() == set()
    assert result.due == 0


# ---- cost ---------------------------------------------------------------------------------


def _sweep_queries(moment: tuple[int, ...]) -> int:
    with at(*moment), CaptureQueriesContext(connection) as queries:
        reminders.sweep(enqueue=lambda pk: None, enqueue_digest=lambda *a: None)
    Reminder.objects.update(sent_at=vilnius(*moment))  # as the worker would
    return len(queries)


def test_the_sweeps_queries_do_not_grow_with_the_number_of_cases(alice, dora, oscar):
    olga = make_user("olga", roles.CASEWORKER, oscar.unit)
    on_duty(olga)
    for _ in range(2):
        examined(alice)
    first = _sweep_queries((2024, 2, 12, 9, 0))
    for _ in range(6):
        examined(alice)
        unassigned(oscar)
    second = _sweep_queries((2024, 2, 13, 9, 0))  # new deadlines only (the first are done)
    assert Reminder.objects.filter(recipient=olga).count() == 6
    assert Reminder.objects.count() == 2 + 6 + 6  # one per deadline
    assert second == first


def test_a_backlog_larger_than_a_batch_is_swept_whole_a_batch_at_a_time(
    alice, dora, oscar, sweep, monkeypatch
):
    olga = make_user("olga", roles.CASEWORKER, oscar.unit)
    on_duty(olga)
    for _ in range(4):
        examined(alice)
        unassigned(oscar)
    monkeypatch.setattr(reminders, "BATCH", 3)  # 8 deadlines: three batches, one partial
    moment = (2024, 2, 13, 9, 0)  # every one of them overdue
    assert reminders.count_due(vilnius(*moment)) == 8
    result, sends = sweep(*moment)
    assert result.due == 8
    assert result.planned == []  # a sweep keeps no list of what it wrote; a dry run does
    # One reminder per overdue deadline: alice's cases to alice, oscar's unassigned cases to
    # olga, the duty officer of oscar's unit.
    assert Reminder.objects.filter(recipient=alice).count() == 4
    assert Reminder.objects.filter(recipient=olga).count() == 4
    assert result.created == len(sends) == Reminder.objects.count() == 8
    again, resent = sweep(2024, 2, 13, 9, 15)
    assert (again.due, again.created, resent) == (8, 0, [])


def _copy_cases(template: Application, count: int) -> None:
    """`count` copies of a case and of its examination deadline, due over the next years,
    written with SQL: volume for the planner, not state for a behaviour test."""
    columns = [f.column for f in Application._meta.concrete_fields if f.column != "id"]
    values = ["'VOL-' || g" if c == "reference" else f'"{c}"' for c in columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO cases_application ({quoted}) SELECT {', '.join(values)} "  # noqa: S608
            "FROM cases_application, generate_series(1, %s) g WHERE id = %s",
            [count, template.pk],
        )
        cursor.execute(
            "INSERT INTO cases_deadline (application_id, rule, starts_at, due_on, due_at, "
            "status, waive_reason, legal_reference) "
            "SELECT a.id, 'examination', now(), (now() + (a.id % 1000) * interval '1 day')::date, "
            "now() + (a.id % 1000) * interval '1 day', 'open', '', 'Art. 81(1)' "
            "FROM cases_application a WHERE a.reference LIKE 'VOL-%%'"
        )
        cursor.execute("ANALYZE cases_deadline")


def test_the_sweep_reads_due_deadlines_through_the_partial_index(alice):
    _copy_cases(unassigned(alice), 5000)
    with connection.cursor() as cursor:
        sql, params = reminders.due_deadlines(
            dt.datetime.now(dt.UTC), horizon_days=15
        ).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "deadline_open_due_idx" in plan, plan


# ---- robustness ---------------------------------------------------------------------------


def test_two_sweeps_planning_at_once_create_each_reminder_once(alice):
    examined(alice)
    examined(alice)
    now = vilnius(2024, 1, 28, 8, 0)
    with at(2024, 1, 28, 8, 0):
        _, first = reminders.plan(now)
        _, second = reminders.plan(now)  # planned before the first one wrote anything
        ids_first = reminders._create(first, now)
        ids_second = reminders._create(second, now)
    assert Reminder.objects.count() == 2
    assert sorted(ids_first) == sorted(ids_second)  # both may send: the claim settles it


def test_it_sends_again_what_is_still_unsent_after_the_grace_period(alice, sweep, settings):
    settings.REMINDER_GRACE_SECONDS = 600
    examined(alice)
    examined(alice)
    _, sends = sweep(2024, 1, 28, 8, 0, deliver=False)  # the broker lost these
    assert len(sends) == 2
    result, again = sweep(2024, 1, 28, 8, 9)
    assert (result.requeued, again) == (0, [])
    result, again = sweep(2024, 1, 28, 8, 11)
    assert result.requeued == 2
    assert sorted(again) == sorted(sends)


def test_it_releases_the_claim_of_a_worker_that_died(alice, sweep, settings):
    settings.REMINDER_GRACE_SECONDS = 600
    examined(alice)
    _, sends = sweep(2024, 1, 28, 8, 0, deliver=False)
    Reminder.objects.filter(pk=sends[0]).update(claimed_at=vilnius(2024, 1, 28, 8, 1))
    result, again = sweep(2024, 1, 28, 8, 10, 30)  # the claim is 9.5 minutes old: alive
    assert sends[0] not in again
    result, again = sweep(2024, 1, 28, 8, 12)
    assert sends[0] in again
    assert Reminder.objects.get(pk=sends[0]).claimed_at is None


def test_it_stops_retrying_after_the_maximum_attempts(alice, sweep, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    examined(alice)
    examined(alice)
    _, sends = sweep(2024, 1, 28, 8, 0, deliver=False)
    Reminder.objects.filter(pk=sends[0]).update(attempts=3, last_error="SMTP 550")
    _, again = sweep(2024, 1, 29, 8, 0)
    assert again == [sends[1]]


def test_a_broker_that_does_not_answer_leaves_the_reminders_saved(
    alice, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    examined(alice)
    examined(alice)
    calls = []

    def broker_down(pk: int) -> None:
        calls.append(pk)
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    with at(2024, 1, 28, 8, 0), django_capture_on_commit_callbacks(execute=True):
        result = reminders.sweep(enqueue=broker_down, enqueue_digest=lambda *a: None)
    assert (result.created, result.enqueued) == (2, 0)
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 2
    assert len(calls) == 1  # it stops at the first failure; the next sweep sends the rest


def test_a_dry_run_writes_and_sends_nothing(alice, sweep):
    examined(alice)
    result, sends = sweep(2024, 1, 28, 8, 0, deliver=False, dry_run=True)
    assert {(p.rule, p.level) for p in result.planned} == {("examination", 14)}
    assert Reminder.objects.count() == 0
    assert sends == []


def test_a_sweep_of_one_case_leaves_the_others_alone(alice, sweep):
    first = examined(alice)
    examined(alice)
    sweep(2024, 1, 28, 8, 0, application_id=first.pk)
    assert {r.deadline.application_id for r in Reminder.objects.select_related("deadline")} == {
        first.pk
    }


# ---- the sample case ----------------------------------------------------------------------


def test_the_sample_case_is_history_and_reminds_nobody_until_brought_up_to_date(sweep):
    from accounts.models import Unit

    call_command("import_seed", verbosity=0)
    case = Application.objects.get(applicant__family_name="Korolev")
    assert case.recorded_as_of == D(2023, 8, 11)
    unit = Unit.objects.get(name="Migration Department, Asylum Division")
    head = on_duty(make_user("head", roles.DECISION_MAKER, unit))
    examination = Deadline.objects.get(application=case, rule="examination")
    assert examination.due_on == D(2024, 2, 11)
    result, sends = sweep(2024, 2, 12, 9, 0)
    assert (result.due, sends, made()) == (0, [], set())
    assert reminders.count_due(vilnius(2024, 2, 12, 9, 0)) == 0
    assert not reminders.digest_deadlines(head, vilnius(2024, 2, 12, 9, 0)).exists()
    # A caseworker takes it over and records the current facts: its clocks are live.
    with at(2024, 2, 12, 10, 0):
        workflow.bring_up_to_date(case, actor=head, reason="Facts checked with the file.")
    sweep(2024, 2, 12, 10, 5)
    assert Reminder.objects.filter(deadline=examination, level=0, recipient=head).exists()
    assert (
        Reminder.objects.count()
        == Deadline.objects.live()
        .filter(application=case, due_at__lt=vilnius(2024, 2, 12, 10, 5))
        .count()
    )


# ---- the command --------------------------------------------------------------------------


@pytest.fixture
def eager():
    """Tasks in-process, as without REDIS_URL (the setting is read at app configuration)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_the_command_shows_a_dry_run_and_changes_nothing(alice, dora):
    examined(alice)
    examined(alice)
    out = StringIO()
    with at(2024, 2, 12, 9, 0):
        call_command("sweep_deadlines", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "2 open deadlines inside a reminder window or overdue" in text
    assert "2 reminders would be sent" in text
    assert "examination" in text and "overdue" in text and "-> alice" in text
    assert Reminder.objects.count() == 0
    assert Notification.objects.count() == 0


def test_the_command_sweeps_and_sends_in_process_without_a_broker(
    alice, dora, eager, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    examined(alice)
    examined(alice)
    out = StringIO()
    with at(2024, 2, 12, 9, 0), django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_deadlines", stdout=out)
    assert "2 reminders created and sent in this process" in out.getvalue()
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 2
    assert Notification.objects.filter(kind="reminder").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.test", "alice@example.test"]
    out = StringIO()
    with at(2024, 2, 12, 9, 15), django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_deadlines", stdout=out)
    assert "0 reminders created" in out.getvalue()
    assert len(mail.outbox) == 2


class CtrlC(StringIO):
    """The command's stderr, where Ctrl-C is pressed as the first batch's progress line
    appears: KeyboardInterrupt is raised there, once, as the terminal's SIGINT would."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def write(self, text: str) -> int:
        written = super().write(text)
        if not self.pressed and "deadlines read" in text:
            self.pressed = True
            raise KeyboardInterrupt
        return written


def test_the_command_reports_progress_on_stderr_by_verbosity(alice, dora, eager, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 1)
    examined(alice)
    examined(alice, family_name="Petrov")
    err = StringIO()
    with at(2024, 2, 12, 9, 0):
        call_command("sweep_deadlines", "-v", "2", stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "Sweeping: 2 open deadlines to read ..."
    assert [line.split(" (")[0].strip() for line in lines[1:]] == [
        "1 of 2 deadlines read",
        "2 of 2 deadlines read",
    ]
    assert "2 due, 2 reminders created" in lines[-1]
    err = StringIO()
    with at(2024, 2, 12, 9, 5):
        call_command("sweep_deadlines", "-v", "0", stdout=StringIO(), stderr=err)
    assert err.getvalue() == ""


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_sweep_keeps_what_it_sent_and_a_second_run_sends_nothing_twice(
    alice, dora, eager, settings, monkeypatch
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    monkeypatch.setattr(reminders, "BATCH", 1)  # a batch per deadline: four batches
    for family_name in ("Korolev", "Petrov", "Ivanov", "Sidorov"):
        examined(alice, family_name=family_name)  # one examination limit each
    with at(2024, 2, 12, 9, 0), pytest.raises(CommandError) as caught:
        call_command("sweep_deadlines", stdout=StringIO(), stderr=CtrlC())
    assert caught.value.returncode == 130
    assert "nothing is sent twice" in str(caught.value)
    # The first batch was committed and its reminder sent; the rest were never made.
    assert Reminder.objects.count() == 1
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 1
    assert len(mail.outbox) == 1

    out = StringIO()
    with at(2024, 2, 12, 9, 5):
        call_command("sweep_deadlines", stdout=out, stderr=StringIO())
    assert "3 reminders created" in out.getvalue()
    made = list(Reminder.objects.values_list("deadline_id", "level", "recipient_id"))
    assert len(made) == len(set(made)) == 4
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 4
    assert Notification.objects.filter(kind="reminder").count() == 4
    assert len(mail.outbox) == 4
    sent_about = sorted(m.body for m in mail.outbox)
    assert len(set(sent_about)) == 4, sent_about
