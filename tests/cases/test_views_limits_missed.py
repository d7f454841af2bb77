"""Missed limits stay visible after a decision: the case page's "Limits missed" summary and
the decision-maker's dashboard count of the limits missed in the last 30 days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import workflow
from cases.models import Deadline
from tests.conftest import submit

pytestmark = pytest.mark.django_db


def decided_late(alice, dora, *, days_ago: int):
    """A case submitted 200 days before its decision: the 6-month examination limit is met
    late, `days_ago` days ago."""
    decided_on = timezone.localdate() - dt.timedelta(days=days_ago)
    submitted_on = decided_on - dt.timedelta(days=200)
    case = submit(alice, submitted_on=submitted_on, lodged_on=submitted_on)
    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    workflow.record_interview(case, actor=alice, interviewed_on=decided_on)
    return workflow.decide(
        case,
        actor=dora,
        expected_status="examination",
        reason="Assessed",
        outcome="rejected",
        decided_on=decided_on,
    )


def test_the_case_page_sums_up_the_limits_missed_after_a_decision(client, alice, dora):
    case = decided_late(alice, dora, days_ago=3)
    client.force_login(alice)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    summary = response.context["limits_missed"]
    rows = {row["name"]: row["text"] for row in summary}
    assert "Examination period" in rows
    assert rows["Examination period"].startswith("missed: due ")
    assert rows["Examination period"].endswith("days late)")
    assert "Registration of the application (APR)" not in rows  # lodged in time
    html = response.content.decode()
    assert 'id="limits-missed"' in html
    assert "Limits missed" in html


def test_a_case_that_kept_its_limits_shows_no_summary(client, alice, dora):
    decided_on = timezone.localdate() - dt.timedelta(days=3)
    submitted_on = decided_on - dt.timedelta(days=20)
    case = submit(alice, submitted_on=submitted_on, lodged_on=submitted_on)
    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    workflow.record_interview(case, actor=alice, interviewed_on=decided_on)
    workflow.decide(
        case,
        actor=dora,
        expected_status="examination",
        reason="Assessed",
        outcome="rejected",
        decided_on=decided_on,
    )
    client.force_login(alice)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.context["limits_missed"] == []
    assert 'id="limits-missed"' not in response.content.decode()


def test_the_decision_makers_dashboard_counts_misses_of_the_last_30_days(client, alice, dora):
    recent = [decided_late(alice, dora, days_ago=3), decided_late(alice, dora, days_ago=10)]
    decided_late(alice, dora, days_ago=45)  # too long ago to count
    expected = Deadline.objects.filter(application__in=recent, status="missed").count()
    assert expected >= 2
    client.force_login(dora)
    response = client.get(reverse("cases:dashboard"))
    assert response.context["missed_count"] == expected
    assert "missed in the last 30 days" in response.content.decode()


def test_a_caseworkers_dashboard_has_no_miss_count(client, alice, dora):
    decided_late(alice, dora, days_ago=3)
    client.force_login(alice)
    response = client.get(reverse("cases:dashboard"))
    assert response.context["missed_count"] is None
    assert "missed in the last" not in response.content.decode()


def test_misses_of_another_unit_are_not_counted(client, alice, dora, oscar):
    decided_late(alice, dora, days_ago=3)
    from tests.conftest import make_user

    other_decider = make_user("olga", "decision_maker", oscar.unit)
    client.force_login(other_decider)
    assert client.get(reverse("cases:dashboard")).context["missed_count"] == 0
