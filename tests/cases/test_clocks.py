"""Statutory clocks follow the workflow (DESIGN.md, the clock paragraph).

Every case here is built through `cases.workflow` with "now" fixed by time-machine; each test
checks which deadlines a verb opens, meets, misses, cancels or waives, and that each change
is a `deadline` event on the case's timeline.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cases import deadlines, workflow
from cases.audit import verify_chain
from cases.models import Application, CaseEvent, Deadline
from tests.conftest import decide, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date
BASIS = "Law on the Legal Status of Aliens Art. 113"


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def at(*args: int):
    """Freeze "now" at a Vilnius wall-clock moment."""
    return time_machine.travel(vilnius(*args), tick=False)


def deadline(case: Application, code: str) -> Deadline:
    """The case's latest deadline of rule `code`."""
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def open_codes(case: Application) -> set[str]:
    return set(Deadline.objects.open().filter(application=case).values_list("rule_id", flat=True))


def deadline_events(case: Application) -> list[tuple[str, str]]:
    events = CaseEvent.objects.filter(application=case, kind=CaseEvent.Kind.DEADLINE)
    return [(e.data["rule"], e.action) for e in events.order_by("id")]


def examine(alice, **extra) -> Application:
    case = submit(alice, **extra)
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def detain(case: Application, alice, pabrade) -> Application:
    return workflow.detain(
        case,
        actor=alice,
        expected_status=case.status,
        reason="Risk of absconding",
        facility=pabrade,
        legal_basis=BASIS,
        order_reference="SBGS-1",
    )


def court_order(case: Application, alice, *, order_on: dt.date, until: dt.date, number="1"):
    return workflow.record_court_order(
        case,
        actor=alice,
        court="Vilnius District Court",
        case_number=number,
        order_on=order_on,
        until=until,
    )


def appeal(case: Application, alice, *, lodged_on: dt.date) -> Application:
    return workflow.appeal(
        case,
        actor=alice,
        expected_status="decided",
        reason="Appeal lodged",
        court="Regional Administrative Court",
        lodged_on=lodged_on,
    )


# ---- submission ---------------------------------------------------------------------------


def test_submission_opens_registration_examination_and_right_to_work(alice):
    with at(2023, 8, 11, 15, 0):
        case = submit(alice)
    assert open_codes(case) == {"registration", "examination"}
    # The right to work is an entitlement from its date, running beside the limits.
    assert deadline(case, "right-to-work").status == Deadline.Status.ENTITLEMENT
    # Made on Friday 11 August 2023: Mon 14, (Tue 15 August is a holiday), Wed 16, Thu 17.
    assert deadline(case, "registration").due_on == D(2023, 8, 17)
    assert deadline(case, "examination").due_on == D(2024, 2, 11)
    assert deadline(case, "examination").due_at == deadlines.end_of_day(D(2024, 2, 11))
    assert deadline(case, "examination").legal_reference.startswith(
        "Law on the Legal Status of Aliens Art. 81(1)"
    )
    assert deadline(case, "right-to-work").due_on == D(2024, 2, 11)
    assert sorted(deadline_events(case)) == [
        ("examination", "opened"),
        ("registration", "opened"),
        ("right-to-work", "opened"),
    ]
    case.refresh_from_db()
    assert case.next_deadline_at == deadlines.end_of_day(D(2023, 8, 17))


def test_a_lodged_application_meets_the_registration_limit(alice):
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
    assert deadline(case, "registration").status == Deadline.Status.MET
    assert open_codes(case) == {"examination"}
    assert ("registration", "met") in deadline_events(case)


def test_a_case_submitted_from_12_june_2026_follows_the_apr_registration_rule(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 12))
    assert "registration-apr" in open_codes(case)
    assert "registration" not in open_codes(case)
    assert deadline(case, "registration-apr").due_on == D(2026, 6, 17)


def test_starting_the_examination_records_lodging_and_meets_registration(alice):
    with at(2023, 8, 11, 15, 0):
        case = submit(alice)
    with at(2023, 8, 16, 9, 0):
        workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    case.refresh_from_db()
    assert case.lodged_on == D(2023, 8, 16)
    assert deadline(case, "registration").status == Deadline.Status.MET


def test_a_case_submitted_on_11_june_2026_keeps_the_old_registration_rule(alice):
    with at(2026, 6, 15, 10, 0):
        case = submit(alice, submitted_on=D(2026, 6, 11))
    assert "registration" in open_codes(case)
    assert "registration-apr" not in open_codes(case)


