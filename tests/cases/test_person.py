"""The person behind the case: the vulnerability assessment (DOMAIN.md §3 row 19), its clock
under the APR, its guarantees on the case page, and its retention. Dates by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Deadline
from cases.retention import APPLICATION_TEXT
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
VILNIUS = ZoneInfo("Europe/Vilnius")


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def assess(case, alice, *, on, categories=("unaccompanied_minor",)) -> Application:
    return workflow.record_vulnerability_assessment(
        case, actor=alice, assessed_on=on, categories=categories, assessor="Dr. R. Jonaitė"
    )


def test_under_the_apr_the_assessment_is_due_30_days_after_making(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15))
    limit = Deadline.objects.get(application=case, rule="vulnerability-assessment-apr")
    # Made Monday 15 June 2026 + 30 days = Wednesday 15 July 2026.
    assert limit.due_on == D(2026, 7, 15)
    with at(2026, 7, 1, 10, 0):
        assess(case, alice, on=D(2026, 7, 1))
    limit.refresh_from_db()
    assert limit.status == Deadline.Status.MET


def test_before_the_apr_no_assessment_clock_runs(alice):
    with at(2026, 6, 11, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 11))
    assert not Deadline.objects.filter(application=case, rule="vulnerability-assessment-apr")


def test_the_event_does_not_copy_the_categories(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        assess(case, alice, on=D(2023, 9, 1), categories=["serious_violence", "mental_disorder"])
    event = CaseEvent.objects.get(application=case, action="vulnerability_assessed")
    assert event.data == {"assessed_on": "2023-09-01", "categories": 2}
    case.refresh_from_db()
    assert case.vulnerabilities == "mental_disorder,serious_violence"


def test_it_refuses_unknown_categories_and_future_dates(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(ValidationError) as refused:
            assess(case, alice, on=D(2023, 9, 2), categories=["tall"])
    assert set(refused.value.message_dict) == {"categories", "assessed_on"}


def test_it_refuses_an_outsider(alice, oscar):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(workflow.TransitionForbidden):
            assess(case, oscar, on=D(2023, 9, 1))


def test_the_case_page_shows_the_assessment_and_its_guarantees(client, alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        assess(case, alice, on=D(2023, 9, 1))
        client.force_login(alice)
        # The categories are special-category data: shown after a recorded reveal.
        client.post(reverse("cases:reveal", args=[case.pk]))
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Unaccompanied minor" in page
    assert "No border procedure for an unaccompanied minor." in page
    assert "Vulnerability assessed on 2023-09-01" in page


def test_retention_redacts_the_assessment():
    assert {"vulnerabilities", "vulnerability_assessor"} <= set(APPLICATION_TEXT)
