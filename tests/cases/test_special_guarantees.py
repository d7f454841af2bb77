"""The special procedural guarantees read both assessments of the person (issue 17): a minor
found by the age assessment (or an undetermined age with the benefit of the doubt) has the
minors' guarantees without a "minor" category; an adult found by the age assessment overrides
the minor categories (and says so), and keeps every other category's guarantees."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import workflow
from cases.models import Application
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
VILNIUS = ZoneInfo("Europe/Vilnius")

LAST_RESORT = "Detention of a minor only as a last resort."
NO_BORDER = "No border procedure for an unaccompanied minor."
REPRESENTATIVE = "A representative for the unaccompanied minor."
ADAPT = (
    "Special procedural guarantees: adapt the interview and weigh the needs found in any "
    "decision on detention."
)
REVIEW = (
    "The age assessment found an adult, but the vulnerability assessment records a minor: "
    "the minors' guarantees do not apply; review the vulnerability assessment."
)


@pytest.fixture(autouse=True)
def _on_1_september_2023():
    with time_machine.travel(dt.datetime(2023, 9, 1, 10, 0, tzinfo=VILNIUS), tick=False):
        yield


def age(case, actor, result, *, benefit=False, unaccompanied=False) -> Application:
    return workflow.record_age_assessment(
        case,
        actor=actor,
        method="medical",
        assessed_on=D(2023, 9, 1),
        result=result,
        benefit_of_doubt=benefit,
        unaccompanied=unaccompanied,
    )


def vulnerable(case, actor, *categories: str) -> Application:
    return workflow.record_vulnerability_assessment(
        case, actor=actor, assessed_on=D(2023, 9, 1), categories=categories, assessor="R. Jonaitė"
    )


def guarantees(case) -> list[str]:
    return Application.objects.get(pk=case.pk).special_guarantees()


def test_a_minor_found_by_the_age_assessment_has_the_minors_guarantee(alice):
    case = submit(alice)
    assert guarantees(case) == []
    age(case, alice, "minor")
    assert guarantees(case) == [LAST_RESORT]


def test_the_benefit_of_the_doubt_for_an_unaccompanied_person_gives_the_full_guarantees(alice):
    case = submit(alice)
    age(case, alice, "undetermined", benefit=True, unaccompanied=True)
    assert guarantees(case) == [
        NO_BORDER,
        REPRESENTATIVE,
        "Detention only in exceptional circumstances, never in prison.",
    ]


def test_an_undetermined_age_without_the_benefit_of_the_doubt_gives_none(alice):
    case = submit(alice)
    age(case, alice, "undetermined", unaccompanied=True)
    assert guarantees(case) == []


def test_an_adult_found_overrides_the_minor_categories_and_says_so(alice):
    case = submit(alice)
    vulnerable(case, alice, "unaccompanied_minor", "disability")
    assert NO_BORDER in guarantees(case)
    age(case, alice, "adult")
    # The minors' guarantees go (as the representative's clock does), the disability's stay,
    # and the page says that the two assessments disagree.
    assert guarantees(case) == [REVIEW, ADAPT]


def test_an_adult_found_removes_nothing_else(alice):
    case = submit(alice)
    vulnerable(case, alice, "serious_illness")
    age(case, alice, "adult")
    assert guarantees(case) == [ADAPT]


def test_the_case_page_shows_guarantees_from_the_age_assessment_alone(client, alice):
    case = submit(alice)
    age(case, alice, "minor", unaccompanied=True)
    client.force_login(alice)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="special-guarantees"' in page
    assert NO_BORDER in page
    assert "Vulnerability assessment" not in page


def test_the_case_page_names_no_guarantees_for_an_adult(client, alice):
    case = submit(alice)
    age(case, alice, "adult")
    client.force_login(alice)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="special-guarantees"' not in page


def test_an_unaccompanied_minor_by_age_is_never_channelled_into_the_border_procedure(alice):
    case = submit(alice)
    age(case, alice, "minor", unaccompanied=True)
    with pytest.raises(workflow.TransitionForbidden, match="border procedure does not apply"):
        workflow.channel_procedure(case, actor=alice, procedure="border", reason="Border")
    assert Application.objects.get(pk=case.pk).procedure == "regular"


def test_an_adult_by_age_may_be_channelled_into_the_border_procedure(alice):
    case = submit(alice)
    vulnerable(case, alice, "unaccompanied_minor")
    age(case, alice, "adult")
    workflow.channel_procedure(case, actor=alice, procedure="border", reason="Border")
    assert Application.objects.get(pk=case.pk).procedure == "border"
