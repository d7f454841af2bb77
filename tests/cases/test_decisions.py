"""Decisions (issue 17): every outcome the procedures know, an inadmissibility decision's
ground, the return decision that follows a negative one, through `workflow.decide`, on the
timeline and the case page, in English and Lithuanian."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from cases import workflow
from cases.labels import label
from cases.models import Application, CaseEvent
from cases.timeline import TimelineBuilder
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date


def examined(alice) -> Application:
    case = submit(alice)
    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    workflow.record_interview(case, actor=alice, interviewed_on=D(2023, 9, 1))
    return case


def decide(case, dora, **kwargs) -> Application:
    return workflow.decide(
        case,
        actor=dora,
        expected_status="examination",
        reason="Assessed",
        decided_on=D(2023, 12, 1),
        **kwargs,
    )


def timeline_titles_and_details(case) -> list[str]:
    events = list(case.events.timeline())
    rows = TimelineBuilder(
        case, events, notes=[], documents=[], placements=[], document_url=lambda d: ""
    ).rows()
    return [f"{r['title']} | {r['details']}" for r in rows]


@pytest.mark.parametrize(
    "outcome",
    [
        "refugee_status",
        "subsidiary_protection",
        "rejected",
        "manifestly_unfounded",
        "exclusion",
        "discontinued",
    ],
)
def test_it_records_each_outcome(alice, dora, outcome):
    case = decide(examined(alice), dora, outcome=outcome)
    case.refresh_from_db()
    assert (case.status, case.decision_outcome) == ("decided", outcome)


def test_an_inadmissibility_decision_names_its_ground(alice, dora):
    case = examined(alice)
    with pytest.raises(ValidationError) as refused:
        decide(case, dora, outcome="inadmissible")
    assert "inadmissibility_ground" in refused.value.message_dict
    case.refresh_from_db()
    assert case.status == "examination"
    decide(case, dora, outcome="inadmissible", inadmissibility_ground="safe_third_country")
    case.refresh_from_db()
    assert case.inadmissibility_ground == "safe_third_country"
    event = CaseEvent.objects.get(application=case, action="decide")
    assert event.data["inadmissibility_ground"] == "safe_third_country"
    assert (
        "Decide | Status: Under examination → Decided · Decision: Inadmissible · "
        "Ground of inadmissibility: Safe third country · decided on 2023-12-01"
        in timeline_titles_and_details(case)
    )


def test_it_refuses_a_ground_of_inadmissibility_on_another_decision(alice, dora):
    case = examined(alice)
    with pytest.raises(ValidationError) as refused:
        decide(case, dora, outcome="rejected", inadmissibility_ground="safe_third_country")
    assert "inadmissibility_ground" in refused.value.message_dict


def test_a_negative_decision_carries_the_return_decision_reference(alice, dora):
    case = decide(
        examined(alice),
        dora,
        outcome="manifestly_unfounded",
        return_decision_reference="GD-2023-0457",
    )
    case.refresh_from_db()
    assert case.return_decision_reference == "GD-2023-0457"
    # The event points at the case; it does not copy the reference (retention redacts it).
    event = CaseEvent.objects.get(application=case, action="decide")
    assert "GD-2023-0457" not in str(event.data)


def test_it_refuses_a_return_decision_after_protection_is_granted(alice, dora):
    case = examined(alice)
    with pytest.raises(ValidationError) as refused:
        decide(case, dora, outcome="refugee_status", return_decision_reference="GD-1")
    assert "return_decision_reference" in refused.value.message_dict


def test_the_case_page_shows_the_ground_and_the_return_decision(client, alice, dora):
    case = decide(
        examined(alice),
        dora,
        outcome="inadmissible",
        inadmissibility_ground="protection_elsewhere",
        return_decision_reference="GD-2023-0458",
    )
    client.force_login(alice)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Protection granted by another Member State" in page
    assert "GD-2023-0458" in page


def test_the_decide_form_takes_the_ground(client, alice, dora):
    case = examined(alice)
    client.force_login(dora)
    answer = client.post(
        reverse("cases:transition", args=[case.pk, "decide"]),
        {
            "expected_status": "examination",
            "reason": "Assessed",
            "outcome": "inadmissible",
            "decided_on": "2023-12-01",
            "inadmissibility_ground": "first_country_of_asylum",
        },
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert (case.decision_outcome, case.inadmissibility_ground) == (
        "inadmissible",
        "first_country_of_asylum",
    )


@pytest.mark.parametrize(
    ("outcome", "lithuanian"),
    [
        ("rejected", "Atsisakyta suteikti prieglobstį (prašymas nepagrįstas)"),
        (
            "manifestly_unfounded",
            "Atsisakyta suteikti prieglobstį (prašymas akivaizdžiai nepagrįstas)",
        ),
        ("exclusion", "Tarptautinė apsauga nesuteikta (išimties pagrindai)"),
        ("discontinued", "Nagrinėjimas nutrauktas"),
    ],
)
def test_the_outcomes_read_in_lithuanian(outcome, lithuanian):
    with translation.override("lt"):
        assert label(Application.Outcome, outcome) == lithuanian


def test_a_remittal_clears_the_ground_of_inadmissibility(alice, dora):
    case = decide(
        examined(alice), dora, outcome="inadmissible", inadmissibility_ground="safe_third_country"
    )
    workflow.appeal(
        case,
        actor=alice,
        expected_status="decided",
        reason="Appeal",
        court="Regional Administrative Court",
        lodged_on=D(2023, 12, 5),
    )
    workflow.remit(
        case,
        actor=dora,
        expected_status="appealed",
        reason="Sent back",
        judgment_final_on=D(2024, 3, 1),
    )
    case.refresh_from_db()
    assert (case.decision_outcome, case.inadmissibility_ground) == ("", "")