def test_a_rule_taken_out_of_force_opens_nothing(alice):
    from cases.models import DeadlineRule

    DeadlineRule.objects.filter(code="right-to-work").update(is_active=False)
    with at(2023, 8, 11, 15, 0):
        case = submit(alice)
    assert "right-to-work" not in open_codes(case)


# ---- detention ----------------------------------------------------------------------------


def test_detain_opens_the_48_hour_limit_and_the_18_month_cap(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice, entered_on=D(2023, 8, 10), lodged_on=D(2023, 8, 11))
    with at(2023, 10, 28, 12, 0):  # the clocks go back on 29 October
        detain(case, alice, pabrade)
    limit = deadline(case, "detention-48h")
    assert limit.due_at == vilnius(2023, 10, 30, 11, 0)  # 48 real hours
    assert limit.placement is not None
    assert deadline(case, "restriction-cap").due_on == D(2025, 2, 10)
    assert open_codes(case) >= {"detention-48h", "restriction-cap"}
    assert ("detention-48h", "opened") in deadline_events(case)
    # The cap's opening is recorded when the detention is, not back-dated to the entry.
    opened = CaseEvent.objects.get(application=case, kind="deadline", data__rule="restriction-cap")
    assert opened.at == vilnius(2023, 10, 28, 12, 0)


def test_the_cap_runs_from_apprehension_or_submission_when_entry_is_unknown(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice, apprehended_on=D(2023, 8, 9))
        detain(case, alice, pabrade)
    assert deadline(case, "restriction-cap").due_on == D(2025, 2, 9)


def test_a_court_order_meets_the_48_hour_limit_and_opens_the_review(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 16, 0):
        workflow.record_court_order(
            case,
            actor=alice,
            court="Vilnius District Court",
            case_number="e2-1/2023",
            order_on=D(2023, 8, 13),
            until=D(2023, 10, 13),
        )
    assert deadline(case, "detention-48h").status == Deadline.Status.MET
    review = deadline(case, "detention-review")
    assert review.status == Deadline.Status.OPEN
    assert review.due_on == D(2023, 10, 13)
    assert review.due_at == deadlines.end_of_day(D(2023, 10, 13))
    # The review's opening is recorded now, not on the future "until" date.
    opened = CaseEvent.objects.get(
        application=case, kind="deadline", data__rule="detention-review", action="opened"
    )
    assert opened.at == vilnius(2023, 8, 13, 16, 0)


def test_a_court_order_recorded_on_the_last_morning_meets_the_48_hours(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)  # due Monday 14 August at 10:00
    with at(2023, 8, 14, 9, 30):
        workflow.record_court_order(
            case,
            actor=alice,
            court="Vilnius District Court",
            case_number="e2-1/2023",
            order_on=D(2023, 8, 14),
            until=D(2023, 10, 14),
        )
    assert deadline(case, "detention-48h").status == Deadline.Status.MET


def test_a_court_order_after_48_hours_misses_the_limit(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 16, 10, 0):
        workflow.record_court_order(
            case,
            actor=alice,
            court="Vilnius District Court",
            case_number="e2-1/2023",
            order_on=D(2023, 8, 15),
            until=D(2023, 10, 15),
        )
    assert deadline(case, "detention-48h").status == Deadline.Status.MISSED
    assert ("detention-48h", "missed") in deadline_events(case)


def test_a_new_court_order_replaces_the_review_date(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 10, 0):
        court_order(case, alice, order_on=D(2023, 8, 13), until=D(2023, 10, 13), number="1")
    first = deadline(case, "detention-review")
    with at(2023, 10, 12, 10, 0):
        court_order(case, alice, order_on=D(2023, 10, 12), until=D(2024, 1, 12), number="2")
    first.refresh_from_db()
    assert first.status == Deadline.Status.MET
    assert deadline(case, "detention-review").due_on == D(2024, 1, 12)
    assert Deadline.objects.open().filter(application=case, rule="detention-review").count() == 1


def test_release_closes_the_detention_clocks(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 10, 0):
        workflow.release(case, actor=alice, expected_status="detention", reason="Alternative")
    assert deadline(case, "detention-48h").status == Deadline.Status.MET
    assert deadline(case, "restriction-cap").status == Deadline.Status.MET
    assert open_codes(case) == {"examination"}


def test_a_release_after_48_hours_without_a_court_order_misses_the_limit(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 15, 10, 0):
        workflow.release(case, actor=alice, expected_status="detention", reason="Released")
    assert deadline(case, "detention-48h").status == Deadline.Status.MISSED


# ---- decision, service, appeal ------------------------------------------------------------


