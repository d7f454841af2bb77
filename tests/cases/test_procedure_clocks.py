"""The clocks of the accelerated and border procedures and of the examination of
admissibility (DOMAIN.md §3 rows 5, 10 and 11), and channelling a case between procedures.
Every expected date is written out by hand, with the reckoning beside it."""

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


def deadline(case: Application, code: str) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def running(case: Application) -> set[str]:
    rows = Deadline.objects.running().filter(application=case)
    return set(rows.values_list("rule_id", flat=True))


def channel(case, actor, procedure: str) -> Application:
    return workflow.channel_procedure(case, actor=actor, procedure=procedure, reason="Channelled")


# ---- the accelerated procedure (row 10) ----------------------------------------------------


def test_an_accelerated_apr_case_is_examined_within_3_months_of_lodging(alice):
    with at(2026, 9, 3, 10, 0):
        case = submit(
            alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 3), procedure="accelerated"
        )
    # Lodged Thursday 3 September 2026 + 3 months = Thursday 3 December 2026.
    assert deadline(case, "examination-accelerated-apr").due_on == D(2026, 12, 3)
    assert "examination-apr" not in running(case)


def test_channelling_into_the_accelerated_procedure_replaces_the_examination_period(alice):
    with at(2024, 3, 4, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
    assert deadline(case, "examination").due_on == D(2024, 9, 4)
    with at(2024, 3, 20, 10, 0):
        channel(case, alice, "accelerated")
    case.refresh_from_db()
    assert case.procedure == "accelerated"
    assert deadline(case, "examination").status == Deadline.Status.CANCELLED
    # The default (not verified national value): 3 months from the making of the application,
    # Monday 4 March 2024 + 3 months = Tuesday 4 June 2024.
    assert deadline(case, "examination-accelerated").due_on == D(2024, 6, 4)
    event = CaseEvent.objects.get(application=case, action="procedure_channelled")
    assert event.reason == "Channelled"
    assert event.data == {"procedure": "accelerated", "was": "regular"}
    # Back to the regular procedure: the regular period runs again from the making.
    with at(2024, 3, 21, 10, 0):
        channel(case, alice, "regular")
    assert deadline(case, "examination-accelerated").status == Deadline.Status.CANCELLED
    assert deadline(case, "examination").due_on == D(2024, 9, 4)
    assert deadline(case, "examination").status == Deadline.Status.OPEN


def test_channelling_twice_into_the_same_procedure_records_it_once(alice):
    with at(2024, 3, 4, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
        channel(case, alice, "accelerated")
        channel(case, alice, "accelerated")
    assert CaseEvent.objects.filter(application=case, action="procedure_channelled").count() == 1


# ---- the border procedure (row 11) ----------------------------------------------------------


def test_the_apd_border_procedure_allows_entry_after_4_weeks(alice, client):
    with at(2024, 5, 8, 10, 0):
        case = submit(alice, submitted_on=D(2024, 5, 6), lodged_on=D(2024, 5, 6))
        channel(case, alice, "border")
    # Made Monday 6 May 2024 + 28 days = Monday 3 June 2024; the examination period goes on.
    assert deadline(case, "border-procedure").due_on == D(2024, 6, 3)
    assert deadline(case, "examination").status == Deadline.Status.OPEN
    client.force_login(alice)
    with at(2024, 6, 4, 10, 0):
        page = client.get(reverse("cases:detail", args=[case.pk]))
    assert "entry into the territory must be allowed" in page.content.decode()
    # Leaving the border procedure after the 4 weeks: the limit is missed, not cancelled.
    with at(2024, 6, 5, 10, 0):
        channel(case, alice, "regular")
    assert deadline(case, "border-procedure").status == Deadline.Status.MISSED
    assert deadline(case, "examination").status == Deadline.Status.OPEN


def test_the_apr_border_procedure_lasts_12_weeks_from_registration(alice):
    with at(2026, 7, 10, 10, 0):
        case = submit(
            alice, submitted_on=D(2026, 7, 1), lodged_on=D(2026, 7, 4), procedure="border"
        )
    # Registered Saturday 4 July 2026 + 84 days = Saturday 26 September 2026, which moves to
    # Monday 28 September 2026 (Regulation 1182/71 Art. 3(4)).
    assert deadline(case, "border-procedure-apr").due_on == D(2026, 9, 28)
    # The regular examination period runs beside it: lodged + 6 months = Monday 4 January 2027.
    assert deadline(case, "examination-apr").due_on == D(2027, 1, 4)


def test_protection_granted_ends_the_apr_border_procedure(alice, dora):
    with at(2026, 7, 10, 10, 0):
        case = submit(
            alice, submitted_on=D(2026, 7, 1), lodged_on=D(2026, 7, 3), procedure="border"
        )
    with at(2026, 8, 3, 10, 0):
        workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
        workflow.record_interview(case, actor=alice, interviewed_on=D(2026, 7, 20))
        workflow.decide(
            case,
            actor=dora,
            expected_status="examination",
            reason="Assessed",
            outcome="refugee_status",
            decided_on=D(2026, 8, 3),
        )
    assert deadline(case, "border-procedure-apr").status == Deadline.Status.MET


def test_an_unaccompanied_minor_is_never_channelled_into_the_border_procedure(alice):
    with at(2026, 9, 3, 10, 0):
        case = submit(alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 2))
        workflow.record_vulnerability_assessment(
            case,
            actor=alice,
            assessed_on=D(2026, 9, 3),
            categories=["unaccompanied_minor"],
            assessor="Dr. Petraitis",
        )
        with pytest.raises(workflow.TransitionForbidden, match="unaccompanied minor"):
            channel(case, alice, "border")
    case.refresh_from_db()
    assert case.procedure == "regular"
    assert not CaseEvent.objects.filter(application=case, action="procedure_channelled").exists()
    assert "border-procedure-apr" not in running(case)


def test_a_dublin_case_is_not_channelled(alice):
    with at(2024, 3, 4, 10, 0):
        case = submit(
            alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4), procedure="dublin"
        )
        with pytest.raises(workflow.TransitionForbidden):
            channel(case, alice, "accelerated")


