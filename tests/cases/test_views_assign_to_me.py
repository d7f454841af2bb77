"""Taking a case: a caseworker assigns an unassigned case of their unit to themselves ("Assign
to me"); reassigning someone else's case stays with decision-makers; intake offers to assign
the new case to its author."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import roles
from cases import workflow
from cases.models import Application, CaseEvent
from tests.cases.test_views_intake import INTAKE, form_data
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

TAKE_BUTTON = "Assign to me"


@pytest.fixture
def bob(unit):
    return make_user("bob", roles.CASEWORKER, unit)


def detail(client, case) -> str:
    return client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def take(client, case, user):
    return client.post(reverse("cases:assign", args=[case.pk]), {"assignee": user.pk})


def test_a_caseworker_sees_and_uses_assign_to_me_on_an_unassigned_case(client, alice, case):
    client.force_login(alice)
    assert TAKE_BUTTON in detail(client, case)

    response = take(client, case, alice)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == alice
    event = case.events.filter(action="assigned").get()
    assert event.actor == alice
    assert event.kind == CaseEvent.Kind.RECORD
    # Taken: the button is gone.
    assert TAKE_BUTTON not in detail(client, case)


def test_a_caseworker_cannot_take_a_case_someone_else_has(client, alice, bob, dora, case):
    workflow.assign(case, actor=dora, assignee=bob)
    client.force_login(alice)
    assert TAKE_BUTTON not in detail(client, case)
    response = take(client, case, alice)
    assert response.status_code == 403
    assert "only a decision-maker may reassign it" in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to == bob


def test_a_caseworker_cannot_assign_an_unassigned_case_to_someone_else(client, alice, bob, case):
    client.force_login(alice)
    response = take(client, case, bob)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assigned_to is None


def test_another_units_caseworker_cannot_take_the_case(client, oscar, case):
    client.force_login(oscar)
    assert take(client, case, oscar).status_code == 404
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_decision_maker_still_reassigns_someone_elses_case(client, alice, bob, dora, case):
    workflow.assign(case, actor=alice, assignee=alice)
    client.force_login(dora)
    assert take(client, case, bob).status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == bob


def test_the_take_permission_answers_per_case(alice, bob, dora, oscar, case):
    assert alice.has_perm("cases.take_case", case)
    assert not oscar.has_perm("cases.take_case", case)
    workflow.assign(case, actor=dora, assignee=bob)
    case.refresh_from_db()
    assert not alice.has_perm("cases.take_case", case)
    assert dora.has_perm("cases.take_case", case)


def test_intake_offers_to_assign_the_case_to_its_author_checked(client, alice):
    client.force_login(alice)
    html = client.get(INTAKE).content.decode()
    assert 'name="assign_to_me"' in html
    assert 'name="assign_to_me" id="id_assign_to_me" checked' in html


def test_intake_assigns_the_new_case_to_its_author_when_asked(client, alice):
    client.force_login(alice)
    response = client.post(INTAKE, form_data(assign_to_me="on"))
    assert response.status_code == 302
    case = Application.objects.get()
    assert case.assigned_to == alice
    assert "assigned" in case.events.values_list("action", flat=True)


def test_intake_leaves_the_case_unassigned_when_unticked(client, alice):
    client.force_login(alice)
    assert client.post(INTAKE, form_data()).status_code == 302
    assert Application.objects.get().assigned_to is None


def test_a_closed_case_offers_no_take(client, alice, dora):
    case = submit(alice)
    workflow.withdraw(
        case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    client.force_login(alice)
    assert TAKE_BUTTON not in detail(client, case)
