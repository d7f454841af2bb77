"""The decide form warns before it is sent: the applicant is still detained, no interview
was held, statutory limits are missed or overdue. The warnings are on the form page itself
(server-rendered, no script)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases import workflow
from cases.views.transitions import decide_warnings

pytestmark = pytest.mark.django_db


def decide_form(client, user, case):
    client.force_login(user)
    response = client.get(reverse("cases:transition", args=[case.pk, "decide"]))
    assert response.status_code == 200
    return response


def test_it_warns_that_the_applicant_is_still_detained(client, alice, dora, build_case):
    case = build_case("detention")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    response = decide_form(client, dora, case)
    warnings = response.context["warnings"]
    assert any("still detained at Foreigners' Registration Centre, Pabradė" in w for w in warnings)
    html = response.content.decode()
    assert 'id="form-warnings"' in html
    assert "Check before you send" in html


def test_it_warns_of_a_waived_interview(client, alice, dora, build_case):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, waiver_reason="Unfit to be interviewed")
    warnings = decide_form(client, dora, case).context["warnings"]
    assert "No personal interview was held; it was waived: Unfit to be interviewed" in warnings


def test_it_warns_of_an_interview_not_recorded(alice, build_case):
    # The form itself is refused without an interview; the warning says so all the same.
    case = build_case("examination")
    assert "The personal interview is not recorded." in decide_warnings(case)


def test_it_warns_of_overdue_limits(client, alice, dora, build_case):
    # Submitted in August 2023: the 6-month examination limit is long overdue.
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    warnings = decide_form(client, dora, case).context["warnings"]
    assert any(w.startswith("Examination period: overdue: due 2024-02-1") for w in warnings)


def test_a_timely_case_has_no_warnings(client, alice, dora):
    from django.utils import timezone

    from tests.conftest import submit

    submitted_on = timezone.localdate() - dt.timedelta(days=2)
    case = submit(alice, submitted_on=submitted_on, lodged_on=submitted_on)
    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    workflow.record_interview(case, actor=alice, interviewed_on=timezone.localdate())
    response = decide_form(client, dora, case)
    assert response.context["warnings"] == []
    assert 'id="form-warnings"' not in response.content.decode()
