"""The clocks as the law reads them (DOMAIN.md §3, "How the clocks are read", "Applicability
dates"): the 48 hours from apprehension, APR periods rolled off weekends and holidays, the
examination from lodging (APR) or from the determination of responsibility (Dublin), appeal
windows by decision and procedure, the right to work as an entitlement, and each rule
family's rule set chosen by its own key date, recorded on the deadline.

Every expected date is written out by hand (with the calendar reasoning beside it), never
computed with Haven's own functions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Deadline, DeadlineRule
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def at(*args: int):
    return time_machine.travel(vilnius(*args), tick=False)


def deadline(case: Application, code: str) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def codes(case: Application) -> set[str]:
    return set(Deadline.objects.filter(application=case).values_list("rule_id", flat=True))


def detain(case: Application, alice, facility) -> Application:
    return workflow.detain(
        case,
        actor=alice,
        expected_status=case.status,
        reason="Risk of absconding",
        facility=facility,
        legal_basis="Law on the Legal Status of Aliens Art. 113",
        order_reference="SBGS-1",
    )


def examine(alice, **extra) -> Application:
    case = submit(alice, **extra)
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def decide_and_serve(case, alice, dora, *, outcome, on: dt.date, **extra) -> Application:
    """Interview, decision and service, all on `on` (now is frozen on that day)."""
    workflow.record_interview(case, actor=alice, interviewed_on=case.submitted_on)
    case.refresh_from_db()
    return workflow.decide(
        case,
        actor=dora,
        expected_status=case.status,
        reason="Assessed",
        outcome=outcome,
        decided_on=on,
        served_on=on,
        **extra,
    )


# ---- 1. the 48 hours run from the apprehension ---------------------------------------------


def test_the_sample_cases_court_order_limit_ends_48_hours_after_the_apprehension():
    call_command("import_seed", verbosity=0)
    case = Application.objects.get(applicant__family_name="Korolev")
    limit = deadline(case, "detention-48h")
    # Apprehended on 10 August 2023 (time unknown: 12:00 Vilnius), detained on the 11th:
    # the limit ends on 12 August at 12:00, not 48 hours after the detention (13 August).
    assert limit.starts_at == vilnius(2023, 8, 10, 12, 0)
    assert limit.due_at == vilnius(2023, 8, 12, 12, 0)
    assert limit.due_on == D(2023, 8, 12)


def test_a_known_moment_of_apprehension_starts_the_48_hours(alice, pabrade):
    with at(2023, 8, 11, 9, 0):
        case = examine(
            alice,
            apprehended_on=D(2023, 8, 10),
            apprehended_at=vilnius(2023, 8, 10, 21, 30),
        )
        detain(case, alice, pabrade)
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 12, 21, 30)


def test_a_moment_of_apprehension_alone_gives_the_day_of_apprehension(alice):
    with at(2023, 8, 11, 9, 0):
        case = submit(alice, apprehended_at=vilnius(2023, 8, 10, 0, 30))
    # 00:30 in Vilnius on the 10th is still the 9th in UTC: the legal day is Vilnius's.
    assert case.apprehended_on == D(2023, 8, 10)


def test_it_refuses_a_moment_of_apprehension_on_another_day(alice):
    with at(2023, 8, 11, 9, 0), pytest.raises(ValidationError) as refused:
        submit(alice, apprehended_on=D(2023, 8, 9), apprehended_at=vilnius(2023, 8, 10, 8, 0))
    assert "apprehended_at" in refused.value.message_dict
    assert not Application.objects.exists()


def test_correcting_the_moment_of_apprehension_re_dates_the_48_hours(alice, root, pabrade):
    with at(2023, 8, 11, 9, 0):
        case = examine(alice, apprehended_on=D(2023, 8, 10))
        detain(case, alice, pabrade)
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 12, 12, 0)
    with at(2023, 8, 11, 10, 0):
        workflow.correct_record(
            case,
            actor=root,
            reason="The arrest report gives the time.",
            apprehended_at=vilnius(2023, 8, 10, 7, 15),
        )
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 12, 7, 15)


# ---- 2. APR periods in days roll forward off weekends and holidays ------------------------


def test_apr_registration_of_19_june_2026_is_due_on_25_june_not_on_the_holiday(alice):
    with at(2026, 6, 19, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 19))
    # Friday 19 June + 5 days = Wednesday 24 June, St John's Day (a public holiday):
    # Regulation 1182/71 Art. 3(4) moves the end to Thursday 25 June.
    assert deadline(case, "registration-apr").due_on == D(2026, 6, 25)


# ---- 3. the examination runs from lodging (APR) or from responsibility (Dublin) -----------


def test_an_apr_case_is_examined_within_six_months_of_lodging_not_of_making(alice):
    with at(2026, 7, 8, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 7, 8))
    assert "examination" not in codes(case)
    # Lodged on Wednesday 8 July 2026: six months later is Friday 8 January 2027.
    assert deadline(case, "examination-apr").due_on == D(2027, 1, 8)
    assert deadline(case, "examination-apr").starts_at == vilnius(2026, 7, 8, 12, 0)


def test_an_apr_case_not_yet_lodged_has_no_examination_clock_until_it_is(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 15))
    assert not codes(case) & {"examination", "examination-apr"}
    with at(2026, 7, 1, 9, 0):
        workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    # Lodged on 1 July 2026: six months later is Friday 1 January 2027, New Year's Day, then
    # a weekend: the period ends on Monday 4 January 2027 (Regulation 1182/71 Art. 3(4)).
    assert deadline(case, "examination-apr").due_on == D(2027, 1, 4)


def test_a_case_made_before_the_apr_keeps_six_months_from_making(alice):
    with at(2026, 6, 20, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 11), lodged_on=D(2026, 6, 20))
    assert "examination-apr" not in codes(case)
    assert deadline(case, "examination").due_on == D(2026, 12, 11)


def test_a_dublin_cases_examination_runs_from_the_determination_of_responsibility(alice):
    with at(2023, 3, 1, 10, 0):
        case = submit(alice, submitted_on=D(2023, 3, 1), procedure="dublin")
    # No examination clock from the making of the application while responsibility is open.
    assert not codes(case) & {"examination", "examination-apr", "examination-dublin"}
    with at(2023, 5, 15, 10, 0):
        workflow.determine_responsibility(
            case, actor=alice, determined_on=D(2023, 5, 15), responsible_state="LT"
        )
    examination = deadline(case, "examination-dublin")
    assert examination.due_on == D(2023, 11, 15)
    assert examination.legal_reference.startswith("Directive 2013/32/EU Art. 31(3)")
    event = CaseEvent.objects.get(application=case, action="responsibility_determined")
    assert event.data == {"determined_on": "2023-05-15", "responsible_state": "LT"}


def test_another_member_state_responsible_opens_no_examination_here(alice):
    with at(2023, 5, 15, 10, 0):
        case = submit(alice, submitted_on=D(2023, 3, 1), procedure="dublin")
        workflow.determine_responsibility(
            case, actor=alice, determined_on=D(2023, 5, 15), responsible_state="PL"
        )
    assert "examination-dublin" not in codes(case)
    case.refresh_from_db()
    assert case.responsible_state == "PL"


def test_it_refuses_responsibility_outside_the_dublin_procedure(alice):
    with at(2023, 5, 15, 10, 0):
        case = submit(alice, submitted_on=D(2023, 3, 1))
        with pytest.raises(workflow.TransitionForbidden):
            workflow.determine_responsibility(
                case, actor=alice, determined_on=D(2023, 5, 15), responsible_state="LT"
            )


def test_it_refuses_responsibility_for_an_outsider(alice, oscar):
    with at(2023, 5, 15, 10, 0):
        case = submit(alice, submitted_on=D(2023, 3, 1), procedure="dublin")
        with pytest.raises(workflow.TransitionForbidden):
            workflow.determine_responsibility(
                case, actor=oscar, determined_on=D(2023, 5, 15), responsible_state="LT"
            )
    assert not CaseEvent.objects.filter(action="responsibility_determined").exists()


# ---- 4. appeal windows by decision and procedure ------------------------------------------


@pytest.mark.parametrize(
    ("procedure", "outcome", "extra", "rule", "due"),
    [
        # Served Wednesday 1 July 2026 + 14 days = Wednesday 15 July.
        ("regular", "rejected", {}, "appeal-window-apr", D(2026, 7, 15)),
        ("regular", "refugee_status", {}, "appeal-window-apr", D(2026, 7, 15)),
        # + 7 days = Wednesday 8 July.
        ("accelerated", "rejected", {}, "appeal-window-apr-accelerated", D(2026, 7, 8)),
        ("border", "manifestly_unfounded", {}, "appeal-window-apr-accelerated", D(2026, 7, 8)),
        (
            "regular",
            "inadmissible",
            {"inadmissibility_ground": "safe_third_country"},
            "appeal-window-apr-short",
            D(2026, 7, 8),
        ),
        ("regular", "discontinued", {}, "appeal-window-apr-short", D(2026, 7, 8)),
    ],
)
def test_an_apr_appeal_window_depends_on_the_decision_and_the_procedure(
    alice, dora, procedure, outcome, extra, rule, due
):
    with at(2026, 7, 1, 10, 0):
        case = examine(
            alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 16), procedure=procedure
        )
        decide_and_serve(case, alice, dora, outcome=outcome, on=D(2026, 7, 1), **extra)
    windows = Deadline.objects.filter(application=case, rule__start_event="served")
    assert [(w.rule_id, w.due_on) for w in windows] == [(rule, due)]


def test_a_seven_day_window_ending_on_a_holiday_moves_to_the_next_working_day(alice, dora):
    with at(2026, 6, 29, 10, 0):
        case = examine(alice, submitted_on=D(2026, 6, 15), lodged_on=D(2026, 6, 16))
        decide_and_serve(
            case,
            alice,
            dora,
            outcome="inadmissible",
            on=D(2026, 6, 29),
            inadmissibility_ground="first_country_of_asylum",
        )
    # Monday 29 June + 7 days = Monday 6 July, Statehood Day: Tuesday 7 July.
    assert deadline(case, "appeal-window-apr-short").due_on == D(2026, 7, 7)


def test_a_case_made_before_the_apr_keeps_the_national_14_days_from_service(alice, dora):
    with at(2026, 7, 1, 10, 0):
        case = examine(
            alice, submitted_on=D(2026, 6, 1), lodged_on=D(2026, 6, 2), procedure="accelerated"
        )
        decide_and_serve(case, alice, dora, outcome="rejected", on=D(2026, 7, 1))
    windows = Deadline.objects.filter(application=case, rule__start_event="served")
    assert [(w.rule_id, w.due_on) for w in windows] == [("appeal-window", D(2026, 7, 15))]


# ---- 5. the right to work is an entitlement, never missed ---------------------------------


def test_the_sample_case_may_work_from_11_february_2024(client, alice):
    call_command("import_seed", verbosity=0)
    case = Application.objects.get(applicant__family_name="Korolev")
    right = deadline(case, "right-to-work")
    assert right.status == Deadline.Status.ENTITLEMENT
    assert right.due_on == D(2024, 2, 11)
    Application.objects.filter(pk=case.pk).update(recorded_as_of=None, unit=alice.unit)
    assert right not in Deadline.objects.overdue()
    client.force_login(alice)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    rows = [r for r in response.context["open_deadlines"] if r["pk"] == right.pk]
    assert [(r["days_text"], r["overdue"]) for r in rows] == [("may work from 2024-02-11", False)]
    assert "may work from 2024-02-11" in response.content.decode()


def test_a_decision_after_the_date_ends_a_right_that_began_never_missed(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 3, 1, 10, 0):
        workflow.record_interview(case, actor=alice, interviewed_on=D(2023, 9, 1))
        case.refresh_from_db()
        workflow.decide(
            case,
            actor=dora,
            expected_status="examination",
            reason="Assessed",
            outcome="rejected",
            decided_on=D(2024, 3, 1),
        )
    assert deadline(case, "examination").status == Deadline.Status.MISSED
    assert deadline(case, "right-to-work").status == Deadline.Status.MET
    assert not Deadline.objects.filter(rule="right-to-work", status="missed").exists()


def test_the_right_to_work_is_not_the_cases_nearest_deadline(alice):
    DeadlineRule.objects.filter(code="examination").update(is_active=False)
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
    case.refresh_from_db()
    assert case.next_deadline_at is None  # only the entitlement runs: nothing is due
    assert deadline(case, "right-to-work").status == Deadline.Status.ENTITLEMENT


# ---- 6. each family's rule set by its own key date, recorded on the deadline -------------


def test_the_deadline_records_the_date_that_chose_its_rule(alice):
    with at(2026, 6, 19, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 19))
    registration = deadline(case, "registration-apr")
    assert (registration.rule_set_key, registration.rule_set_date) == ("made", D(2026, 6, 19))


def test_a_family_keyed_on_registration_follows_the_registration_date(alice):
    """A rule set chosen by registration (as the AMMR's): an application made on 30 June
    2026 and registered on 3 July follows the rule in force from 2 July, while its APR
    clocks follow the day it was made."""
    common = {
        "name": "Take-charge request",
        "legal_source": "test",
        "start_event": "lodged",
        "stop_event": "",
        "unit": "months",
        "key_date": "registered",
        "family": "take-charge",
    }
    DeadlineRule.objects.create(code="tc-old", duration=3, applies_until=D(2026, 7, 1), **common)
    DeadlineRule.objects.create(code="tc-new", duration=2, applies_from=D(2026, 7, 2), **common)
    with at(2026, 7, 3, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 30), lodged_on=D(2026, 7, 3))
    request = deadline(case, "tc-new")
    assert "tc-old" not in codes(case)
    assert (request.rule_set_key, request.rule_set_date) == ("registered", D(2026, 7, 3))
    assert request.due_on == D(2026, 9, 3)
    assert deadline(case, "registration-apr").rule_set_date == D(2026, 6, 30)


def test_a_rule_condition_names_only_known_procedures_and_decisions():
    rule = DeadlineRule(
        code="x",
        name="x",
        legal_source="x",
        start_event="served",
        duration=1,
        unit="calendar_days",
        procedures="accelerated,fast",
        outcomes="inadmissible,bad",
    )
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert set(refused.value.message_dict) == {"procedures", "outcomes"}
