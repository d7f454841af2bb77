"""The case page's forms for the procedures' records (issue 17): channelling, the
examination of admissibility, a missed interview, the vulnerability assessment, the Dublin
steps and a subsequent application, each through `cases:action` to its workflow verb."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Deadline
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def action(case: Application, name: str) -> str:
    return reverse("cases:action", args=[case.pk, name])


def page(client, case: Application) -> str:
    return client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_the_page_offers_the_procedure_records_of_an_undecided_case(client, alice):
    case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
    client.force_login(alice)
    html = page(client, case)
    for name in ("procedure", "interview_missed", "vulnerability", "dublin_start"):
        assert action(case, name) in html
    for name in ("dublin_request", "transfer", "subsequent", "admissibility_extension"):
        assert action(case, name) not in html


def test_it_channels_a_case_through_the_form(client, alice):
    with at(2024, 3, 20, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
        client.force_login(alice)
        response = client.post(
            action(case, "procedure"), {"procedure": "accelerated", "reason": "Safe country"}
        )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.procedure == "accelerated"
    assert Deadline.objects.filter(application=case, rule_id="examination-accelerated").exists()


def test_a_bad_procedure_is_a_form_error_and_changes_nothing(client, alice):
    case = submit(alice, submitted_on=D(2024, 3, 4))
    client.force_login(alice)
    for body in ({"procedure": "dublin", "reason": "x"}, {"procedure": "border", "reason": ""}):
        response = client.post(action(case, "procedure"), body)
        assert response.status_code == 400
    case.refresh_from_db()
    assert case.procedure == "regular"


def test_the_border_procedure_is_refused_for_an_unaccompanied_minor(client, alice):
    with at(2026, 9, 3, 10, 0):
        case = submit(alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 2))
        client.force_login(alice)
        response = client.post(
            action(case, "vulnerability"),
            {
                "assessed_on": "2026-09-03",
                "categories": ["unaccompanied_minor"],
                "assessor": "Dr. Petraitis",
            },
        )
        assert response.status_code == 302
        response = client.post(action(case, "procedure"), {"procedure": "border", "reason": "x"})
    assert response.status_code == 403
    assert "unaccompanied minor" in response.content.decode()
    case.refresh_from_db()
    assert (case.procedure, case.vulnerabilities) == ("regular", "unaccompanied_minor")


def test_the_admissibility_examination_is_extended_through_the_form(client, alice):
    with at(2026, 9, 10, 10, 0):
        case = submit(
            alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 2), procedure="admissibility"
        )
        client.force_login(alice)
        assert action(case, "admissibility_extension") in page(client, case)
        response = client.post(action(case, "admissibility_extension"), {"reason": "Complex"})
    assert response.status_code == 302
    # 2 September 2026 + 4 months = Saturday 2 January 2027: Monday 4 January 2027.
    extended = Deadline.objects.get(application=case, rule_id="inadmissibility-apr-extended")
    assert extended.due_on == D(2027, 1, 4)


def test_a_missed_interview_in_the_future_is_a_form_error(client, alice):
    with at(2024, 4, 10, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4))
        client.force_login(alice)
        response = client.post(action(case, "interview_missed"), {"missed_on": "2024-04-11"})
        assert response.status_code == 400
        assert "This date is in the future." in response.content.decode()
        response = client.post(action(case, "interview_missed"), {"missed_on": "2024-04-10"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.interview_missed_on == D(2024, 4, 10)


def test_the_dublin_steps_run_through_the_forms(client, alice):
    with at(2023, 3, 2, 10, 0):
        client.force_login(alice)
        case = submit(alice, submitted_on=D(2023, 3, 1), lodged_on=D(2023, 3, 2))
        response = client.post(action(case, "dublin_start"), {"reason": "Eurodac hit (PL)"})
        assert response.status_code == 302
    with at(2023, 4, 3, 10, 0):
        client.force_login(alice)
        assert action(case, "dublin_request") in page(client, case)
        response = client.post(
            action(case, "dublin_request"),
            {"kind": "take_charge", "requested_state": "PL", "sent_on": "2023-04-03"},
        )
        assert response.status_code == 302
    with at(2023, 5, 10, 10, 0):
        client.force_login(alice)
        html = page(client, case)
        assert action(case, "dublin_reply") in html
        assert action(case, "dublin_request") not in html
        response = client.post(
            action(case, "dublin_reply"), {"accepted": "yes", "replied_on": "2023-05-10"}
        )
        assert response.status_code == 302
    with at(2023, 6, 1, 10, 0):
        client.force_login(alice)
        response = client.post(
            action(case, "transfer_extension"), {"ground": "absconding", "reason": "Left"}
        )
        assert response.status_code == 302
        response = client.post(action(case, "transfer"), {"transferred_on": "2023-06-01"})
        assert response.status_code == 302
    case.refresh_from_db()
    assert (case.responsible_state, case.transfer_extension) == ("PL", "absconding")
    assert case.transferred_on == D(2023, 6, 1)
    assert Deadline.objects.get(application=case, rule_id="dublin-transfer-absconding").status == (
        Deadline.Status.MET
    )


def test_acceptance_by_default_before_the_limit_is_refused(client, alice):
    with at(2023, 4, 3, 10, 0):
        case = submit(
            alice, submitted_on=D(2023, 3, 1), lodged_on=D(2023, 3, 2), procedure="dublin"
        )
        workflow.send_dublin_request(
            case, actor=alice, kind="take_charge", requested_state="PL", sent_on=D(2023, 4, 3)
        )
    with at(2023, 5, 3, 10, 0):
        client.force_login(alice)
        response = client.post(action(case, "dublin_default"), {"confirm": "on"})
    assert response.status_code == 403
    with at(2023, 6, 5, 10, 0):
        client.force_login(alice)
        response = client.post(action(case, "dublin_default"), {"confirm": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    # The reply was due Saturday 3 June 2023 (Dublin III does not move it): accepted then.
    assert (case.dublin_reply, case.responsibility_determined_on) == (
        "accepted_by_default",
        D(2023, 6, 3),
    )


def test_a_subsequent_application_is_registered_from_the_ended_case(client, alice):
    with at(2024, 4, 15, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4))
        workflow.withdraw(
            case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
        )
        client.force_login(alice)
        assert action(case, "subsequent") in page(client, case)
        response = client.post(
            action(case, "subsequent"),
            {"submitted_on": "2024-04-15", "lodged_on": "2024-04-15", "reason": "New evidence"},
        )
    later = Application.objects.get(previous_application=case)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[later.pk])
    assert (later.procedure, later.applicant_id) == ("subsequent", case.applicant_id)
    assert CaseEvent.objects.get(application=later, action="submit").reason == "New evidence"


def test_a_subsequent_application_before_the_earlier_one_is_a_form_error(client, alice):
    with at(2024, 4, 15, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4))
        workflow.withdraw(
            case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
        )
        client.force_login(alice)
        response = client.post(
            action(case, "subsequent"), {"submitted_on": "2024-03-01", "reason": "New"}
        )
    assert response.status_code == 400
    assert not Application.objects.filter(previous_application=case).exists()


def test_another_unit_gets_404_from_every_procedure_record(client, alice, oscar):
    case = submit(alice, submitted_on=D(2024, 3, 4))
    client.force_login(oscar)
    for name in ("procedure", "vulnerability", "dublin_start", "subsequent"):
        assert client.post(action(case, name), {"reason": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.procedure == "regular"


def test_the_forms_are_labelled_in_lithuanian(client, alice):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    case = submit(alice, submitted_on=D(2024, 3, 4))
    client.force_login(alice)
    html = page(client, case)
    assert "Perkelti į procedūrą" in html
    assert "Įrašyti pažeidžiamumo vertinimą" in html
