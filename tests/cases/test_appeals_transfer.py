"""The appeal against a Dublin transfer decision (DOMAIN.md §3 rows 7 and 8): the time to
appeal from the decision's service, and the transfer period that an appeal with suspensive
effect stops and that runs again from the judgment upholding the decision (Dublin III
Art. 29(1)). Expected dates are written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from cases import workflow
from cases.models import Appeal, Application, CaseEvent, Deadline
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
COURT = "Vilnius Regional Administrative Court"


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def deadline(case: Application, code: str) -> Deadline:
    return Deadline.objects.filter(application=case, rule_id=code).latest("id")


def running(case: Application) -> set[str]:
    return set(
        Deadline.objects.running().filter(application=case).values_list("rule_id", flat=True)
    )


def accepted_case(alice, *, lodged: dt.date, accepted: dt.date) -> Application:
    """A Dublin case that Poland accepted on `accepted`: the transfer period runs."""
    case = submit(
        alice, submitted_on=lodged - dt.timedelta(days=1), lodged_on=lodged, procedure="dublin"
    )
    workflow.send_dublin_request(
        case,
        actor=alice,
        kind="take_charge",
        requested_state="PL",
        sent_on=lodged + dt.timedelta(days=7),
    )
    return workflow.record_dublin_reply(case, actor=alice, accepted=True, replied_on=accepted)


def test_the_time_to_appeal_runs_14_days_from_service(alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
    # Served Monday 2 March 2026 + 14 days = Monday 16 March 2026.
    limit = deadline(case, "dublin-transfer-appeal")
    assert limit.due_on == D(2026, 3, 16)
    assert "AS-520-846-12" in limit.legal_reference
    case.refresh_from_db()
    assert case.transfer_decision_served_on == D(2026, 3, 2)


def test_under_the_ammr_a_last_day_on_a_weekend_moves_to_monday(alice):
    case = accepted_case(alice, lodged=D(2026, 7, 10), accepted=D(2026, 8, 3))
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 8, 8))
    # Saturday 8 August 2026 + 14 days = Saturday 22 August: Monday 24 August.
    limit = deadline(case, "dublin-transfer-appeal-ammr")
    assert limit.due_on == D(2026, 8, 24)


def test_an_automatic_suspensive_appeal_stops_the_transfer_until_the_judgment(alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    # Accepted 16 February 2026 + 6 months = 16 August 2026.
    assert deadline(case, "dublin-transfer").due_on == D(2026, 8, 16)
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
    workflow.appeal_transfer_decision(
        case,
        actor=alice,
        court=COURT,
        court_case_number="eI3-55-2026",
        lodged_on=D(2026, 3, 10),
        suspensive_effect="automatic",
    )
    assert deadline(case, "dublin-transfer-appeal").status == "met"
    assert deadline(case, "dublin-transfer").status == "cancelled"
    assert "dublin-transfer" not in running(case)

    workflow.record_judgment(
        case,
        actor=alice,
        judgment_on=D(2026, 5, 4),
        outcome="upheld",
        subject="transfer_decision",
    )
    # The period runs again from the judgment: 4 May 2026 + 6 months = 4 November 2026.
    assert deadline(case, "dublin-transfer").due_on == D(2026, 11, 4)
    assert deadline(case, "dublin-transfer").status == "open"
    # The first-instance judgment can be appealed further: 4 May + 30 days = 3 June 2026.
    assert deadline(case, "further-appeal-window").due_on == D(2026, 6, 3)


def test_a_requested_suspension_stops_the_transfer_only_when_granted(alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
    workflow.appeal_transfer_decision(
        case, actor=alice, court=COURT, lodged_on=D(2026, 3, 10), suspensive_effect="requested"
    )
    assert "dublin-transfer" in running(case)
    appeal = Appeal.objects.get(application=case)
    workflow.record_suspensive_effect(
        case,
        actor=alice,
        appeal=appeal,
        effect="requested",
        granted=True,
        decided_on=D(2026, 3, 20),
    )
    assert "dublin-transfer" not in running(case)
    # The court annuls the transfer decision: no transfer period runs any more.
    workflow.record_judgment(
        case,
        actor=alice,
        judgment_on=D(2026, 5, 4),
        outcome="annulled",
        subject="transfer_decision",
    )
    assert "dublin-transfer" not in running(case)


def test_an_appeal_without_suspensive_effect_leaves_the_transfer_running(alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
    workflow.appeal_transfer_decision(
        case, actor=alice, court=COURT, lodged_on=D(2026, 3, 10), suspensive_effect="none"
    )
    assert deadline(case, "dublin-transfer").status == "open"
    assert deadline(case, "dublin-transfer").due_on == D(2026, 8, 16)


def test_a_late_appeal_needs_a_reason_and_one_appeal_is_recorded(alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    with pytest.raises(workflow.TransitionForbidden):  # no decision served yet
        workflow.appeal_transfer_decision(case, actor=alice, court=COURT, lodged_on=D(2026, 3, 10))
    workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
    with translation.override("en"), pytest.raises(ValidationError) as late:
        workflow.appeal_transfer_decision(case, actor=alice, court=COURT, lodged_on=D(2026, 3, 17))
    assert late.value.message_dict["late_reason"] == [
        "The appeal window closed on 2026-03-16: say why a late appeal is recorded."
    ]
    with pytest.raises(ValidationError) as early:
        workflow.appeal_transfer_decision(case, actor=alice, court=COURT, lodged_on=D(2026, 3, 1))
    assert "lodged_on" in early.value.message_dict
    workflow.appeal_transfer_decision(
        case, actor=alice, court=COURT, lodged_on=D(2026, 3, 17), late_reason="Term restored"
    )
    assert deadline(case, "dublin-transfer-appeal").status == "missed"
    with pytest.raises(workflow.TransitionForbidden):
        workflow.appeal_transfer_decision(case, actor=alice, court=COURT, lodged_on=D(2026, 3, 18))
    assert Appeal.objects.filter(application=case).count() == 1
    [event] = CaseEvent.objects.filter(application=case, action="transfer_appeal")
    assert event.reason == "Term restored"


def test_the_transfer_decision_is_refused_where_it_does_not_fit(alice, build_case):
    regular = build_case("examination")
    with pytest.raises(workflow.TransitionForbidden):
        workflow.record_transfer_decision(regular, actor=alice, served_on=D(2024, 1, 1))
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    with pytest.raises(ValidationError):  # before the acceptance
        workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 2, 15))
    with pytest.raises(ValidationError):
        workflow.record_transfer_decision(case, actor=alice, served_on=D(2999, 1, 1))
    with pytest.raises(ValidationError):  # no protection from a court on a transfer
        workflow.record_transfer_decision(case, actor=alice, served_on=D(2026, 3, 2))
        workflow.appeal_transfer_decision(case, actor=alice, court=COURT, lodged_on=D(2026, 3, 9))
        workflow.record_judgment(
            case,
            actor=alice,
            judgment_on=D(2026, 5, 4),
            outcome="protection_granted",
            subject="transfer_decision",
        )
    assert not Appeal.objects.filter(application=case, judgment_on__isnull=False).exists()


def test_the_case_page_walks_through_the_transfer_appeal(client, alice):
    case = accepted_case(alice, lodged=D(2026, 1, 6), accepted=D(2026, 2, 16))
    client.force_login(alice)

    def record(name, data):
        url = reverse("cases:action", args=[case.pk, name])
        return client.post(url, data)

    assert record("transfer_decision", {"served_on": "2026-03-02"}).status_code == 302
    response = record(
        "transfer_appeal",
        {"court": COURT, "lodged_on": "2026-03-10", "suspensive_effect": "automatic"},
    )
    assert response.status_code == 302
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Dublin transfer decision" in html
    assert reverse("cases:action", args=[case.pk, "transfer_judgment"]) in html
    response = record(
        "transfer_judgment",
        {"subject": "asylum_decision", "judgment_on": "2026-05-04", "outcome": "upheld"},
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(application=case)
    # The view judges the transfer appeal whatever the form's hidden field says.
    assert (appeal.subject, appeal.outcome) == ("transfer_decision", "upheld")
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:action", args=[case.pk, "transfer_further_appeal"]) in html
