"""The admin shows codes and JSON as labels: an event's action and details as the case page
writes them, a case's grounds by their translated names."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import roles
from cases import workflow
from cases.models import CaseEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(unit):
    user = make_user("ada", roles.ADMINISTRATOR, unit, is_staff=True)
    return user


def test_the_event_list_names_actions(client, root, case, alice):
    workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    client.force_login(root)
    html = client.get(
        reverse("admin:cases_caseevent_changelist"), {"application__id__exact": case.pk}
    ).content.decode()
    assert '<td class="field-action_label">Start examination</td>' in html
    assert '<td class="field-action_label">Deadline opened</td>' in html
    assert '<td class="field-action_label">start_examination</td>' not in html


def test_an_events_details_are_written_out_not_json(client, root, case):
    event = CaseEvent.objects.filter(application=case, kind="deadline").first()
    client.force_login(root)
    html = client.get(reverse("admin:cases_caseevent_change", args=[event.pk])).content.decode()
    assert "Deadline opened: " in html
    assert '"rule":' not in html and "&quot;rule&quot;" not in html


def test_grounds_are_shown_by_their_names(client, staff, alice):
    from tests.conftest import submit

    case = submit(alice, grounds=["political_opinion", "military_service"])
    client.force_login(staff)
    response = client.get(reverse("admin:cases_application_change", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Political opinion; Refusal of military service (desertion, draft evasion)" in html
    assert "political_opinion" not in html


def test_the_event_lists_action_filter_names_actions_and_filters(client, root, case, alice):
    workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    client.force_login(root)
    url = reverse("admin:cases_caseevent_changelist")
    response = client.get(url)
    filters = {spec.title: spec for spec in response.context["cl"].filter_specs}
    choices = [c["display"] for c in filters["action"].choices(response.context["cl"])]
    assert "Start examination" in choices and "Document added" in choices
    assert "start_examination" not in choices and "document_added" not in choices
    response = client.get(url, {"action": "start_examination"})
    shown = list(response.context["cl"].result_list)
    assert shown and {e.action for e in shown} == {"start_examination"}


def test_the_admins_date_drill_down_writes_iso_dates(client, root, case):
    client.force_login(root)
    day = case.submitted_on
    html = client.get(
        reverse("admin:cases_application_changelist"),
        {"submitted_on__year": day.year, "submitted_on__month": day.month},
    ).content.decode()
    assert f"{day:%m-%d}" in html
    assert day.strftime("%B") + " " + str(day.day) not in html
