"""The case state machine, driven through `cases.workflow` as every caller drives it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from cases import workflow
from cases.audit import verify_chain
from cases.models import Application, CaseEvent, Facility, Placement, Status
from tests.conftest import make_user, submit

# The graph of DESIGN.md, written out independently of the model: (transition, from, to).
GRAPH = {
    ("start_examination", "submitted"): "examination",
    ("detain", "submitted"): "detention",
    ("detain", "examination"): "detention",
    ("release", "detention"): "examination",
    ("decide", "examination"): "decided",
    ("decide", "detention"): "decided",
    ("appeal", "decided"): "appealed",
    ("remit", "appealed"): "examination",
    ("close", "decided"): "closed",
    ("close", "appealed"): "closed",
    ("withdraw", "submitted"): "withdrawn",
    ("withdraw", "examination"): "withdrawn",
    ("withdraw", "detention"): "withdrawn",
    ("reopen", "withdrawn"): "examination",
}
STATES = [s.value for s in Status]
TRANSITIONS = sorted({name for name, _ in GRAPH})


def run(name: str, case: Application, actor, pabrade: Facility):
    """Run transition `name` with valid data for it."""
    data = {
        "start_examination": {},
        "detain": {
            "facility": pabrade,
            "legal_basis": "Law on the Legal Status of Aliens Art. 113",
            "order_reference": "SBGS-2",
        },
        "release": {},
        "decide": {
            "outcome": "rejected",
            "decided_on": dt.date(2024, 1, 10),
            "served_on": dt.date(2024, 1, 12),
        },
        "appeal": {"court": "Regional Administrative Court", "lodged_on": dt.date(2024, 1, 20)},
        "remit": {"judgment_final_on": dt.date(2024, 5, 1)},
        "close": {},
        "withdraw": {"kind": "explicit"},
        "reopen": {},
    }[name]
    return workflow.TRANSITIONS[name](
        case.pk, actor=actor, expected_status=case.status, reason=f"Testing {name}", **data
    )


def prepare_for(name: str, case: Application, alice) -> None:
    """Record the facts a transition's conditions need (the condition tests are separate)."""
    if name == "decide":
        workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    if name == "close" and case.status == Status.APPEALED:
        workflow.record_judgment(
            case, actor=alice, judgment_on=dt.date(2024, 6, 1), outcome="upheld"
        )


@pytest.mark.parametrize(("name", "source"), sorted(GRAPH))
def test_it_runs_every_allowed_transition(name, source, build_case, alice, dora, pabrade):
    case = build_case(source)
    if name == "reopen":  # only an implicit withdrawal opens a reopening window
        case = workflow.implicitly_withdraw(
            build_case("examination"), actor=alice, expected_status="examination", reason="Gone"
        )
    prepare_for(name, case, alice)
    events_before = case.events.count()

    result = run(name, case, dora, pabrade)

    result.refresh_from_db()
    assert result.status == GRAPH[(name, source)]
    event = result.events.filter(kind=CaseEvent.Kind.TRANSITION).order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (name, source, result.status)
    assert event.actor == dora
    assert event.reason == f"Testing {name}"
    assert result.events.count() > events_before
    assert verify_chain(result.pk).problem is None


@pytest.mark.parametrize(
    ("name", "source"),
    [(n, s) for n in TRANSITIONS for s in STATES if (n, s) not in GRAPH],
)
def test_it_refuses_every_transition_not_in_the_graph(name, source, build_case, dora, pabrade):
    case = build_case(source)
    events_before = case.events.count()

    with pytest.raises(workflow.TransitionForbidden) as refused:
        run(name, case, dora, pabrade)

    assert "Not possible while the case is" in refused.value.message
    case.refresh_from_db()
    assert case.status == source
    assert case.events.count() == events_before


def test_the_model_declares_exactly_the_designed_graph():
    field = Application._meta.get_field("status")
    declared = {
        (t.name, str(t.source)): str(t.target) for t in field.get_all_transitions(Application)
    }
    assert declared == GRAPH


