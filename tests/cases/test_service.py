"""The service of a decision (issue 17): the day, the method and the language of service;
the appeal window runs from the day of service. Expected dates are written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import workflow
from cases.models import CaseEvent, Deadline, DeadlineRule
from cases.timeline import TimelineBuilder

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def decided(alice, dora, build_case):
    """Made 2023-08-11 (the national rules), decided 2024-01-10, not yet served."""
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=D(2023, 9, 1))
    return workflow.decide(
        case,
        actor=dora,
        expected_status="examination",
        reason="Assessed",
        outcome="rejected",
        decided_on=D(2024, 1, 10),
    )


def appeal_windows(case) -> list[Deadline]:
    return list(case.deadlines.filter(rule__start_event=DeadlineRule.StartEvent.SERVED))


def test_it_records_the_method_and_language_and_opens_the_appeal_window(alice, decided):
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, 0, tzinfo=dt.UTC), tick=False):
        workflow.record_service(
            decided, actor=alice, served_on=D(2024, 1, 12), method="post", language="Russian"
        )
    decided.refresh_from_db()
    assert decided.served_on == D(2024, 1, 12)
    assert (decided.service_method, decided.service_language) == ("post", "Russian")
    # 14 calendar days from service (Law on the Legal Status of Aliens, before the APR).
    assert [d.due_on for d in appeal_windows(decided)] == [D(2024, 1, 26)]
    event = decided.events.get(action="served")
    assert event.data == {"served_on": "2024-01-12", "method": "post"}
    rows = TimelineBuilder(
        decided,
        [event],
        notes=[],
        documents=[],
        placements=[],
        document_url=str,
    ).rows()
    assert (rows[0]["title"], rows[0]["details"]) == ("Decision served on 2024-01-12", "By post")


def test_a_service_recorded_by_the_decision_takes_its_method_later(alice, dora, build_case):
    case = build_case("decided")  # served 2024-01-12 by `decide`, without a method
    workflow.record_service(
        case, actor=alice, served_on=D(2024, 1, 12), method="representative", language="Dari"
    )
    workflow.record_service(
        case, actor=alice, served_on=D(2024, 1, 12), method="representative", language="Dari"
    )
    case.refresh_from_db()
    assert (case.service_method, case.service_language) == ("representative", "Dari")
    assert len(appeal_windows(case)) == 1  # the window is not opened twice
    assert case.events.filter(action="served").count() == 1
    with pytest.raises(workflow.TransitionForbidden):
        workflow.record_service(case, actor=alice, served_on=D(2024, 1, 13), method="post")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"method": "pigeon"}, "method"),
        ({"method": "post", "language": "1234"}, "language"),
        ({"method": "post", "language": "R" * 101}, "language"),
        ({"method": "post", "served_on": D(2024, 1, 9)}, "served_on"),
        ({"method": "post", "served_on": "2024-01-12"}, "served_on"),
    ],
)
def test_it_refuses_bad_service_details_and_writes_nothing(alice, decided, values, field):
    with pytest.raises(ValidationError) as error:
        workflow.record_service(decided, actor=alice, **{"served_on": D(2024, 1, 12), **values})
    assert field in error.value.message_dict
    decided.refresh_from_db()
    assert (decided.served_on, decided.service_method, decided.service_language) == (None, "", "")
    assert not CaseEvent.objects.filter(application=decided, action="served").exists()
    assert appeal_windows(decided) == []


def test_a_service_in_the_future_is_refused(alice, decided):
    with (
        time_machine.travel(dt.datetime(2024, 1, 15, 10, 0, tzinfo=dt.UTC), tick=False),
        pytest.raises(ValidationError),
    ):
        workflow.record_service(decided, actor=alice, served_on=D(2024, 1, 16), method="post")


def test_the_case_page_shows_the_service_and_offers_its_form(client, alice, decided):
    client.force_login(alice)
    url = reverse("cases:detail", args=[decided.pk])
    assert 'name="method"' in client.get(url).content.decode()
    response = client.post(
        reverse("cases:action", args=[decided.pk, "service"]),
        {"served_on": "2024-01-12", "method": "electronic", "language": "arabų"},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "2024-01-12, Electronically (e-delivery) (in arabų)" in page
    bad = client.post(
        reverse("cases:action", args=[decided.pk, "service"]),
        {"served_on": "2024-01-12", "method": "<b>x</b>"},
    )
    assert bad.status_code == 400
