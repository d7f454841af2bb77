"""The Django admin: every model's pages, transitions through the workflow, scoping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from cases import workflow
from cases.models import CaseEvent, DeadlineRule, Facility


def change_url(case) -> str:
    return reverse("admin:cases_application_change", args=[case.pk])


def transition_url(case, name: str) -> str:
    return reverse("admin:cases_application_transition", args=[case.pk, name])


@pytest.fixture
def admin_client_root(client, root):
    client.force_login(root)
    return client


def test_it_shows_allowed_transitions_as_buttons_and_blocked_ones_with_reasons(
    admin_client_root, build_case
):
    case = build_case("examination")
    response = admin_client_root.get(change_url(case))
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'name="_fsm_transition_to"\s+value="detain"', page)
    assert not re.search(r'name="_fsm_transition_to"\s+value="decide"', page)
    assert "No interview is recorded" in page
    assert 'name="status"' not in page


def test_a_button_opens_the_transition_form(admin_client_root, case):
    response = admin_client_root.post(
        change_url(case),
        {
            "applicant": case.applicant_id,
            "procedure": case.procedure,
            "submitted_on": case.submitted_on.isoformat(),
            "submission_authority": case.submission_authority,
            "placements-TOTAL_FORMS": "0",
            "placements-INITIAL_FORMS": "0",
            "deadlines-TOTAL_FORMS": "0",
            "deadlines-INITIAL_FORMS": "0",
            "appeals-TOTAL_FORMS": "0",
            "appeals-INITIAL_FORMS": "0",
            "_fsm_transition_to": "start_examination",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == transition_url(case, "start_examination")


def test_it_runs_a_transition_through_the_workflow(admin_client_root, root, case, pabrade):
    response = admin_client_root.post(
        transition_url(case, "detain"),
        {
            "expected_status": "submitted",
            "facility": pabrade.pk,
            "legal_basis": "Art. 113",
            "order_reference": "SBGS-7",
            "reason": "Correction: detention was not recorded",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "detention"
    event = case.events.get(action="detain")
    assert event.actor == root
    assert event.reason == "Correction: detention was not recorded"
    assert case.open_detention().facility == pabrade
    assert case.deadlines.open().filter(rule="detention-48h").exists()


def test_it_asks_for_a_reason(admin_client_root, case):
    response = admin_client_root.post(
        transition_url(case, "start_examination"), {"expected_status": "submitted", "reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "submitted"


def test_a_refused_transition_shows_an_error_not_a_500(admin_client_root, build_case):
    case = build_case("examination")
    response = admin_client_root.post(
        transition_url(case, "decide"),
        {
            "expected_status": "examination",
            "outcome": "rejected",
            "decided_on": "2024-01-10",
            "reason": "Decided",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "No interview is recorded" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "examination"


def test_a_stale_transition_shows_an_error(admin_client_root, build_case):
    case = build_case("detention")
    response = admin_client_root.post(
        transition_url(case, "withdraw"),
        {"expected_status": "examination", "kind": "explicit", "reason": "Left"},
        follow=True,
    )
    assert "changed while you were looking" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "detention"


def test_an_unknown_transition_answers_404(admin_client_root, case):
    assert admin_client_root.get(transition_url(case, "explode")).status_code == 404
    assert admin_client_root.get(transition_url(case, "save")).status_code == 404


def test_a_transition_not_possible_from_the_state_is_refused(admin_client_root, case):
    response = admin_client_root.get(transition_url(case, "release"), follow=True)
    assert "Not possible while the case is" in response.content.decode()


@pytest.mark.parametrize(
    "model",
    [
        "cases.application",
        "cases.applicant",
        "cases.facility",
        "cases.placement",
        "cases.caseevent",
        "cases.deadline",
        "cases.deadlinerule",
        "cases.note",
        "cases.document",
        "accounts.user",
        "accounts.unit",
    ],
)
def test_every_admin_page_answers(admin_client_root, build_case, alice, model):
    case = build_case("detention")
    workflow.add_note(case, actor=alice, text="Interview scheduled")
    app_label, model_name = model.split(".")
    response = admin_client_root.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200
    assert (
        admin_client_root.get(
            reverse(f"admin:{app_label}_{model_name}_changelist"), {"q": "<script>"}
        ).status_code
        == 200
    )


def test_the_timeline_is_read_only_in_the_admin(admin_client_root, case):
    event = case.events.first()
    url = reverse("admin:cases_caseevent_change", args=[event.pk])
    page = admin_client_root.get(url).content.decode()
    assert 'name="_save"' not in page
    assert admin_client_root.post(url, {"reason": "rewritten"}).status_code == 403
    assert admin_client_root.get(reverse("admin:cases_caseevent_add")).status_code == 403
    delete = reverse("admin:cases_caseevent_delete", args=[event.pk])
    assert admin_client_root.post(delete, {"post": "yes"}).status_code == 403
    assert CaseEvent.objects.filter(pk=event.pk, reason=event.reason).exists()


def correction_form(case, **changes) -> dict:
    data = {
        "applicant": case.applicant_id,
        "procedure": case.procedure,
        "submitted_on": case.submitted_on.isoformat(),
        "lodged_on": case.lodged_on.isoformat() if case.lodged_on else "",
        "apprehended_on": case.apprehended_on.isoformat() if case.apprehended_on else "",
        "submission_authority": case.submission_authority,
        "placements-TOTAL_FORMS": "0",
        "placements-INITIAL_FORMS": "0",
        "deadlines-TOTAL_FORMS": "0",
        "deadlines-INITIAL_FORMS": "0",
        "appeals-TOTAL_FORMS": "0",
        "appeals-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_an_admin_correction_runs_the_workflow_and_moves_the_clocks(admin_client_root, root, case):
    due_before = case.deadlines.get(rule="examination").due_on

    response = admin_client_root.post(
        change_url(case),
        correction_form(
            case,
            procedure="accelerated",
            submitted_on="2023-08-09",
            correction_reason="The form was dated 9 August.",
        ),
    )

    assert response.status_code == 302
    event = case.events.get(action="corrected", kind="record")
    assert event.actor == root
    assert event.reason == "The form was dated 9 August."
    assert event.data["fields"] == ["procedure", "submitted_on"]
    assert event.data["changes"]["submitted_on"] == {"from": "2023-08-11", "to": "2023-08-09"}
    assert case.deadlines.get(rule="examination").due_on == due_before - dt.timedelta(days=2)
    assert not case.events.filter(action="admin_edit").exists()


def test_an_admin_correction_without_a_reason_is_refused_beside_the_field(admin_client_root, case):
    response = admin_client_root.post(
        change_url(case), correction_form(case, submitted_on="2023-08-09")
    )

    assert response.status_code == 200
    assert "Say why you correct the record." in response.content.decode()
    case.refresh_from_db()
    assert case.submitted_on == dt.date(2023, 8, 11)
    assert not case.events.filter(action="corrected").exists()


def test_an_impossible_correction_is_shown_beside_its_field_not_a_500(admin_client_root, case):
    response = admin_client_root.post(
        change_url(case),
        correction_form(case, lodged_on="2023-08-01", correction_reason="Typo"),
    )

    assert response.status_code == 200
    assert "cannot be lodged before it was made" in response.content.decode()
    case.refresh_from_db()
    assert case.lodged_on is None


def test_staff_who_are_not_superusers_cannot_correct_the_record(client, case, unit):
    from tests.conftest import make_user

    staff = make_user("sam", roles.DECISION_MAKER, unit, is_staff=True)
    client.force_login(staff)

    page = client.get(change_url(case)).content.decode()
    client.post(
        change_url(case), correction_form(case, submitted_on="2023-08-09", correction_reason="x")
    )

    assert 'name="submitted_on"' not in page
    case.refresh_from_db()
    assert case.submitted_on == dt.date(2023, 8, 11)
    assert not case.events.filter(action="corrected").exists()


def test_staff_of_another_unit_see_only_their_units_cases(client, case, other_unit):
    from tests.conftest import make_user

    staff = make_user("sam", roles.CASEWORKER, other_unit, is_staff=True)
    client.force_login(staff)
    listing = client.get(reverse("admin:cases_application_changelist"))
    assert listing.status_code == 200
    assert case.reference not in listing.content.decode()
    assert "Korolev".upper() not in listing.content.decode()
    # A case that is not theirs answers like a missing one: a redirect with a message.
    response = client.get(change_url(case))
    assert response.status_code == 302
    assert client.get(transition_url(case, "detain")).status_code == 302
    events = client.get(reverse("admin:cases_caseevent_changelist"))
    assert case.reference not in events.content.decode()


def test_an_administrator_reads_every_case_and_runs_no_transition(client, adam, build_case):
    case = build_case("examination")
    client.force_login(adam)
    page = client.get(change_url(case)).content.decode()
    assert case.reference in page
    assert 'name="_fsm_transition_to"' not in page
    assert "Only a caseworker or decision-maker" in page
    response = client.post(
        transition_url(case, "withdraw"),
        {"expected_status": "examination", "kind": "explicit", "reason": "x"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == "examination"
    assert "Only a caseworker or decision-maker" in response.content.decode()


def test_an_administrator_edits_deadline_rules_and_facilities(client, adam):
    client.force_login(adam)
    rule = DeadlineRule.objects.get(code="appeal-window")
    url = reverse("admin:cases_deadlinerule_change", args=[rule.pk])
    assert client.get(url).status_code == 200
    facility_add = client.post(
        reverse("admin:cases_facility_add"),
        {"name": "Reception centre, Rukla", "code": "rukla", "kind": "reception", "capacity": "40"},
    )
    assert facility_add.status_code == 302
    assert Facility.objects.filter(code="rukla").exists()


def test_groups_exist_with_their_permissions(db):
    caseworker = Group.objects.get(name=roles.CASEWORKER)
    assert caseworker.permissions.filter(codename="view_application").exists()
    assert not caseworker.permissions.filter(codename="change_deadlinerule").exists()
    administrator = Group.objects.get(name=roles.ADMINISTRATOR)
    assert administrator.permissions.filter(codename="change_deadlinerule").exists()
    assert not administrator.permissions.filter(codename="change_application").exists()


def test_the_document_page_links_to_the_access_checked_download(
    admin_client_root, case, alice, settings, tmp_path
):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    document = workflow.add_document(
        case, actor=alice, file=ContentFile(b"Interview record\n"), original_name="record.txt"
    )
    page = admin_client_root.get(
        reverse("admin:cases_document_change", args=[document.pk])
    ).content.decode()
    assert reverse("cases:document", args=[case.pk, document.pk]) in page
    assert document.file.name not in page