def test_it_refuses_decide_for_a_caseworker(build_case, alice, pabrade):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))

    with pytest.raises(workflow.TransitionForbidden) as refused:
        run("decide", case, alice, pabrade)

    assert refused.value.status_code == 403
    assert "Only a decision-maker" in refused.value.message
    case.refresh_from_db()
    assert case.status == "examination"


@pytest.mark.parametrize("name", ["start_examination", "detain", "withdraw"])
def test_it_refuses_a_caseworker_of_another_unit(name, case, oscar, pabrade):
    with pytest.raises(workflow.TransitionForbidden) as refused:
        run(name, case, oscar, pabrade)

    assert "another unit" in refused.value.message
    case.refresh_from_db()
    assert case.status == "submitted"


def test_it_refuses_a_decision_maker_of_another_unit(build_case, alice, other_unit, pabrade):
    outsider = make_user("olga", roles.DECISION_MAKER, other_unit)
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))

    with pytest.raises(workflow.TransitionForbidden):
        run("decide", case, outsider, pabrade)


@pytest.mark.parametrize("name", ["start_examination", "detain", "withdraw"])
def test_the_administrator_group_runs_no_transition(name, case, adam, pabrade):
    with pytest.raises(workflow.TransitionForbidden):
        run(name, case, adam, pabrade)
    case.refresh_from_db()
    assert case.status == "submitted"


def test_a_superuser_may_correct_a_record_with_a_reason(case, root, pabrade):
    result = run("start_examination", case, root, pabrade)
    assert result.status == "examination"
    assert result.events.filter(action="start_examination", actor=root).exists()


def test_every_transition_needs_a_reason(case, alice):
    with pytest.raises(ValidationError) as invalid:
        workflow.start_examination(case, actor=alice, expected_status="submitted", reason="  ")
    assert "reason" in invalid.value.message_dict
    case.refresh_from_db()
    assert case.status == "submitted"


def test_decide_needs_an_interview_or_a_reasoned_waiver(build_case, alice, dora, pabrade):
    case = build_case("examination")

    with pytest.raises(workflow.TransitionForbidden) as refused:
        run("decide", case, dora, pabrade)
    assert "No interview is recorded" in refused.value.message

    workflow.record_interview(case, actor=alice, waiver_reason="Applicant unfit to be interviewed")
    assert run("decide", case, dora, pabrade).status == "decided"


def test_close_needs_a_judgment_once_appealed(build_case, alice, dora, pabrade):
    case = build_case("appealed")
    with pytest.raises(workflow.TransitionForbidden) as refused:
        run("close", case, dora, pabrade)
    assert "No judgment on the appeal is recorded" in refused.value.message

    workflow.record_judgment(case, actor=alice, judgment_on=dt.date(2024, 6, 1), outcome="upheld")
    assert run("close", case, dora, pabrade).status == "closed"


def test_detain_creates_a_detention_placement(build_case, alice, pabrade):
    case = build_case("detention")
    placement = case.open_detention()
    assert placement.facility == pabrade
    assert placement.regime == Placement.Regime.DETENTION
    assert placement.ends_at is None
    assert placement.legal_basis == "Law on the Legal Status of Aliens Art. 113"


def test_detain_refuses_a_full_facility(alice, pabrade):
    pabrade.capacity = 1
    pabrade.save()
    first = submit(alice)
    run("detain", first, alice, pabrade)
    second = submit(alice, family_name="Petrov")

    with pytest.raises(ValidationError) as invalid:
        run("detain", second, alice, pabrade)

    assert "full" in invalid.value.message_dict["facility"][0]
    second.refresh_from_db()
    assert second.status == "submitted"
    assert not second.placements.exists()


def test_detain_refuses_a_reception_centre(case, alice, rukla):
    with pytest.raises(ValidationError) as invalid:
        run("detain", case, alice, rukla)
    assert "reception centre" in invalid.value.message_dict["facility"][0]


def test_release_ends_the_placement_and_returns_to_examination(build_case, alice):
    case = build_case("detention")
    placement = case.open_detention()

    case = workflow.release(case, actor=alice, expected_status="detention", reason="Court refused")

    placement.refresh_from_db()
    assert case.status == "examination"
    assert placement.ends_at is not None
    assert placement.end_reason == "Court refused"
    assert case.assigned_to == alice


