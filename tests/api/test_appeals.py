"""The API's case answer carries the case's appeals, each level with its facts (read-only:
appeals are lodged and judged through the workflow)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases import workflow

pytestmark = pytest.mark.django_db


def test_the_case_lists_its_appeals_read_only(api_as, alice, build_case):
    case = workflow.appeal(
        build_case("decided"),
        actor=alice,
        expected_status="decided",
        reason="Appeal lodged",
        court="Vilnius Regional Administrative Court",
        court_case_number="eI3-1234-567/2024",
        lodged_on=dt.date(2024, 1, 20),
        suspensive_effect="requested",
    )
    workflow.record_judgment(case, actor=alice, judgment_on=dt.date(2026, 3, 2), outcome="upheld")
    answer = api_as(alice).get(reverse("api:case", args=[case.pk])).json()
    [appeal] = answer["appeals"]
    assert appeal["level"] == "first"
    assert appeal["level_label"] == "Regional administrative court (first instance)"
    assert appeal["court_case_number"] == "eI3-1234-567/2024"
    assert (appeal["lodged_on"], appeal["judgment_on"]) == ("2024-01-20", "2026-03-02")
    assert (appeal["outcome"], appeal["suspensive_effect"]) == ("upheld", "requested")
    assert "appeal_court" not in answer
