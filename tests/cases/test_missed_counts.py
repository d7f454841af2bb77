"""Missed deadlines by unit and day of closing (`cases.models.MissedCount`): what the triggers
keep must equal a count of the missed deadlines, whatever happens to them and their cases, and
the decision-makers' "missed in the last 30 days" read from it equals a count by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Application, Deadline, MissedCount, missed_count
from loadgen.loader import generate
from tests.cases.test_views_limits_missed import decided_late

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")


def counted() -> dict[tuple[int, dt.date], int]:
    rows = (
        Deadline.objects.filter(status="missed", closed_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=VILNIUS))
        .order_by()
        .values_list("application__unit_id", "day")
        .annotate(n=Count("*"))
    )
    return {(unit, day): n for unit, day, n in rows}


def stored() -> dict[tuple[int, dt.date], int]:
    rows = MissedCount.objects.exclude(deadlines=0)
    return {(r.unit_id, r.closed_day): r.deadlines for r in rows}


def test_counts_follow_misses_corrections_moves_and_deletes(alice, dora, other_unit):
    cases = [decided_late(alice, dora, days_ago=d) for d in (2, 9, 40)]
    assert counted()  # the test's own premise: late decisions missed their limits
    assert stored() == counted()
    today = timezone.localdate()
    assert missed_count(today - dt.timedelta(days=29), unit_id=alice.unit_id) == sum(
        n for (_unit, day), n in counted().items() if day >= today - dt.timedelta(days=29)
    )
    # Corrections by hand: closed on another day, no longer missed, another unit, deleted.
    missed = Deadline.objects.filter(status="missed").order_by("pk")
    first = missed.first()
    Deadline.objects.filter(pk=first.pk).update(closed_at=first.closed_at - dt.timedelta(days=5))
    assert stored() == counted()
    Deadline.objects.filter(pk=first.pk).update(status="met")
    assert stored() == counted()
    Deadline.objects.filter(pk=first.pk).update(status="missed")
    assert stored() == counted()
    Application.objects.filter(pk=cases[0].pk).update(unit=other_unit)
    assert stored() == counted()
    assert missed_count(today - dt.timedelta(days=29), unit_id=other_unit.pk) >= 1
    Deadline.objects.filter(pk=missed.last().pk).delete()
    assert stored() == counted()


def test_the_decision_makers_figure_is_read_from_the_stored_counts(client, alice, dora):
    decided_late(alice, dora, days_ago=3)
    decided_late(alice, dora, days_ago=45)  # too long ago to count
    today = timezone.localdate()
    expected = Deadline.objects.filter(
        status="missed",
        application__unit=dora.unit,
        closed_at__gte=dt.datetime.combine(today - dt.timedelta(days=29), dt.time(), VILNIUS),
    ).count()
    assert expected >= 1
    client.force_login(dora)
    client.get(reverse("cases:dashboard"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:dashboard"))
    assert response.context["missed_count"] == expected
    assert not [q for q in queries if "'missed'" in q["sql"]]  # no count of the deadlines


def test_generated_cases_are_counted(db):
    generate(200, seed=5)
    assert stored() == counted()


@pytest.mark.django_db(transaction=True)
def test_a_standalone_load_with_the_triggers_off_is_recounted():
    call_command("generate_cases", count=200, seed=5, verbosity=0)
    assert counted()
    assert stored() == counted()
    # and the triggers count again after the load
    deadline = Deadline.objects.filter(status="open").order_by("pk").first()
    Deadline.objects.filter(pk=deadline.pk).update(status="missed", closed_at=timezone.now())
    assert stored() == counted()
