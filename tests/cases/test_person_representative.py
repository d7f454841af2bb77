"""The guardian or representative of an unaccompanied minor (issue 17) and its clock
(DOMAIN.md §3 row 20: under the APR within 15 days of the lodging, ⚠️ a default from a press
summary that administrators can change). Every date below is computed by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Deadline, DeadlineRule
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
VILNIUS = ZoneInfo("Europe/Vilnius")
RULE = "uam-representative-apr"


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def found_unaccompanied(case, actor, on: dt.date) -> Application:
    return workflow.record_vulnerability_assessment(
        case, actor=actor, assessed_on=on, categories=["unaccompanied_minor"], assessor="Dr. J."
    )


def appoint(case, actor, on: dt.date, name="Rasa Petraitytė") -> Application:
    return workflow.appoint_representative(
        case,
        actor=actor,
        name=name,
        organisation="SOS vaikų kaimai",
        appointed_on=on,
        appointed_by="Valstybės vaiko teisių apsaugos ir įvaikinimo tarnyba",
    )


def clock(case) -> Deadline:
    return Deadline.objects.get(application=case, rule=RULE)


def test_the_rule_row_cites_its_source_and_can_be_changed():
    rule = DeadlineRule.objects.get(code=RULE)
    assert (rule.duration, rule.unit, rule.roll_forward) == (15, "calendar_days", True)
    assert rule.applies_from == D(2026, 6, 12)
    assert "press summary" in rule.legal_source
    assert rule.is_active  # an ordinary rule row: the admin edits it like the others


def test_an_unaccompanied_minor_found_opens_the_clock_from_the_lodging(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
    assert not Deadline.objects.filter(application=case, rule=RULE)
    with at(2026, 6, 20, 10, 0):
        found_unaccompanied(case, alice, D(2026, 6, 20))
    # Lodged Monday 15 June 2026 + 15 days = Tuesday 30 June 2026.
    assert (clock(case).due_on, clock(case).status) == (D(2026, 6, 30), "open")
    with at(2026, 6, 25, 10, 0):
        appoint(case, alice, D(2026, 6, 25))
    assert clock(case).status == Deadline.Status.MET
    case.refresh_from_db()
    assert case.needs_representative() is False


def test_a_last_day_on_a_weekend_and_a_holiday_moves_to_the_next_working_day(alice):
    with at(2026, 6, 19, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 19), lodged_on=D(2026, 6, 19))
        found_unaccompanied(case, alice, D(2026, 6, 19))
    # Friday 19 June + 15 days = Saturday 4 July; Monday 6 July is Statehood Day:
    # Tuesday 7 July 2026.
    assert clock(case).due_on == D(2026, 7, 7)


def test_a_minor_found_before_the_lodging_gets_the_clock_at_the_lodging(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15))
    with at(2026, 6, 16, 10, 0):
        found_unaccompanied(case, alice, D(2026, 6, 16))
    assert not Deadline.objects.filter(application=case, rule=RULE)
    with at(2026, 6, 18, 10, 0):
        workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason="File opened"
        )
    # Lodged Thursday 18 June 2026 + 15 days = Friday 3 July 2026.
    assert clock(case).due_on == D(2026, 7, 3)


def test_the_age_assessment_of_an_unaccompanied_minor_opens_the_clock(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
    with at(2026, 6, 22, 10, 0):
        workflow.record_age_assessment(
            case,
            actor=alice,
            method="interview",
            assessed_on=D(2026, 6, 22),
            result="undetermined",
            benefit_of_doubt=True,
            unaccompanied=True,
        )
    assert (clock(case).due_on, clock(case).status) == (D(2026, 6, 30), "open")


def test_an_adult_found_by_the_age_assessment_cancels_the_clock(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        found_unaccompanied(case, alice, D(2026, 6, 15))
    with at(2026, 6, 22, 10, 0):
        workflow.record_age_assessment(
            case, actor=alice, method="medical", assessed_on=D(2026, 6, 22), result="adult"
        )
    assert clock(case).status == Deadline.Status.CANCELLED
    case.refresh_from_db()
    assert case.is_unaccompanied_minor() is False


def test_a_late_appointment_is_recorded_as_missed(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        found_unaccompanied(case, alice, D(2026, 6, 15))
    with at(2026, 7, 2, 10, 0):
        appoint(case, alice, D(2026, 7, 1))
    # Due Tuesday 30 June 2026, appointed Wednesday 1 July: one day late.
    assert clock(case).status == Deadline.Status.MISSED


def test_before_the_apr_no_representative_clock_runs(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
        found_unaccompanied(case, alice, D(2023, 9, 1))
    assert not Deadline.objects.filter(application=case, rule=RULE)


def test_the_event_copies_no_name(alice):
    with at(2026, 6, 25, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        appoint(case, alice, D(2026, 6, 25))
        appoint(case, alice, D(2026, 6, 25), name="Jonas Jonaitis")
    events = CaseEvent.objects.filter(application=case, action="representative_appointed")
    assert [e.data for e in events.order_by("pk")] == [
        {"appointed_on": "2026-06-25", "changed": False},
        {"appointed_on": "2026-06-25", "changed": True},
    ]
    case.refresh_from_db()
    assert case.representative_name == "Jonas Jonaitis"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"appointed_by": ""}, "appointed_by"),
        ({"appointed_on": D(2026, 6, 26)}, "appointed_on"),  # tomorrow
        ({"appointed_on": D(2026, 6, 14)}, "appointed_on"),  # before the application
        ({"organisation": "x" * 201}, "organisation"),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(alice, overrides, field):
    values = {
        "name": "Rasa Petraitytė",
        "organisation": "",
        "appointed_on": D(2026, 6, 25),
        "appointed_by": "VVTAĮT",
    }
    with at(2026, 6, 25, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        found_unaccompanied(case, alice, D(2026, 6, 15))
        with pytest.raises(ValidationError) as refused:
            workflow.appoint_representative(case, actor=alice, **{**values, **overrides})
    assert field in refused.value.message_dict
    case.refresh_from_db()
    assert (case.representative_name, case.representative_appointed_on) == ("", None)
    assert clock(case).status == Deadline.Status.OPEN


def test_the_case_page_asks_for_the_representative_and_records_it(client, alice):
    with at(2026, 6, 20, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        client.force_login(alice)
        detail = reverse("cases:detail", args=[case.pk])
        url = reverse("cases:action", args=[case.pk, "representative"])
        assert f'action="{url}"' not in client.get(detail).content.decode()
        found_unaccompanied(case, alice, D(2026, 6, 20))
        page = client.get(detail).content.decode()
        assert "not appointed yet: an unaccompanied minor needs a representative" in page
        assert f'action="{url}"' in page
        response = client.post(
            url,
            {
                "name": "Rasa Petraitytė",
                "organisation": "SOS vaikų kaimai",
                "appointed_on": "2026-06-19",
                "appointed_by": "VVTAĮT",
            },
        )
        assert response.status_code == 302
        page = client.get(detail).content.decode()
    assert "Rasa Petraitytė (SOS vaikų kaimai), appointed on 2026-06-19 by VVTAĮT" in page
    assert "Representative of the unaccompanied minor appointed on 2026-06-19" in page
    assert clock(case).status == Deadline.Status.MET


def test_the_form_refuses_a_future_date_with_a_clear_error(client, alice):
    with at(2026, 6, 20, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        found_unaccompanied(case, alice, D(2026, 6, 20))
        client.force_login(alice)
        response = client.post(
            reverse("cases:action", args=[case.pk, "representative"]),
            {"name": "Rasa", "appointed_on": "2026-06-21", "appointed_by": "VVTAĮT"},
        )
    assert response.status_code == 400
    assert "This date is in the future." in response.content.decode()
    assert clock(case).status == Deadline.Status.OPEN


def test_a_corrected_lodging_date_moves_the_clock(alice, root):
    with at(2026, 6, 22, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 15))
        found_unaccompanied(case, alice, D(2026, 6, 20))
        workflow.correct_record(
            case, actor=root, reason="Lodged on Friday", lodged_on=D(2026, 6, 19)
        )
    # Now lodged Friday 19 June 2026: due Tuesday 7 July 2026 (see above).
    assert clock(case).due_on == D(2026, 7, 7)
