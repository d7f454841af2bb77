"""Earlier cases of the same person: the case page lists the applicant's other cases (those
the user may read), and intake says when it linked a new case to an existing applicant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases import workflow
from cases.models import Application
from tests.cases.test_views_intake import INTAKE, form_data
from tests.conftest import decide, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_case(alice, dora):
    """Korolev's first application, examined and rejected."""
    case = submit(alice, submitted_on=dt.date(2023, 3, 1))
    workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    return decide(case, alice, dora, outcome="rejected", decided_on=dt.date(2023, 6, 1))


@pytest.fixture
def second_case(alice, first_case):
    """A subsequent application by the same person."""
    return workflow.submit_application(
        actor=alice, applicant=first_case.applicant, submitted_on=dt.date(2023, 8, 11)
    )


def other_cases(client, case) -> list[dict]:
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    return response.context["other_cases"]


def test_the_case_page_lists_the_applicants_other_case(client, alice, first_case, second_case):
    client.force_login(alice)
    rows = other_cases(client, second_case)
    assert [(r["reference"], r["status_label"], r["outcome"]) for r in rows] == [
        (first_case.reference, "Decided", "Rejected as unfounded")
    ]
    html = client.get(reverse("cases:detail", args=[second_case.pk])).content.decode()
    assert "Other cases of this applicant" in html
    assert f'href="{reverse("cases:detail", args=[first_case.pk])}"' in html

    # And the other way round; the case itself is never among its "other" cases.
    rows = other_cases(client, first_case)
    assert [(r["reference"], r["status_label"], r["outcome"]) for r in rows] == [
        (second_case.reference, "Submitted", "")
    ]


def test_a_case_of_its_own_shows_no_panel(client, alice, case):
    client.force_login(alice)
    assert other_cases(client, case) == []
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Other cases of this applicant" not in html


def test_another_units_case_of_the_same_person_is_not_shown(client, alice, oscar, case):
    foreign = workflow.submit_application(
        actor=oscar, applicant=case.applicant, submitted_on=dt.date(2023, 9, 1)
    )
    client.force_login(alice)
    assert other_cases(client, case) == []
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert foreign.reference not in html


def test_an_administrator_sees_every_units_other_cases(client, adam, alice, oscar, case):
    foreign = workflow.submit_application(
        actor=oscar, applicant=case.applicant, submitted_on=dt.date(2023, 9, 1)
    )
    client.force_login(adam)
    assert [r["reference"] for r in other_cases(client, case)] == [foreign.reference]


def test_intake_says_when_it_linked_to_an_existing_applicant(client, alice, dora):
    existing = workflow.submit_application(
        actor=alice,
        applicant_data={
            "family_name": "Sokolov",
            "given_names": "Pavel",
            "name_original": "Павел Соколов",
            "nationality": "RU",
        },
        submitted_on=dt.date(2023, 5, 1),
    )
    client.force_login(alice)
    key = client.post(INTAKE, form_data()).context["checked_key"]
    response = client.post(
        INTAKE,
        form_data(checked_key=key, applicant_choice=str(existing.applicant_id)),
        follow=True,
    )
    new = Application.objects.exclude(pk=existing.pk).get()
    text = response.content.decode()
    assert (
        f"Case {new.reference} is registered and linked to the existing applicant "
        "Pavel SOKOLOV" in text
    )
    assert [r["reference"] for r in response.context["other_cases"]] == [existing.reference]


def test_intake_of_a_new_applicant_says_only_registered(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data(), follow=True)
    case = Application.objects.get()
    text = response.content.decode()
    assert f"Case {case.reference} is registered." in text
    assert "linked to the existing applicant" not in text