def test_a_negative_decision_in_detention_keeps_the_placement(build_case, alice, dora, pabrade):
    case = build_case("detention")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    run("decide", case, dora, pabrade)
    assert case.open_detention() is not None


def test_a_positive_decision_ends_detention(build_case, alice, dora):
    case = build_case("detention")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    workflow.decide(
        case,
        actor=dora,
        expected_status="detention",
        reason="Well-founded fear",
        outcome="refugee_status",
        decided_on=dt.date(2024, 1, 10),
    )
    assert case.open_detention() is None


def test_a_late_appeal_needs_a_reason(build_case, alice):
    case = build_case("decided")  # served 2024-01-12: the window closed on 2024-01-26
    with pytest.raises(ValidationError) as invalid:
        workflow.appeal(
            case,
            actor=alice,
            expected_status="decided",
            reason="Appeal",
            court="Regional Administrative Court",
            lodged_on=dt.date(2024, 3, 1),
        )
    assert "late_reason" in invalid.value.message_dict

    case = workflow.appeal(
        case,
        actor=alice,
        expected_status="decided",
        reason="Appeal",
        court="Regional Administrative Court",
        lodged_on=dt.date(2024, 3, 1),
        late_reason="The court restored the time limit",
    )
    assert case.status == "appealed"


def test_it_refuses_a_transition_from_a_stale_state(build_case, alice):
    """The actor saw `examination`; the case is now in detention. Withdraw is allowed from
    detention too, but it is refused because the actor decided on what they saw."""
    case = build_case("detention")
    with pytest.raises(workflow.StaleCase) as stale:
        workflow.withdraw(
            case, actor=alice, expected_status="examination", reason="Left", kind="explicit"
        )
    assert stale.value.status_code == 409
    assert "changed while you were looking" in stale.value.message
    case.refresh_from_db()
    assert case.status == "detention"


def test_withdraw_ends_the_placement_and_cancels_deadlines(build_case, alice):
    case = build_case("detention")
    workflow.withdraw(
        case, actor=alice, expected_status="detention", reason="Absconded", kind="implicit"
    )
    case.refresh_from_db()
    assert case.withdrawal == "implicit"
    assert case.open_detention() is None
    assert not case.deadlines.open().exists()


def test_status_cannot_be_set_directly(case):
    with pytest.raises(AttributeError):
        case.status = "decided"


def test_submission_records_the_first_event_and_a_reference(alice):
    first = submit(alice)
    second = submit(alice, family_name="Petrov")
    assert first.reference == "LT-2023-000001"
    assert second.reference == "LT-2023-000002"
    event = first.events.get(action="submit")
    assert (event.action, event.to_status, event.actor) == ("submit", "submitted", alice)


def test_it_refuses_an_intake_by_an_outsider(unit, oscar):
    with pytest.raises(workflow.TransitionForbidden):
        workflow.submit_application(
            actor=oscar,
            unit=unit,
            applicant_data={"family_name": "Korolev"},
            submitted_on=dt.date(2023, 8, 11),
        )
    assert not Application.objects.exists()


def test_available_transitions_explain_what_is_blocked(build_case, alice, dora):
    case = build_case("examination")
    options = {o.name: o for o in workflow.available_transitions(case, alice)}
    assert set(options) == {"detain", "decide", "withdraw"}
    assert options["detain"].allowed
    assert options["decide"].blocked_reason == "Only a decision-maker may do this."

    options = {o.name: o for o in workflow.available_transitions(case, dora)}
    assert "No interview is recorded" in options["decide"].blocked_reason


def test_starting_examination_records_lodging_and_meets_registration(alice):
    case = submit(alice, submitted_on=dt.date.today())
    assert case.lodged_on is None
    assert case.deadlines.open().filter(rule="registration-apr").exists()

    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")

    case.refresh_from_db()
    assert case.lodged_on == dt.date.today()
    assert case.deadlines.get(rule="registration-apr").status == "met"


def test_start_examination_can_leave_the_case_unassigned(case, dora):
    case = workflow.start_examination(
        case, actor=dora, expected_status="submitted", reason="Go", self_assign=False
    )
    assert case.assigned_to is None
