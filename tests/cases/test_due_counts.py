"""Deadlines by due day (`cases.models.DueCount`): what the triggers keep must equal a count
of the open deadlines of live cases, by unit, assignee and day, whatever happens to the
deadlines and their cases; the dashboard's overdue and due-soon figures read from it equal
a count of the deadlines themselves."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from cases import workflow
from cases.models import Application, Deadline, DeadlineRule, DueCount, due_counts
from loadgen.loader import generate
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
HOME = reverse("cases:dashboard")


def counted() -> dict[tuple[int, int, dt.date], int]:
    """The open deadlines of live cases by unit, assignee (0: nobody; -1: anyone) and day,
    by hand."""
    rows = (
        Deadline.objects.filter(status="open", application__recorded_as_of__isnull=True)
        .annotate(day=TruncDate("due_at", tzinfo=VILNIUS))
        .order_by()
        .values_list("application__unit_id", "application__assigned_to_id", "day")
        .annotate(n=Count("*"))
    )
    counts = {(unit, who or 0, day): n for unit, who, day, n in rows}
    for (unit, _who, day), n in list(counts.items()):  # and each unit's, whoever the assignee
        counts[unit, -1, day] = counts.get((unit, -1, day), 0) + n
    return counts


def stored() -> dict[tuple[int, int, dt.date], int]:
    rows = DueCount.objects.exclude(deadlines=0)
    return {(r.unit_id, r.assignee, r.due_day): r.deadlines for r in rows}


def by_hand(now, *, unit_id=None, assignee_id=None) -> tuple[int, int]:
    """Overdue at `now`, and due from `now` for 14 days, counted from the deadlines."""
    rows = Deadline.objects.filter(status="open", application__recorded_as_of__isnull=True)
    if unit_id is not None:
        rows = rows.filter(application__unit_id=unit_id)
    if assignee_id is not None:
        rows = rows.filter(application__assigned_to_id=assignee_id)
    overdue = rows.filter(due_at__lt=now).count()
    soon = rows.filter(due_at__gte=now, due_at__lt=now + dt.timedelta(days=14)).count()
    return overdue, soon


def assert_counts_right(users, units) -> None:
    assert stored() == counted()
    now = timezone.now()
    until = now + dt.timedelta(days=14)
    for unit in [*units, None]:
        assert due_counts(now, until, unit_id=unit, assignee_id=None) == by_hand(now, unit_id=unit)
        for user in users:
            assert due_counts(now, until, unit_id=unit, assignee_id=user.pk) == by_hand(
                now, unit_id=unit, assignee_id=user.pk
            )


def test_counts_follow_random_workflow_activity(alice, dora, oscar, unit, other_unit, pabrade):
    bob = make_user("bob", roles.CASEWORKER, unit)
    users, units = [alice, bob, oscar], [unit.pk, other_unit.pk]
    today = timezone.localdate()
    rng = random.Random(16)
    cases = [
        submit(alice, family_name=f"Petrov{n}", submitted_on=today - dt.timedelta(days=d))
        for n, d in enumerate((0, 1, 3, 10, 40, 200, 400, 700))
    ]
    assert Deadline.objects.filter(status="open").exists()  # the test's own premise
    assert_counts_right(users, units)

    def pick_open():
        open_ids = Application.objects.filter(pk__in=[c.pk for c in cases]).open()
        return open_ids.order_by("?").first()

    for _step in range(40):
        case = pick_open()
        if case is None:
            break
        action = rng.choice(
            ["assign", "assign", "unassign", "examine", "detain", "interview", "waive", "withdraw"]
        )
        if action == "assign":
            workflow.assign(case, actor=dora, assignee=rng.choice([alice, bob]))
        elif action == "unassign":
            workflow.assign(case, actor=dora, assignee=None)
        elif action == "examine" and case.status == "submitted":
            workflow.start_examination(
                case, actor=alice, expected_status="submitted", reason="Examine"
            )
        elif (
            action == "detain"
            and case.status == "examination"
            and pabrade.occupancy() < pabrade.capacity
        ):
            workflow.detain(
                case, actor=alice, expected_status="examination", reason="Risk of absconding",
                facility=pabrade, legal_basis="Law on the Legal Status of Aliens Art. 113",
                order_reference="SBGS-1",
            )  # fmt: skip
        elif action == "interview" and not case.interviewed_on and case.status != "submitted":
            workflow.record_interview(case, actor=alice, interviewed_on=today)
        elif action == "waive":
            deadline = Deadline.objects.filter(application=case, status="open").first()
            if deadline is not None:
                workflow.waive_deadline(deadline, actor=dora, reason="Not applicable")
        elif action == "withdraw" and case.status == "submitted":
            workflow.withdraw(
                case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
            )
        assert_counts_right(users, units)

    # Changes outside the workflow (a correction by hand) move the counts too: another
    # unit, history and live again, a moved and a deleted deadline.
    moved = Application.objects.filter(pk__in=[c.pk for c in cases], deadlines__status="open")
    moved = moved.order_by("pk").first()
    Application.objects.filter(pk=moved.pk).update(unit=other_unit, assigned_to=oscar)
    assert_counts_right(users, units)
    Application.objects.filter(pk=moved.pk).update(recorded_as_of=dt.date(2023, 8, 11))
    assert_counts_right(users, units)
    workflow.bring_up_to_date(moved, actor=oscar, reason="Current facts recorded")
    assert_counts_right(users, units)
    deadline = Deadline.objects.filter(status="open").order_by("pk").first()
    Deadline.objects.filter(pk=deadline.pk).update(due_at=deadline.due_at + dt.timedelta(days=3))
    assert_counts_right(users, units)
    Deadline.objects.filter(pk=deadline.pk).delete()
    assert_counts_right(users, units)


def test_the_days_of_now_and_of_the_horizon_are_cut_at_the_moment(alice, dora, oscar):
    """A limit counted in hours falls due within a day: before now it is overdue, at or after
    it still to come, whatever the day's stored count says (today's row is split at now, the
    horizon's day at the horizon); the same moments on the cases of another assignee and of
    another unit count only in their own figures."""
    mine = submit(alice, submitted_on=timezone.localdate())
    workflow.assign(mine, actor=dora, assignee=alice)
    unassigned = submit(alice, family_name="Petrova", submitted_on=timezone.localdate())
    elsewhere = submit(oscar, submitted_on=timezone.localdate())
    now = timezone.now()
    until = now + dt.timedelta(days=14)
    today = dt.datetime.combine(timezone.localdate(now), dt.time.min, tzinfo=VILNIUS)
    moments = (
        today,  # the first moment of today
        now - dt.timedelta(minutes=1),
        now,
        now + dt.timedelta(minutes=1),
        today + dt.timedelta(days=1, microseconds=-1),  # the end of today
        until - dt.timedelta(minutes=1),
        until,
        until + dt.timedelta(minutes=1),
    )
    for case in (mine, unassigned, elsewhere):
        taken = Deadline.objects.filter(application=case, status="open").values("rule")
        rules = DeadlineRule.objects.exclude(code__in=taken).order_by("code")[: len(moments)]
        for rule, moment in zip(rules, moments, strict=True):
            Deadline.objects.create(
                application=case,
                rule=rule,
                starts_at=now - dt.timedelta(days=1),
                due_on=timezone.localdate(moment),
                due_at=moment,
                legal_reference="Test",
            )
    assert stored() == counted()
    for scope in (
        {"unit_id": alice.unit_id, "assignee_id": alice.pk},
        {"unit_id": alice.unit_id, "assignee_id": None},
        {"unit_id": oscar.unit_id, "assignee_id": None},
        {"unit_id": None, "assignee_id": None},
    ):
        overdue, soon = by_hand(now, **scope)
        assert due_counts(now, until, **scope) == (overdue, soon), scope
        assert overdue >= 2
        assert soon >= 4


def parallel_workers(cursor) -> str:
    cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
    return cursor.fetchone()[0]


def test_the_cut_days_are_read_without_parallel_workers(alice):
    """The part of today before now is a handful of deadlines that the planner, spreading a
    day's deadlines evenly over it, expects by the thousand by midday: it would start a
    parallel worker (5 ms) for them. They are read with parallel plans off, and the
    setting of the transaction around is put back afterwards."""
    from django.db import connection

    submit(alice, submitted_on=timezone.localdate())
    seen: list[str] = []

    def watch(execute, sql, params, many, context):
        if '"cases_deadline"."due_at" AS "due_at"' in sql:
            with context["connection"].cursor() as cursor:
                seen.append(parallel_workers(cursor))
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 3")
        now = timezone.now()
        with connection.execute_wrapper(watch):
            due_counts(now, now + dt.timedelta(days=14), unit_id=alice.unit_id, assignee_id=None)
        assert seen == ["0"]
        assert parallel_workers(cursor) == "3"


def test_the_dashboard_figures_equal_the_deadlines_due(client, alice, dora, oscar):
    today = timezone.localdate()
    for n, days_ago in enumerate((0, 2, 30, 500)):
        case = submit(alice, family_name=f"Petrov{n}", submitted_on=today - dt.timedelta(days_ago))
        if n % 2:
            workflow.assign(case, actor=dora, assignee=alice)
    submit(oscar, submitted_on=today - dt.timedelta(days=500))  # another unit's
    now = timezone.now()
    for user, scope in ((alice, {"assignee_id": alice.pk}), (dora, {"unit_id": alice.unit_id})):
        client.force_login(user)
        context = client.get(HOME).context
        overdue, soon = by_hand(now, **scope)
        assert overdue > 0
        assert (context["overdue_count"], context["soon_count"]) == (overdue, soon)


def test_generated_cases_are_counted(db):
    generate(200, seed=5)
    assert stored() == counted()
    assert counted()


@pytest.mark.django_db(transaction=True)
def test_a_standalone_load_with_the_triggers_off_is_recounted():
    call_command("generate_cases", count=200, seed=5, verbosity=0)
    assert counted()
    assert stored() == counted()
    # and the triggers count again after the load
    deadline = Deadline.objects.filter(status="open").order_by("pk").first()
    Deadline.objects.filter(pk=deadline.pk).update(status="met", closed_at=timezone.now())
    assert stored() == counted()
