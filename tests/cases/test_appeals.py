"""Appeals at two court levels (issue 17): the appeal against the decision with its court case
number and suspensive effect, the judgment at each level with its outcome, the further appeal
to the Supreme Administrative Court within its time, and what each allows next.

Every due date here is computed by hand from the calendar, never by Haven's functions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from cases import workflow
from cases.models import Appeal, Application, CaseEvent, Deadline

VILNIUS = ZoneInfo("Europe/Vilnius")
SUPREME = "Supreme Administrative Court of Lithuania"


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def at(*args: int):
    """Freeze "now" at a Vilnius wall-clock moment."""
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def further_window(case: Application) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id="further-appeal-window").latest("id")


def judge(case, alice, day, outcome="upheld"):
    return workflow.record_judgment(case, actor=alice, judgment_on=day, outcome=outcome)


def appeal_further(case, alice, day, **extra):
    return workflow.appeal_further(case, actor=alice, court=SUPREME, lodged_on=day, **extra)


def events(case, action):
    return list(CaseEvent.objects.filter(application=case, action=action).order_by("id"))


# ---- lodging ---------------------------------------------------------------------------------


def test_it_records_the_appeal_with_its_case_number_and_suspensive_effect(build_case, alice):
    case = build_case("decided")
    workflow.appeal(
        case,
        actor=alice,
        expected_status="decided",
        reason="The applicant's lawyer appealed",
        court="Vilnius Regional Administrative Court",
        court_case_number="eI3-1234-567/2024",
        lodged_on=dt.date(2024, 1, 20),
        suspensive_effect="requested",
    )
    appeal = Appeal.objects.get(application=case)
    assert (appeal.level, appeal.subject) == ("first", "asylum_decision")
    assert appeal.court == "Vilnius Regional Administrative Court"
    assert appeal.court_case_number == "eI3-1234-567/2024"
    assert appeal.lodged_on == dt.date(2024, 1, 20)
    # Requested: the court has not answered yet.
    assert (appeal.suspensive_effect, appeal.suspension) == ("requested", "pending")
    assert not appeal.suspends
    [event] = events(case, "appeal")
    assert event.data["lodged_on"] == "2024-01-20"
    assert event.data["suspensive_effect"] == "requested"
    # The case number is personal data: it stays on the row, not on the timeline.
    assert "eI3" not in str(event.data)


def test_it_refuses_an_appeal_with_bad_facts_and_writes_nothing(build_case, alice):
    case = build_case("decided")
    before = CaseEvent.objects.filter(application=case).count()
    with pytest.raises(ValidationError) as refused:
        workflow.appeal(
            case,
            actor=alice,
            expected_status="decided",
            reason="Appeal",
            court="",
            court_case_number="x" * 101,
            lodged_on=dt.date(2024, 1, 5),  # before the decision of 10 January
            suspensive_effect="sometimes",
        )
    assert set(refused.value.message_dict) == {
        "court",
        "court_case_number",
        "lodged_on",
        "suspensive_effect",
    }
    case.refresh_from_db()
    assert case.status == "decided"
    assert not Appeal.objects.filter(application=case).exists()
    assert CaseEvent.objects.filter(application=case).count() == before


# ---- the judgment at first instance and the time for a further appeal ---------------------------


def test_a_first_instance_judgment_opens_30_days_for_a_further_appeal(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))

    window = further_window(case)
    # 2 March 2026 + 30 days = 1 April 2026, a Wednesday.
    assert window.due_on == dt.date(2026, 4, 1)
    assert "30 days from the pronouncement" in window.legal_reference
    appeal = Appeal.objects.get(application=case)
    assert (appeal.judgment_on, appeal.outcome) == (dt.date(2026, 3, 2), "upheld")


def test_the_time_for_a_further_appeal_moves_off_easter(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 6))
    # 6 March + 30 days = Sunday 5 April 2026 (Easter); Easter Monday is a public holiday
    # in Lithuania: the last day is Tuesday 7 April.
    assert further_window(case).due_on == dt.date(2026, 4, 7)


def test_it_refuses_a_judgment_before_the_appeal_or_in_the_future(build_case, alice):
    case = build_case("appealed")  # appeal lodged on 2024-01-20
    with pytest.raises(ValidationError) as early:
        judge(case, alice, dt.date(2024, 1, 19))
    assert "judgment_on" in early.value.message_dict
    with (
        at(2026, 3, 2, 12, 0),
        translation.override("en"),
        pytest.raises(ValidationError) as future,
    ):
        judge(case, alice, dt.date(2026, 3, 3))
    assert future.value.message_dict["judgment_on"] == ["This date is in the future."]
    with pytest.raises(ValidationError) as unknown:
        judge(case, alice, dt.date(2024, 6, 1), outcome="acquitted")
    assert "outcome" in unknown.value.message_dict
    assert Appeal.objects.get(application=case).judgment_on is None
    assert not events(case, "judgment")


def test_a_recorded_judgment_is_not_recorded_again(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2024, 6, 1))
    judge(case, alice, dt.date(2024, 6, 1))  # the same form sent twice
    assert len(events(case, "judgment")) == 1
    with pytest.raises(workflow.TransitionForbidden):
        judge(case, alice, dt.date(2024, 6, 2), outcome="annulled")


def test_a_judgment_needs_an_appealed_case(build_case, alice):
    case = build_case("decided")
    with pytest.raises(workflow.TransitionForbidden):
        judge(case, alice, dt.date(2024, 6, 1))


# ---- the further appeal -----------------------------------------------------------------------


def test_a_further_appeal_needs_the_first_instance_judgment(build_case, alice):
    case = build_case("appealed")
    with pytest.raises(workflow.TransitionForbidden) as refused:
        appeal_further(case, alice, dt.date(2024, 3, 1))
    assert "record the judgment first" in refused.value.message
    assert Appeal.objects.filter(application=case).count() == 1


def test_a_further_appeal_in_time_meets_the_limit(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))
    appeal_further(
        case, alice, dt.date(2026, 3, 30), court_case_number="eA-99-2026", suspensive_effect="none"
    )
    first, second = Appeal.objects.filter(application=case).order_by("lodged_on")
    assert (second.level, second.first_instance_id) == ("second", first.pk)
    assert (second.court, second.court_case_number) == (SUPREME, "eA-99-2026")
    assert further_window(case).status == "met"
    [event] = events(case, "further_appeal")
    assert event.data == {
        "appeal": second.pk,
        "level": "second",
        "subject": "asylum_decision",
        "lodged_on": "2026-03-30",
        "suspensive_effect": "none",
    }


def test_a_late_further_appeal_needs_a_reason(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        appeal_further(case, alice, dt.date(2026, 4, 2))  # the day after 1 April
    assert refused.value.message_dict["late_reason"] == [
        "The appeal window closed on 2026-04-01: say why a late appeal is recorded."
    ]
    assert Appeal.objects.filter(application=case).count() == 1

    appeal_further(case, alice, dt.date(2026, 4, 2), late_reason="The court restored the term")
    assert further_window(case).status == "missed"
    [event] = events(case, "further_appeal")
    assert event.reason == "The court restored the term"


def test_a_further_appeal_cannot_precede_its_judgment_nor_be_lodged_twice(build_case, alice):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))
    with pytest.raises(ValidationError) as early:
        appeal_further(case, alice, dt.date(2026, 3, 1))
    assert "lodged_on" in early.value.message_dict
    appeal_further(case, alice, dt.date(2026, 3, 20))
    appeal_further(case, alice, dt.date(2026, 3, 20))  # the same form sent twice: nothing new
    assert Appeal.objects.filter(application=case).count() == 2
    with pytest.raises(workflow.TransitionForbidden) as twice:
        appeal_further(case, alice, dt.date(2026, 3, 21))
    assert "already recorded" in twice.value.message


def test_a_caseworker_of_another_unit_records_nothing(build_case, alice, oscar):
    case = build_case("appealed")
    with pytest.raises(workflow.TransitionForbidden):
        judge(case, oscar, dt.date(2024, 6, 1))
    with pytest.raises(workflow.TransitionForbidden):
        workflow.record_suspensive_effect(
            case, actor=oscar, appeal=Appeal.objects.get(application=case), effect="automatic"
        )
    assert Appeal.objects.get(application=case).judgment_on is None


# ---- what the judgments allow next --------------------------------------------------------------


def test_the_case_closes_once_the_judgment_is_final(build_case, alice, dora):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))
    with at(2026, 3, 20, 10, 0):  # the time for a further appeal runs to 1 April
        with pytest.raises(workflow.TransitionForbidden) as refused:
            workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
        assert "time for a further appeal" in refused.value.message
        appeal_further(case, alice, dt.date(2026, 3, 20))
        with pytest.raises(workflow.TransitionForbidden):  # the Supreme Court has not judged
            workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
    with at(2026, 9, 1, 10, 0):
        judge(case, alice, dt.date(2026, 8, 31))
        # No third level: the Supreme Administrative Court's judgment is final at once.
        assert not Deadline.objects.filter(
            application=case, rule_id="further-appeal-window", status="open"
        ).exists()
        closed = workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
    assert closed.status == "closed"


def test_a_first_instance_judgment_is_final_when_its_time_passed(build_case, alice, dora):
    case = build_case("appealed")
    judge(case, alice, dt.date(2026, 3, 2))
    with at(2026, 4, 2, 0, 1):  # 1 April has ended in Vilnius
        closed = workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
    assert closed.status == "closed"


def test_an_annulment_is_followed_by_remittal_not_closing(build_case, alice, dora):
    case = build_case("appealed")
    judge(case, alice, dt.date(2024, 6, 1), outcome="annulled")
    with pytest.raises(workflow.TransitionForbidden) as refused:
        workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
    assert "remit it" in refused.value.message
    with pytest.raises(ValidationError):  # final before it was given
        workflow.remit(
            case,
            actor=dora,
            expected_status="appealed",
            reason="Sent back",
            judgment_final_on=dt.date(2024, 5, 31),
        )
    remitted = workflow.remit(
        case,
        actor=dora,
        expected_status="appealed",
        reason="Sent back",
        judgment_final_on=dt.date(2024, 7, 1),
    )
    assert remitted.status == "examination"
    # 1 July 2024 + 3 months = 1 October 2024.
    assert Deadline.objects.filter(application=case, rule_id="reexamination").latest(
        "id"
    ).due_on == dt.date(2024, 10, 1)


def test_protection_granted_by_the_court_lets_the_case_close(build_case, alice, dora):
    case = build_case("appealed")
    judge(case, alice, dt.date(2024, 6, 1), outcome="protection_granted")
    closed = workflow.close(case, actor=dora, expected_status="appealed", reason="Final")
    assert closed.status == "closed"
    assert Appeal.objects.get(application=case).get_outcome_display() == (
        "Protection granted by the court"
    )


# ---- suspensive effect --------------------------------------------------------------------------


def test_a_requested_suspension_gets_the_courts_answer(build_case, alice):
    case = build_case("appealed")
    appeal = Appeal.objects.get(application=case)
    workflow.record_suspensive_effect(case, actor=alice, appeal=appeal, effect="requested")
    appeal.refresh_from_db()
    assert appeal.suspension == "pending"
    workflow.record_suspensive_effect(
        case,
        actor=alice,
        appeal=appeal,
        effect="requested",
        granted=True,
        decided_on=dt.date(2024, 1, 25),
    )
    appeal.refresh_from_db()
    assert (appeal.suspension, appeal.suspension_decided_on) == ("granted", dt.date(2024, 1, 25))
    assert appeal.suspends
    [_pending, granted] = events(case, "suspensive_effect")
    assert granted.data["suspension"] == "granted"
    assert granted.data["decided_on"] == "2024-01-25"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"effect": "forever"}, "effect"),
        ({"effect": "automatic", "granted": True, "decided_on": dt.date(2024, 2, 1)}, "granted"),
        ({"effect": "requested", "granted": True}, "decided_on"),
        (
            {"effect": "requested", "granted": False, "decided_on": dt.date(2024, 1, 19)},
            "decided_on",
        ),
        ({"effect": "requested", "granted": True, "decided_on": dt.date(2999, 1, 1)}, "decided_on"),
        ({"effect": "requested", "decided_on": dt.date(2024, 2, 1)}, "granted"),
    ],
)
def test_it_refuses_suspension_facts_that_do_not_fit(build_case, alice, kwargs, field):
    case = build_case("appealed")
    appeal = Appeal.objects.get(application=case)
    with pytest.raises(ValidationError) as refused:
        workflow.record_suspensive_effect(case, actor=alice, appeal=appeal, **kwargs)
    assert field in refused.value.message_dict
    appeal.refresh_from_db()
    assert (appeal.suspensive_effect, appeal.suspension) == ("", "")


def test_the_suspensive_effect_names_an_appeal_of_this_case(build_case, alice):
    case = build_case("appealed")
    other = build_case("appealed")
    with pytest.raises(ValidationError) as refused:
        workflow.record_suspensive_effect(
            case, actor=alice, appeal=Appeal.objects.get(application=other), effect="automatic"
        )
    assert "appeal" in refused.value.message_dict