def test_a_positive_decision_meets_the_examination_limit_and_ends_detention_clocks(
    alice, dora, pabrade
):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 12, 1, 10, 0):
        decide(case, alice, dora, outcome="refugee_status", decided_on=D(2023, 12, 1))
    assert deadline(case, "examination").status == Deadline.Status.MET
    # Made on 2023-08-11, decided on 2023-12-01: the right to work, which would have
    # started on 2024-02-11, never began (an entitlement is never "met" early or "missed").
    assert deadline(case, "right-to-work").status == Deadline.Status.CANCELLED
    assert deadline(case, "restriction-cap").status == Deadline.Status.MET
    assert "detention-48h" not in open_codes(case)


def test_a_negative_decision_in_detention_keeps_the_detention_clocks(alice, dora, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 10, 0):
        court_order(case, alice, order_on=D(2023, 8, 13), until=D(2023, 12, 13), number="1")
    with at(2023, 12, 1, 10, 0):
        decide(case, alice, dora, outcome="rejected", decided_on=D(2023, 12, 1))
    assert deadline(case, "examination").status == Deadline.Status.MET
    assert open_codes(case) >= {"detention-review", "restriction-cap"}


def test_a_decision_recorded_later_meets_the_limit_by_its_own_date(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 3, 1, 10, 0):  # recorded after the limit, decided before it
        decide(case, alice, dora, decided_on=D(2024, 2, 9))
    assert deadline(case, "examination").status == Deadline.Status.MET
    closed = deadline(case, "examination").closed_at
    assert closed == deadlines.at_noon(D(2024, 2, 9))


def test_a_decision_after_six_months_misses_the_examination_limit(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 2, 12, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 2, 12))
    assert deadline(case, "examination").status == Deadline.Status.MISSED
    assert ("examination", "missed") in deadline_events(case)


def test_a_decision_served_at_once_opens_the_appeal_window(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 3, 20, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 3, 18), served_on=D(2024, 3, 18))
    window = deadline(case, "appeal-window")
    assert window.status == Deadline.Status.OPEN
    assert window.due_on == D(2024, 4, 2)  # 1 April 2024 is Easter Monday


def test_recording_service_later_opens_the_appeal_window(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 1, 10, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 10))
    assert "appeal-window" not in open_codes(case)
    with at(2024, 1, 15, 10, 0):
        workflow.record_service(case, actor=alice, served_on=D(2024, 1, 12))
    assert deadline(case, "appeal-window").due_on == D(2024, 1, 26)
    assert ("appeal-window", "opened") in deadline_events(case)


def test_an_appeal_meets_the_appeal_window(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 1, 12, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 10), served_on=D(2024, 1, 12))
    with at(2024, 1, 22, 10, 0):
        workflow.appeal(
            case,
            actor=alice,
            expected_status="decided",
            reason="Appeal lodged",
            court="Regional Administrative Court",
            lodged_on=D(2024, 1, 20),
        )
    assert deadline(case, "appeal-window").status == Deadline.Status.MET


def test_a_remittal_opens_three_months_of_re_examination(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 1, 12, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 10), served_on=D(2024, 1, 12))
    with at(2024, 1, 22, 10, 0):
        appeal(case, alice, lodged_on=D(2024, 1, 20))
    with at(2024, 6, 3, 10, 0):
        workflow.remit(
            case,
            actor=dora,
            expected_status="appealed",
            reason="Sent back",
            judgment_final_on=D(2024, 5, 31),
        )
    again = deadline(case, "reexamination")
    assert again.status == Deadline.Status.OPEN
    assert again.due_on == D(2024, 8, 31)  # 3 months from the judgment becoming final
    with at(2024, 8, 1, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 8, 1))
    assert deadline(case, "reexamination").status == Deadline.Status.MET


def test_a_remittal_does_not_stop_the_clocks_of_a_detention_that_goes_on(alice, dora, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 10, 0):
        court_order(case, alice, order_on=D(2023, 8, 13), until=D(2024, 2, 13), number="1")
    with at(2023, 12, 1, 10, 0):
        decide(case, alice, dora, decided_on=D(2023, 12, 1), served_on=D(2023, 12, 1))
    with at(2023, 12, 5, 10, 0):
        appeal(case, alice, lodged_on=D(2023, 12, 5))
    with at(2024, 1, 20, 10, 0):
        workflow.remit(
            case,
            actor=dora,
            expected_status="appealed",
            reason="Sent back",
            judgment_final_on=D(2024, 1, 19),
        )
    assert case.open_detention() is not None
    assert open_codes(case) >= {"detention-review", "restriction-cap", "reexamination"}


