"""Detention in depth (issue 17): court orders with their time and extensions, periodic
reviews, the appeal against detention, alternatives to detention and the 18-month cap that
counts them, and the unaccompanied minor detained only as a last resort. Dates are
computed by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases import workflow
from cases.models import (
    Application,
    CaseEvent,
    Deadline,
    DetentionAppeal,
    DetentionOrder,
    DetentionReview,
    Facility,
    Placement,
)
from cases.timeline import TimelineBuilder
from tests.conftest import submit

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date
BASIS = "Law on the Legal Status of Aliens Art. 113"
ALTERNATIVE_BASIS = "Law on the Legal Status of Aliens Art. 115"


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def at(*args: int):
    return time_machine.travel(vilnius(*args), tick=False)


def deadline(case: Application, code: str) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def rows(case: Application, code: str):
    return Deadline.objects.filter(application=case, rule_id=code).order_by("id")


@pytest.fixture
def rukla(db) -> Facility:
    return Facility.objects.create(
        name="Reception centre, Rukla", code="rukla", kind=Facility.Kind.RECEPTION, capacity=5
    )


def examine(alice, **extra) -> Application:
    case = submit(alice, **extra)
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def detain(case: Application, actor, pabrade, **extra) -> Application:
    return workflow.detain(
        case,
        actor=actor,
        expected_status=case.status,
        reason="Risk of absconding",
        facility=pabrade,
        legal_basis=BASIS,
        order_reference="SBGS-1",
        **extra,
    )


def alternative(case: Application, actor, facility, *, measure="reporting_duty", **extra):
    return workflow.apply_alternative(
        case,
        actor=actor,
        expected_status=case.status,
        reason="Reporting is enough to prevent absconding",
        measure=measure,
        facility=facility,
        legal_basis=ALTERNATIVE_BASIS,
        **extra,
    )


def order(case, actor, *, order_on, until, number="e2-1/2023", order_time=None):
    return workflow.record_court_order(
        case,
        actor=actor,
        court="Utena District Court",
        case_number=number,
        order_on=order_on,
        until=until,
        order_time=order_time,
    )


def make_unaccompanied_minor(case: Application, actor) -> None:
    workflow.record_vulnerability_assessment(
        case,
        actor=actor,
        assessed_on=case.submitted_on,
        categories=["unaccompanied_minor"],
        assessor="Dr Jonaitė",
    )


# ---- the 18-month cap counts alternatives -------------------------------------------------


def test_the_cap_runs_on_from_detention_into_an_alternative(alice, pabrade, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice, entered_on=D(2023, 8, 10))
        case = detain(case, alice, pabrade)
    with at(2023, 9, 20, 10, 0):
        case = alternative(case, alice, rukla)

    case.refresh_from_db()
    assert case.status == "examination"  # released onto the alternative
    restricted = case.open_alternative()
    assert (restricted.regime, restricted.alternative) == ("restricted", "reporting_duty")
    assert restricted.facility == rukla
    # 18 months from entry on 10 August 2023: 10 February 2025, still running, one clock.
    cap = rows(case, "restriction-cap")
    assert [(d.due_on, d.status) for d in cap] == [(D(2025, 2, 10), Deadline.Status.OPEN)]
    assert cap[0].placement == restricted
    # The detention's own clocks ended with it.
    assert deadline(case, "detention-48h").status != Deadline.Status.OPEN


def test_an_alternative_alone_opens_the_cap_and_its_end_meets_it(alice, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice, entered_on=D(2023, 8, 10))
        case = alternative(case, alice, rukla, measure="designated_residence")
    case.refresh_from_db()
    assert case.status == "examination"
    assert deadline(case, "restriction-cap").due_on == D(2025, 2, 10)
    with at(2024, 1, 5, 10, 0):
        workflow.end_alternative(
            case, actor=alice, reason="No longer needed", ended_on=D(2024, 1, 4)
        )
    case.refresh_from_db()
    assert case.open_alternative() is None
    cap = deadline(case, "restriction-cap")
    assert cap.status == Deadline.Status.MET
    assert cap.closed_at == vilnius(2024, 1, 4, 12, 0)


def test_detention_after_an_alternative_keeps_the_same_cap(alice, pabrade, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice, entered_on=D(2023, 8, 10))
        case = alternative(case, alice, rukla)
    with at(2023, 9, 1, 9, 0):
        case = detain(case, alice, pabrade)
    case.refresh_from_db()
    cap = rows(case, "restriction-cap")
    assert [(d.due_on, d.status) for d in cap] == [(D(2025, 2, 10), Deadline.Status.OPEN)]
    assert cap[0].placement == case.open_detention()


def test_protection_granted_ends_the_alternative(alice, dora, rukla):
    from tests.conftest import decide

    with at(2023, 8, 11, 15, 0):
        case = examine(alice, entered_on=D(2023, 8, 10))
        case = alternative(case, alice, rukla)
    with at(2023, 10, 2, 10, 0):
        decide(case, alice, dora, outcome="refugee_status", decided_on=D(2023, 10, 2))
    case.refresh_from_db()
    assert case.open_alternative() is None
    assert deadline(case, "restriction-cap").status == Deadline.Status.MET


def test_an_alternative_is_refused_at_a_detention_centre_or_a_full_one(alice, pabrade, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(ValidationError) as error:
            alternative(case, alice, pabrade)
        assert "facility" in error.value.message_dict
        rukla.capacity = 0
        rukla.save()
        with pytest.raises(ValidationError) as error:
            alternative(case, alice, rukla)
        assert "full" in error.value.message_dict["facility"][0]
        with pytest.raises(ValidationError) as error:
            rukla.capacity = 5
            rukla.save()
            alternative(case, alice, rukla, measure="bail")
        assert "measure" in error.value.message_dict
    assert not Placement.objects.filter(application=case).exists()
    assert not CaseEvent.objects.filter(application=case, action="alternative_applied").exists()


def test_an_alternative_against_a_stale_status_is_refused(alice, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(workflow.StaleCase):
            workflow.apply_alternative(
                case,
                actor=alice,
                expected_status="submitted",
                reason="x",
                measure="reporting_duty",
                facility=rukla,
                legal_basis=ALTERNATIVE_BASIS,
            )


def test_an_outsider_may_not_apply_an_alternative(alice, oscar, rukla):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(workflow.TransitionForbidden):
            alternative(case, oscar, rukla)


# ---- court orders with their time, and extensions ----------------------------------------


def test_a_court_order_with_its_time_meets_the_48_hours_and_an_extension_follows(alice, pabrade):
    with at(2023, 8, 10, 9, 0):
        case = examine(alice, apprehended_on=D(2023, 8, 10), submitted_on=D(2023, 8, 10))
    with at(2023, 8, 10, 13, 0):
        case = detain(case, alice, pabrade)
    # The 48 hours run from the apprehension (12:00 on 10 August) to 12:00 on 12 August.
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 12, 12, 0)
    with at(2023, 8, 14, 9, 0):  # recorded two days later, with the order's time
        order(
            case, alice, order_on=D(2023, 8, 12), until=D(2023, 10, 12), order_time=dt.time(11, 30)
        )
    assert deadline(case, "detention-48h").status == Deadline.Status.MET
    assert deadline(case, "detention-review").due_on == D(2023, 10, 12)
    with at(2023, 10, 10, 14, 0):
        order(case, alice, order_on=D(2023, 10, 10), until=D(2023, 12, 10), number="e2-7/2023")

    orders = list(DetentionOrder.objects.filter(application=case))
    assert [(o.is_extension, o.case_number, o.until) for o in orders] == [
        (False, "e2-1/2023", D(2023, 10, 12)),
        (True, "e2-7/2023", D(2023, 12, 10)),
    ]
    assert orders[0].ordered_at == vilnius(2023, 8, 12, 11, 30)
    assert orders[1].ordered_at == vilnius(2023, 10, 10, 14, 0)  # recorded on its day
    placement = case.open_detention()
    assert (placement.court_case_number, placement.court_order_until) == (
        "e2-7/2023",
        D(2023, 12, 10),
    )
    assert [d.status for d in rows(case, "detention-review")] == [
        Deadline.Status.MET,
        Deadline.Status.OPEN,
    ]
    assert deadline(case, "detention-review").due_on == D(2023, 12, 10)


def test_an_order_missed_by_an_hour_misses_the_48_hours(alice, pabrade):
    with at(2023, 8, 10, 9, 0):
        case = examine(alice, apprehended_on=D(2023, 8, 10), submitted_on=D(2023, 8, 10))
        case = detain(case, alice, pabrade)
    with at(2023, 8, 13, 9, 0):
        order(
            case, alice, order_on=D(2023, 8, 12), until=D(2023, 10, 12), order_time=dt.time(13, 0)
        )
    assert deadline(case, "detention-48h").status == Deadline.Status.MISSED


def test_the_same_number_on_the_same_day_corrects_the_order(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
        order(case, alice, order_on=D(2023, 8, 11), until=D(2023, 10, 1))
        order(case, alice, order_on=D(2023, 8, 11), until=D(2023, 10, 11))
        order(case, alice, order_on=D(2023, 8, 11), until=D(2023, 10, 11))  # a double click
    orders = list(DetentionOrder.objects.filter(application=case))
    assert [(o.is_extension, o.until) for o in orders] == [(False, D(2023, 10, 11))]
    assert CaseEvent.objects.filter(application=case, action="court_order").count() == 2


@pytest.mark.parametrize(
    ("order_on", "until", "order_time", "field"),
    [
        (D(2023, 8, 20), D(2023, 8, 19), None, "until"),  # until before the order
        (D(2023, 8, 9), D(2023, 10, 1), None, "order_on"),  # before the detention
        (D(2023, 9, 2), D(2023, 10, 1), None, "order_on"),  # in the future
        (D(2023, 9, 1), D(2023, 10, 1), dt.time(18, 0), "order_time"),  # a future moment
        ("2023-09-01", D(2023, 10, 1), None, "order_on"),  # not a date
    ],
)
def test_it_refuses_a_bad_court_order(alice, pabrade, order_on, until, order_time, field):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    with at(2023, 9, 1, 12, 0), pytest.raises(ValidationError) as error:
        order(case, alice, order_on=order_on, until=until, order_time=order_time)
    assert field in error.value.message_dict
    assert not DetentionOrder.objects.filter(application=case).exists()


def test_an_extension_cannot_precede_the_order_it_extends(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    with at(2023, 8, 20, 12, 0):
        order(case, alice, order_on=D(2023, 8, 20), until=D(2023, 10, 20))
        with pytest.raises(ValidationError) as error:
            order(case, alice, order_on=D(2023, 8, 15), until=D(2023, 11, 1), number="e2-9/2023")
    assert "order_on" in error.value.message_dict
    assert DetentionOrder.objects.filter(application=case).count() == 1


# ---- periodic reviews ----------------------------------------------------------------------


def test_an_apr_era_detention_is_reviewed_within_15_days(alice, pabrade):
    with at(2026, 7, 1, 10, 0):
        case = examine(alice, submitted_on=D(2026, 7, 1))
        case = detain(case, alice, pabrade)
    review = deadline(case, "detention-periodic-review-apr")
    assert review.due_on == D(2026, 7, 16)
    with at(2026, 7, 10, 16, 0):
        workflow.record_detention_review(
            case,
            actor=alice,
            reviewed_on=D(2026, 7, 10),
            reviewed_by="Utena District Court",
            result="continued",
        )
    assert [(d.due_on, d.status) for d in rows(case, "detention-periodic-review-apr")] == [
        (D(2026, 7, 16), Deadline.Status.MET),
        (D(2026, 7, 25), Deadline.Status.OPEN),
    ]
    assert DetentionReview.objects.get(application=case).result == "continued"
    case.refresh_from_db()
    assert case.status == "detention"


def test_an_older_detention_is_reviewed_monthly_by_default(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    assert deadline(case, "detention-periodic-review").due_on == D(2023, 9, 11)
    assert not rows(case, "detention-periodic-review-apr").exists()


def test_a_review_that_ends_the_detention_releases_the_person(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    with at(2023, 9, 5, 10, 0):
        with pytest.raises(ValidationError) as error:  # the release needs its reason
            workflow.record_detention_review(
                case, actor=alice, reviewed_on=D(2023, 9, 4), reviewed_by="Court", result="ended"
            )
        assert "reason" in error.value.message_dict
        workflow.record_detention_review(
            case,
            actor=alice,
            reviewed_on=D(2023, 9, 4),
            reviewed_by="Utena District Court",
            result="ended",
            reason="Grounds no longer met",
        )
    case.refresh_from_db()
    assert case.status == "examination"
    assert case.open_detention() is None
    ended = Placement.objects.get(application=case)
    assert ended.ends_at == vilnius(2023, 9, 4, 12, 0)
    assert deadline(case, "detention-periodic-review").status == Deadline.Status.MET
    assert DetentionReview.objects.get(application=case).result == "ended"


@pytest.mark.parametrize(
    ("reviewed_on", "reviewed_by", "result", "field"),
    [
        (D(2023, 9, 6), "Court", "continued", "reviewed_on"),  # future
        (D(2023, 8, 10), "Court", "continued", "reviewed_on"),  # before the detention
        (D(2023, 9, 1), "", "continued", "reviewed_by"),
        (D(2023, 9, 1), "x" * 201, "continued", "reviewed_by"),
        (D(2023, 9, 1), "Court", "paused", "result"),
    ],
)
def test_it_refuses_a_bad_review(alice, pabrade, reviewed_on, reviewed_by, result, field):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    with at(2023, 9, 5, 10, 0), pytest.raises(ValidationError) as error:
        workflow.record_detention_review(
            case, actor=alice, reviewed_on=reviewed_on, reviewed_by=reviewed_by, result=result
        )
    assert field in error.value.message_dict
    assert not DetentionReview.objects.exists()


def test_a_review_without_detention_is_refused(alice):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        with pytest.raises(workflow.TransitionForbidden):
            workflow.record_detention_review(
                case, actor=alice, reviewed_on=D(2023, 8, 11), reviewed_by="C", result="continued"
            )


# ---- the appeal against detention ---------------------------------------------------------


def test_an_appeal_against_detention_upheld_then_another_ends_it(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
    with at(2023, 8, 20, 10, 0):
        workflow.lodge_detention_appeal(
            case, actor=alice, lodged_on=D(2023, 8, 18), court="Regional Administrative Court"
        )
    first = DetentionAppeal.objects.get(application=case)
    with at(2023, 9, 1, 10, 0):
        with pytest.raises(ValidationError):  # a decision before the appeal
            workflow.record_detention_appeal_result(
                case, actor=alice, appeal=first, result="upheld", decided_on=D(2023, 8, 17)
            )
        workflow.record_detention_appeal_result(
            case, actor=alice, appeal=first, result="upheld", decided_on=D(2023, 8, 31)
        )
    case.refresh_from_db()
    assert case.status == "detention"
    with at(2023, 9, 20, 10, 0):
        workflow.lodge_detention_appeal(
            case,
            actor=alice,
            lodged_on=D(2023, 9, 4),
            court="Supreme Administrative Court of Lithuania",
            case_number="eA-99/2023",
        )
        second = DetentionAppeal.objects.get(application=case, result="")
        workflow.record_detention_appeal_result(
            case,
            actor=alice,
            appeal=second,
            result="ended",
            decided_on=D(2023, 9, 19),
            reason="The court found the detention unlawful",
        )
    case.refresh_from_db()
    assert case.status == "examination"
    assert Placement.objects.get(application=case).ends_at == vilnius(2023, 9, 19, 12, 0)
    second.refresh_from_db()
    assert (second.result, second.decided_on) == ("ended", D(2023, 9, 19))
    actions = list(
        CaseEvent.objects.filter(application=case, kind__in=["record", "transition"])
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "detention_appeal_decided",
        "detention_appeal_lodged",
        "release",
        "detention_appeal_decided",
    ]


def test_an_appeal_of_another_case_is_refused(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        case = detain(case, alice, pabrade)
        other = examine(alice, family_name="Petrov")
        other = detain(other, alice, pabrade)
        workflow.lodge_detention_appeal(
            other, actor=alice, lodged_on=D(2023, 8, 11), court="Regional Administrative Court"
        )
        foreign = DetentionAppeal.objects.get(application=other)
        with pytest.raises(ValidationError):
            workflow.record_detention_appeal_result(
                case, actor=alice, appeal=foreign, result="upheld", decided_on=D(2023, 8, 11)
            )
    foreign.refresh_from_db()
    assert foreign.result == ""


# ---- an unaccompanied minor: detention only as a last resort ------------------------------


def test_a_caseworker_may_not_detain_an_unaccompanied_minor(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        make_unaccompanied_minor(case, alice)
        case.refresh_from_db()
        option = next(o for o in workflow.available_transitions(case, alice) if o.name == "detain")
        assert "only a decision-maker" in option.blocked_reason
        with pytest.raises(workflow.TransitionForbidden) as refused:
            detain(case, alice, pabrade, last_resort_reason="No other way")
    assert "unaccompanied minor" in refused.value.message
    assert not Placement.objects.filter(application=case).exists()


def test_a_decision_maker_detains_an_unaccompanied_minor_with_the_reason(alice, dora, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        make_unaccompanied_minor(case, alice)
        case.refresh_from_db()
        with pytest.raises(ValidationError) as error:
            detain(case, dora, pabrade, last_resort_reason="   ")
        assert "last_resort_reason" in error.value.message_dict
        detain(case, dora, pabrade, last_resort_reason="Repeated absconding; no guardian yet")
    case.refresh_from_db()
    placement = case.open_detention()
    assert placement.last_resort_reason == "Repeated absconding; no guardian yet"
    events = list(case.events.timeline())
    built = TimelineBuilder(
        case, events, notes=[], documents=[], placements=[placement], document_url=str
    ).rows()
    placed = next(r for r in built if r["action"] == "placed")
    assert "Repeated absconding; no guardian yet" in placed["text"]
    # The event points at the placement; it does not copy the reason.
    event = CaseEvent.objects.get(application=case, kind="placement", action="placed")
    assert "Repeated absconding" not in str(event.data)


def test_an_adult_is_detained_without_a_last_resort_reason(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        detain(case, alice, pabrade, last_resort_reason="ignored for an adult")
    assert Placement.objects.get(application=case).last_resort_reason == ""
