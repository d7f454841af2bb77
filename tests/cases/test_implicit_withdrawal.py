"""Implicit withdrawal and reopening (DOMAIN.md §3 row 13): a missed interview opens the
path, `implicitly_withdraw` discontinues the examination and sets the reopening window,
`reopen` brings the case back within it. Expected dates are written out by hand."""

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


def examined(alice, *, made: dt.date) -> Application:
    case = submit(alice, submitted_on=made, lodged_on=made)
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def test_a_missed_interview_is_recorded_and_opens_the_path(alice, client):
    with at(2024, 4, 10, 15, 0):
        case = examined(alice, made=D(2024, 3, 4))
        workflow.record_missed_interview(case, actor=alice, missed_on=D(2024, 4, 10))
        workflow.record_missed_interview(case, actor=alice, missed_on=D(2024, 4, 10))
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    case.refresh_from_db()
    assert case.interview_missed_on == D(2024, 4, 10)
    assert CaseEvent.objects.filter(application=case, action="interview_missed").count() == 1
    assert "may be treated as implicitly withdrawn" in page


def test_a_missed_interview_cannot_be_in_the_future_or_before_the_application(alice):
    with at(2024, 4, 10, 15, 0):
        case = examined(alice, made=D(2024, 3, 4))
        for day in (D(2024, 4, 11), D(2024, 3, 3)):
            with pytest.raises(workflow.ValidationError):
                workflow.record_missed_interview(case, actor=alice, missed_on=day)
    case.refresh_from_db()
    assert case.interview_missed_on is None


def test_an_implicit_withdrawal_opens_a_9_month_reopening_window(alice):
    with at(2024, 4, 15, 10, 0):
        case = examined(alice, made=D(2024, 3, 4))
        workflow.implicitly_withdraw(
            case, actor=alice, expected_status="examination", reason="Missed the interview"
        )
    case.refresh_from_db()
    assert (case.status, case.withdrawal) == ("withdrawn", "implicit")
    # Monday 15 April 2024 + 9 months = Wednesday 15 January 2025.
    assert case.reopen_until == D(2025, 1, 15)
    event = CaseEvent.objects.get(application=case, action="reopening_window")
    assert event.data == {"reopen_until": "2025-01-15", "rule": "reopening-window"}
    # Nothing falls due: the window is the applicant's, not a limit on the authority.
    assert not Deadline.objects.open().filter(application=case).exists()


def test_a_window_that_ends_on_holidays_moves_to_the_next_working_day(alice):
    with at(2025, 3, 24, 10, 0):
        case = examined(alice, made=D(2025, 1, 6))
        workflow.implicitly_withdraw(
            case, actor=alice, expected_status="examination", reason="Absconded"
        )
    case.refresh_from_db()
    # Monday 24 March 2025 + 9 months = Wednesday 24 December 2025 (Christmas Eve); 25 and 26
    # December are holidays, 27-28 a weekend: Monday 29 December 2025.
    assert case.reopen_until == D(2025, 12, 29)


def test_reopening_within_the_window_restarts_the_examination_period(alice, client):
    with at(2024, 4, 15, 10, 0):
        case = examined(alice, made=D(2024, 3, 4))
        workflow.implicitly_withdraw(
            case, actor=alice, expected_status="examination", reason="Missed the interview"
        )
    assert Deadline.objects.filter(application=case, rule_id="examination").get().status == (
        Deadline.Status.CANCELLED
    )
    client.force_login(alice)
    with at(2024, 10, 1, 10, 0):
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert reverse("cases:transition", args=[case.pk, "reopen"]) in page
        response = client.post(
            reverse("cases:transition", args=[case.pk, "reopen"]),
            {"expected_status": "withdrawn", "reason": "The applicant asked on 30 September"},
        )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.withdrawal, case.reopen_until) == ("examination", "", None)
    event = CaseEvent.objects.filter(application=case, action="reopen").get()
    assert (event.from_status, event.to_status) == ("withdrawn", "examination")
    # Reopened Tuesday 1 October 2024 + 6 months = Tuesday 1 April 2025 (a default: the
    # law sets no period after a reopening).
    again = Deadline.objects.filter(application=case, rule_id="examination").latest("id")
    assert (again.status, again.due_on) == (Deadline.Status.OPEN, D(2025, 4, 1))


def test_reopening_after_the_window_is_refused(alice):
    with at(2024, 4, 15, 10, 0):
        case = examined(alice, made=D(2024, 3, 4))
        workflow.implicitly_withdraw(
            case, actor=alice, expected_status="examination", reason="Missed the interview"
        )
    with (
        at(2025, 1, 16, 10, 0),
        pytest.raises(workflow.TransitionForbidden, match="reopening window"),
    ):
        workflow.reopen(case, actor=alice, expected_status="withdrawn", reason="Late request")
    case.refresh_from_db()
    assert case.status == "withdrawn"


def test_an_explicit_withdrawal_is_not_reopened(alice, client):
    with at(2024, 4, 15, 10, 0):
        case = examined(alice, made=D(2024, 3, 4))
        workflow.withdraw(
            case, actor=alice, expected_status="examination", reason="Left", kind="explicit"
        )
        with pytest.raises(workflow.TransitionForbidden):
            workflow.reopen(case, actor=alice, expected_status="withdrawn", reason="Back")
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    case.refresh_from_db()
    assert case.reopen_until is None
    assert "no further steps" in page