# ---- the end of a case, and waivers -------------------------------------------------------


def test_withdrawal_cancels_what_is_still_open(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 9, 1, 10, 0):
        workflow.withdraw(
            case, actor=alice, expected_status="detention", reason="Left", kind="explicit"
        )
    assert open_codes(case) == set()
    assert deadline(case, "examination").status == Deadline.Status.CANCELLED
    assert deadline(case, "restriction-cap").status == Deadline.Status.MET  # detention ended
    case.refresh_from_db()
    assert case.next_deadline_at is None


def test_closing_cancels_what_is_still_open(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2024, 1, 12, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 10), served_on=D(2024, 1, 12))
    with at(2024, 2, 1, 10, 0):  # the appeal window closed on 26 January
        workflow.close(case, actor=dora, expected_status="decided", reason="Final")
    assert open_codes(case) == set()
    assert deadline(case, "appeal-window").status == Deadline.Status.CANCELLED
    assert ("appeal-window", "cancelled") in deadline_events(case)


def test_a_decision_maker_waives_a_deadline_with_a_reason(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    with at(2023, 8, 12, 10, 0):
        workflow.waive_deadline(
            deadline(case, "examination"), actor=dora, reason="Registered on paper."
        )
    waived = deadline(case, "examination")
    assert waived.status == Deadline.Status.WAIVED
    assert waived.waive_reason == "Registered on paper."
    event = CaseEvent.objects.get(application=case, kind="deadline", action="waived")
    assert event.actor == dora
    assert event.reason == "Registered on paper."


def test_it_refuses_a_waiver_by_a_caseworker(alice):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(workflow.TransitionForbidden):
            workflow.waive_deadline(deadline(case, "examination"), actor=alice, reason="No")
    assert deadline(case, "examination").status == Deadline.Status.OPEN


def test_it_refuses_a_waiver_without_a_reason_or_of_a_closed_deadline(alice, dora):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(ValidationError):
            workflow.waive_deadline(deadline(case, "examination"), actor=dora, reason="  ")
        workflow.waive_deadline(deadline(case, "examination"), actor=dora, reason="Done")
        with pytest.raises(workflow.StaleCase):
            workflow.waive_deadline(deadline(case, "examination"), actor=dora, reason="Again")


def test_it_refuses_a_waiver_by_a_decision_maker_of_another_unit(alice, other_unit):
    from accounts import roles
    from tests.conftest import make_user

    stranger = make_user("sam", roles.DECISION_MAKER, other_unit)
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(workflow.TransitionForbidden):
            workflow.waive_deadline(deadline(case, "examination"), actor=stranger, reason="x")


def test_every_deadline_change_is_a_deadline_event_on_an_intact_chain(alice, dora, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice, lodged_on=D(2023, 8, 11))
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 10, 0):
        workflow.release(case, actor=alice, expected_status="detention", reason="Alternative")
    with at(2024, 1, 12, 10, 0):
        decide(case, alice, dora, decided_on=D(2024, 1, 10), served_on=D(2024, 1, 12))
    opened = Deadline.objects.filter(application=case).count()
    closed = Deadline.objects.filter(application=case).exclude(status="open").count()
    assert len(deadline_events(case)) == opened + closed
    assert verify_chain(case.pk).problem is None


def test_the_case_keeps_its_nearest_open_deadline(alice, pabrade):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice, lodged_on=D(2023, 8, 11))
        case.refresh_from_db()
        assert case.next_deadline_at == deadlines.end_of_day(D(2024, 2, 11))
        detain(case, alice, pabrade)
        case.refresh_from_db()
        assert case.next_deadline_at == vilnius(2023, 8, 14, 10, 0)


# ---- the sample case ----------------------------------------------------------------------


def test_the_sample_cases_examination_deadline_is_11_february_2024_and_history_not_overdue():
    call_command("import_seed", verbosity=0)
    case = Application.objects.get(applicant__family_name="Korolev")
    examination = deadline(case, "examination")
    assert examination.due_on == D(2024, 2, 11)
    assert examination.status == Deadline.Status.OPEN
    # The record reflects 2023-08-11: what was due then, not an alarm today.
    assert case.recorded_as_of == D(2023, 8, 11)
    assert examination not in Deadline.objects.overdue()
    assert not examination.is_overdue()
    Application.objects.filter(pk=case.pk).update(recorded_as_of=None)
    examination.refresh_from_db()
    assert examination in Deadline.objects.overdue()
    assert examination.is_overdue()
