"""`workflow.correct_record`: a superuser corrects a fact recorded wrongly, with a reason;
the clocks that run from it (or were met by it) follow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases import deadlines, workflow
from cases.audit import verify_chain
from cases.models import CaseEvent, Deadline
from tests.cases.test_clocks import D, at, deadline, detain, examine, vilnius
from tests.conftest import submit

pytestmark = pytest.mark.django_db


def test_a_corrected_application_date_moves_the_examination_clock(alice, root):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
    assert deadline(case, "examination").due_on == D(2024, 2, 11)

    with at(2023, 9, 1, 10, 0):
        workflow.correct_record(
            case, actor=root, reason="The form was dated 9 August.", submitted_on=D(2023, 8, 9)
        )

    limit = deadline(case, "examination")
    assert limit.status == Deadline.Status.OPEN
    assert limit.due_on == D(2024, 2, 9)
    assert limit.starts_at == deadlines.at_noon(D(2023, 8, 9))
    case.refresh_from_db()
    assert case.next_deadline_at <= limit.due_at
    event = CaseEvent.objects.get(application=case, action="corrected", kind="record")
    assert event.actor == root
    assert event.reason == "The form was dated 9 August."
    assert event.data["changes"] == {"submitted_on": {"from": "2023-08-11", "to": "2023-08-09"}}
    redated = CaseEvent.objects.get(
        application=case, kind="deadline", action="corrected", data__rule="examination"
    )
    assert redated.data["was_due_on"] == "2024-02-11"
    assert redated.data["due_on"] == "2024-02-09"
    assert verify_chain(case.pk).problem is None


def test_the_48_hour_limit_runs_from_apprehension_and_follows_its_correction(alice, root, pabrade):
    with at(2023, 8, 11, 12, 0):
        case = examine(alice, apprehended_on=D(2023, 8, 10))
        detain(case, alice, pabrade)
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 12, 12, 0)

    with at(2023, 8, 11, 14, 0):
        workflow.correct_record(
            case, actor=root, reason="Apprehended a day earlier.", apprehended_on=D(2023, 8, 9)
        )

    limit = deadline(case, "detention-48h")
    assert limit.due_at == vilnius(2023, 8, 11, 12, 0)
    assert limit.status == Deadline.Status.OPEN  # now overdue, and the sweep will say so
    assert deadline(case, "restriction-cap").due_on == D(2025, 2, 9)


def test_without_apprehension_the_48_hour_limit_runs_from_the_detention(alice, pabrade):
    with at(2023, 8, 11, 12, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    assert deadline(case, "detention-48h").due_at == vilnius(2023, 8, 13, 12, 0)


def test_a_met_deadline_is_judged_again_when_the_fact_that_met_it_is_corrected(alice, root):
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
    assert deadline(case, "registration").status == Deadline.Status.MET

    with at(2023, 9, 1, 10, 0):
        workflow.correct_record(
            case, actor=root, reason="Lodged later than typed.", lodged_on=D(2023, 8, 28)
        )

    assert deadline(case, "registration").status == Deadline.Status.MISSED
    assert verify_chain(case.pk).problem is None


def test_it_refuses_a_caseworker_and_changes_nothing(alice, case):
    with pytest.raises(workflow.TransitionForbidden, match="superuser"):
        workflow.correct_record(case, actor=alice, reason="Typo", submitted_on=D(2023, 8, 9))

    case.refresh_from_db()
    assert case.submitted_on == D(2023, 8, 11)
    assert not CaseEvent.objects.filter(application=case, action="corrected").exists()


def test_it_refuses_a_correction_without_a_reason(root, case):
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(case, actor=root, reason="  ", submitted_on=D(2023, 8, 9))

    assert "reason" in caught.value.message_dict
    case.refresh_from_db()
    assert case.submitted_on == D(2023, 8, 11)


def test_it_refuses_facts_that_only_a_step_records(root, case):
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(
            case, actor=root, reason="x", decided_on=D(2023, 9, 1), status="closed"
        )

    assert set(caught.value.message_dict) == {"status"}
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(case, actor=root, reason="x", decided_on=D(2023, 9, 1))
    assert "through its step" in caught.value.message_dict["decided_on"][0]


def test_it_refuses_a_date_in_the_future_or_before_the_application(root, case):
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(
            case, actor=root, reason="x", lodged_on=dt.date.today() + dt.timedelta(days=3)
        )
    assert "future" in caught.value.message_dict["lodged_on"][0]
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(case, actor=root, reason="x", lodged_on=D(2023, 8, 1))
    assert "lodged_on" in caught.value.message_dict


def test_a_correction_to_the_same_value_records_nothing(root, case):
    workflow.correct_record(case, actor=root, reason="Checked", submitted_on=case.submitted_on)

    assert not CaseEvent.objects.filter(application=case, action="corrected").exists()


def test_free_text_is_named_not_copied_on_the_timeline(root, case):
    workflow.correct_record(
        case, actor=root, reason="Spelling", claim_summary="Refused to fight; fears prison."
    )

    event = CaseEvent.objects.get(application=case, action="corrected")
    assert event.data["fields"] == ["claim_summary"]
    assert event.data["changes"] == {}
    assert "prison" not in str(event.data)


def test_the_case_page_shows_the_correction_with_old_and_new_values(client, dora, root, case):
    workflow.correct_record(
        case,
        actor=root,
        reason="The form was dated 9 August.",
        submitted_on=D(2023, 8, 9),
        procedure="accelerated",
    )
    client.force_login(dora)

    page = client.get(f"/cases/{case.pk}/").content.decode()

    assert "Record corrected:" in page
    assert "2023-08-11 → 2023-08-09" in page
    assert "Regular procedure → Accelerated procedure" in page
    assert "Deadline corrected:" in page
