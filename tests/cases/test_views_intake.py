"""Intake: one form creates the applicant and the application, after a duplicate check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases import workflow
from cases.models import Applicant, Application

pytestmark = pytest.mark.django_db

INTAKE = reverse("cases:intake")


def form_data(**overrides) -> dict:
    data = {
        "family_name": "Sokolov",
        "given_names": "Pavel",
        "name_original": "Павел Соколов",
        "aliases": "",
        "date_of_birth": "1990-04-02",
        "sex": "male",
        "nationality": "RU",
        "languages": "Russian",
        "military_status": "",
        "military_rank": "",
        "military_unit": "",
        "military_background": "",
        "procedure": "regular",
        "submitted_on": "2024-02-01",
        "lodged_on": "2024-02-02",
        "apprehended_on": "",
        "apprehension_place": "",
        "entered_on": "",
        "submission_place": "Vilnius",
        "submission_authority": "migration_department",
        "grounds": ["political_opinion", "military_service"],
        "claim_summary": "Refused mobilisation.",
    }
    data.update(overrides)
    return data


def test_the_form_offers_every_ground(client, alice):
    client.force_login(alice)
    response = client.get(INTAKE)
    assert response.status_code == 200
    html = response.content.decode()
    for value in Application.Ground.values:
        assert f'value="{value}"' in html
    assert 'type="date"' in html


def test_it_creates_applicant_and_application_in_status_submitted(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data())
    assert response.status_code == 302
    case = Application.objects.get()
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.status == "submitted"
    assert case.unit == alice.unit
    assert case.grounds == ["political_opinion", "military_service"]
    assert case.applicant.name_original == "Павел Соколов"
    assert case.events.filter(action="submit", actor=alice).exists()


def test_bad_input_is_shown_beside_the_field_and_kept(client, alice):
    client.force_login(alice)
    response = client.post(
        INTAKE, form_data(family_name="", submitted_on="2024-13-45", given_names="Keep me")
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "family_name" in errors and "submitted_on" in errors
    assert 'value="Keep me"' in response.content.decode()
    assert not Application.objects.exists() and not Applicant.objects.exists()


def test_a_workflow_error_is_shown_beside_the_field(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data(submitted_on="2024-02-01", lodged_on="2024-01-01"))
    assert response.status_code == 400
    assert response.context["form"].errors["lodged_on"]
    assert not Application.objects.exists() and not Applicant.objects.exists()


def test_it_refuses_dates_before_1900_or_in_the_future(client, alice):
    client.force_login(alice)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    response = client.post(
        INTAKE,
        form_data(
            date_of_birth="0104-04-02",
            submitted_on="1899-12-31",
            apprehended_on=tomorrow,
            lodged_on="",
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "1900" in errors["date_of_birth"][0]
    assert "1900" in errors["submitted_on"][0]
    assert errors["apprehended_on"] == ["This date is in the future."]
    assert not Application.objects.exists() and not Applicant.objects.exists()


def test_the_date_error_is_in_the_users_language(client, alice):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    response = client.post(INTAKE, form_data(date_of_birth="0104-04-02"))
    assert response.status_code == 400
    (message,) = response.context["form"].errors["date_of_birth"]
    assert "1900" in message and "check the year" not in message


def test_an_unknown_ground_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data(grounds=["race", "aliens"]))
    assert response.status_code == 400
    assert response.context["form"].errors["grounds"]


@pytest.fixture
def existing(alice):
    return workflow.submit_application(
        actor=alice,
        applicant_data={
            "family_name": "Sokolov",
            "given_names": "Pavel",
            "name_original": "Павел Соколов",
            "nationality": "RU",
        },
        submitted_on=dt.date(2023, 5, 1),
    )


def test_it_shows_possible_duplicates_before_saving(client, alice, existing):
    client.force_login(alice)
    # The same person typed in Cyrillic only, with another romanisation.
    response = client.post(INTAKE, form_data(family_name="Sokolow", name_original="Соколов"))
    assert response.status_code == 200
    duplicates = response.context["duplicates"]
    assert [d["pk"] for d in duplicates] == [existing.applicant_id]
    assert existing.reference in response.content.decode()
    # Sokolov's date of birth was never recorded: the box says so instead of "born ?".
    assert "born ?" not in response.content.decode()
    assert "date of birth not recorded" in response.content.decode()
    assert Application.objects.count() == 1  # nothing saved yet


def test_it_links_the_new_case_to_an_existing_applicant(client, alice, existing):
    client.force_login(alice)
    first = client.post(INTAKE, form_data())
    key = first.context["checked_key"]
    response = client.post(
        INTAKE,
        form_data(checked_key=key, applicant_choice=str(existing.applicant_id)),
    )
    assert response.status_code == 302
    assert Applicant.objects.count() == 1
    assert Application.objects.filter(applicant=existing.applicant).count() == 2


def test_it_registers_a_new_applicant_when_told_so(client, alice, existing):
    client.force_login(alice)
    key = client.post(INTAKE, form_data()).context["checked_key"]
    response = client.post(INTAKE, form_data(checked_key=key, applicant_choice="new"))
    assert response.status_code == 302
    assert Applicant.objects.count() == 2


def test_it_insists_on_a_choice_when_duplicates_exist(client, alice, existing):
    client.force_login(alice)
    key = client.post(INTAKE, form_data()).context["checked_key"]
    response = client.post(INTAKE, form_data(checked_key=key, applicant_choice="12345"))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Application.objects.count() == 1


def test_it_finds_duplicates_by_date_of_birth(client, alice):
    workflow.submit_application(
        actor=alice,
        applicant_data={"family_name": "Different", "date_of_birth": "1990-04-02"},
        submitted_on=dt.date(2023, 5, 1),
    )
    client.force_login(alice)
    response = client.post(INTAKE, form_data())
    assert response.status_code == 200
    assert response.context["duplicates"][0]["reasons"] == "same date of birth"


def test_it_never_shows_another_units_applicant_as_duplicate(client, alice, oscar):
    workflow.submit_application(
        actor=oscar,
        applicant_data={"family_name": "Sokolov", "given_names": "Pavel"},
        submitted_on=dt.date(2023, 5, 1),
    )
    client.force_login(alice)
    response = client.post(INTAKE, form_data())
    assert response.status_code == 302  # no visible duplicate: saved directly
    assert Applicant.objects.count() == 2


def test_an_administrator_is_told_why_they_cannot_open_cases(client, adam):
    client.force_login(adam)
    response = client.get(INTAKE)
    assert response.status_code == 200
    assert "Administrators read cases but do not open them" in response.content.decode()
    response = client.post(INTAKE, form_data())
    assert not Application.objects.exists()
