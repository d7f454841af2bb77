"""Intake: the military block only for an applicant who states a military or
security-service background (a box and the server, no script); "Stateless" and "Nationality
unknown" are separate choices; an identity document can be recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases.models import Applicant, Application

pytestmark = pytest.mark.django_db

INTAKE = reverse("cases:intake")


def post(client, **extra):
    data = {
        "family_name": "Petrov",
        "given_names": "Oleg",
        "sex": "male",
        "procedure": "regular",
        "submitted_on": "2026-11-30",
        "submission_authority": "border_guard",
        "applicant_choice": "new",
        "military_asked": "1",
        **extra,
    }
    return client.post(INTAKE, data)


def test_the_military_block_is_folded_until_stated(client, alice):
    client.force_login(alice)
    html = client.get(INTAKE).content.decode()
    assert '<details class="details" id="military-details">' in html
    assert "The applicant states a military or security-service background" in html


def test_military_details_are_kept_when_stated(client, alice):
    client.force_login(alice)
    response = post(
        client,
        states_military_background="on",
        military_status="officer",
        military_rank="Lieutenant",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    applicant = Applicant.objects.get(family_name="Petrov")
    assert (applicant.military_status, applicant.military_rank) == ("officer", "Lieutenant")


def test_military_details_without_the_box_are_asked_about_not_dropped(client, alice):
    client.force_login(alice)
    response = post(client, military_rank="Lieutenant")
    assert response.status_code == 400
    assert "states_military_background" in response.context["form"].errors
    html = response.content.decode()
    assert 'id="military-details" open' in html
    assert 'value="Lieutenant"' in html
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("choice", "stateless", "shown"),
    [("stateless", True, "Stateless"), ("", False, "Nationality unknown")],
)
def test_stateless_and_unknown_nationality_are_apart(client, alice, choice, stateless, shown):
    client.force_login(alice)
    response = post(client, nationality=choice)
    assert response.status_code == 302
    applicant = Applicant.objects.get(family_name="Petrov")
    assert (str(applicant.nationality or ""), applicant.stateless) == ("", stateless)
    case = Application.objects.get()
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f"<dd>{shown}</dd>" in html


def test_an_identity_document_is_recorded_at_intake(client, alice):
    client.force_login(alice)
    response = post(
        client,
        id_document_type="passport",
        id_document_number="75 1234567",
        id_document_country="RU",
        id_document_expires_on="2030-05-01",
    )
    assert response.status_code == 302
    applicant = Applicant.objects.get(family_name="Petrov")
    assert applicant.id_document_type == "passport"
    assert applicant.id_document_number == "75 1234567"
    assert applicant.id_document_country.code == "RU"
    assert applicant.id_document_expires_on == dt.date(2030, 5, 1)
    case = Application.objects.get()
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Passport 75 1234567, Russia, valid until 2030-05-01" in html