def test_channelling_needs_a_reason_and_a_known_procedure(alice, oscar):
    with at(2024, 3, 4, 10, 0):
        case = submit(alice, submitted_on=D(2024, 3, 4))
        with pytest.raises(workflow.ValidationError):
            workflow.channel_procedure(case, actor=alice, procedure="accelerated", reason=" ")
        with pytest.raises(workflow.ValidationError):
            workflow.channel_procedure(case, actor=alice, procedure="dublin", reason="x")
        with pytest.raises(workflow.TransitionForbidden):
            workflow.channel_procedure(case, actor=oscar, procedure="border", reason="x")


# ---- the examination of admissibility (row 5) -----------------------------------------------


def test_the_apr_admissibility_examination_runs_2_months_and_extends_to_4(alice):
    with at(2026, 9, 10, 10, 0):
        case = submit(alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 2))
        channel(case, alice, "admissibility")
    # Lodged Wednesday 2 September 2026 + 2 months = Monday 2 November 2026, All Souls' Day
    # (a Lithuanian public holiday): Tuesday 3 November 2026.
    assert deadline(case, "inadmissibility-apr").due_on == D(2026, 11, 3)
    assert deadline(case, "examination-apr").status == Deadline.Status.OPEN
    with at(2026, 10, 20, 10, 0):
        workflow.extend_admissibility_examination(case, actor=alice, reason="Complex facts")
        with pytest.raises(workflow.TransitionForbidden, match="already extended"):
            workflow.extend_admissibility_examination(case, actor=alice, reason="Again")
    assert deadline(case, "inadmissibility-apr").status == Deadline.Status.CANCELLED
    # 2 September 2026 + 4 months = Saturday 2 January 2027: Monday 4 January 2027.
    assert deadline(case, "inadmissibility-apr-extended").due_on == D(2027, 1, 4)
    # Found admissible: the case goes on in the regular procedure and the limit is met.
    with at(2026, 11, 5, 10, 0):
        channel(case, alice, "regular")
    assert deadline(case, "inadmissibility-apr-extended").status == Deadline.Status.MET
    assert deadline(case, "examination-apr").status == Deadline.Status.OPEN


def test_the_national_admissibility_decision_is_due_in_3_working_days(alice):
    with at(2024, 12, 23, 10, 0):
        case = submit(
            alice,
            submitted_on=D(2024, 12, 23),
            lodged_on=D(2024, 12, 23),
            procedure="admissibility",
        )
    # Lodged Monday 23 December 2024; 24, 25 and 26 December are holidays: Friday 27 (1),
    # Monday 30 (2), Tuesday 31 December 2024 (3).
    assert deadline(case, "inadmissibility").due_on == D(2024, 12, 31)
    with at(2024, 12, 24, 10, 0), pytest.raises(workflow.TransitionForbidden, match="No ext"):
        workflow.extend_admissibility_examination(case, actor=alice, reason="More time")


def test_an_unaccompanied_minor_found_in_the_border_procedure_is_flagged(alice, client):
    with at(2026, 9, 3, 10, 0):
        case = submit(
            alice, submitted_on=D(2026, 9, 1), lodged_on=D(2026, 9, 2), procedure="border"
        )
        workflow.record_vulnerability_assessment(
            case,
            actor=alice,
            assessed_on=D(2026, 9, 3),
            categories=["unaccompanied_minor"],
            assessor="Dr. Petraitis",
        )
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "The case is in the border procedure: channel it into another procedure." in page
