"""Transition pages, record actions and waivers: allowed, refused (403/404/409), bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import workflow
from cases.models import Application, CaseEvent, Deadline, Facility, Placement

pytestmark = pytest.mark.django_db


def step_url(case, name: str) -> str:
    return reverse("cases:transition", args=[case.pk, name])


def events(case) -> int:
    return CaseEvent.objects.filter(application=case).exclude(kind="access").count()


def test_the_form_page_carries_the_status_the_user_saw(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    response = client.get(step_url(case, "detain"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="expected_status"' in html
    assert 'value="examination"' in html
    assert 'name="reason"' in html


def test_a_form_or_refusal_page_naming_the_applicant_is_recorded_as_a_view(
    client, alice, dora, build_case
):
    case = build_case("examination")
    client.force_login(alice)

    def views() -> list[tuple[str, int]]:
        return list(
            CaseEvent.objects.filter(application=case, kind="access").values_list(
                "action", "actor_id"
            )
        )

    assert case.applicant.full_name in client.get(step_url(case, "detain")).content.decode()
    assert views() == [("form", alice.pk)]
    refused = client.get(step_url(case, "decide"))  # caseworkers may not decide: 403
    assert refused.status_code == 403
    assert case.applicant.full_name in refused.content.decode()
    assert views() == [("form", alice.pk), ("form", alice.pk)]

    client.force_login(dora)
    access_log = client.get(reverse("cases:detail", args=[case.pk])).context["access_log"]
    assert [row["what"] for row in access_log][-2:] == ["Opened a form on the case"] * 2


def test_the_detain_form_lists_detention_facilities_with_free_places(
    client, alice, build_case, pabrade, rukla
):
    case = build_case("examination")
    client.force_login(alice)
    form = client.get(step_url(case, "detain")).context["form"]
    choices = [label for value, label in form.fields["facility"].choices if value]
    assert choices == ["Foreigners' Registration Centre, Pabradė — 3 of 3 places free"]


def test_a_caseworker_detains_through_the_form(client, alice, build_case, pabrade):
    case = build_case("examination")
    client.force_login(alice)
    response = client.post(
        step_url(case, "detain"),
        {
            "expected_status": "examination",
            "facility": pabrade.pk,
            "legal_basis": "Art. 113",
            "order_reference": "SBGS-9",
            "ordering_authority": "SBGS",
            "reason": "Risk of absconding",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    case.refresh_from_db()
    assert case.status == "detention"
    assert case.placements.get().facility == pabrade


def test_a_caseworker_releases_with_a_reason(client, alice, build_case):
    case = build_case("detention")
    client.force_login(alice)
    response = client.post(
        step_url(case, "release"),
        {"expected_status": "detention", "reason": "Court refused the extension"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "examination"
    assert not Placement.objects.filter(application=case, ends_at__isnull=True).exists()


def test_it_refuses_a_missing_reason_beside_the_field(client, alice, build_case):
    case = build_case("detention")
    before = events(case)
    client.force_login(alice)
    response = client.post(step_url(case, "release"), {"expected_status": "detention"})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    case.refresh_from_db()
    assert case.status == "detention"
    assert events(case) == before


def test_a_full_facility_is_refused_beside_the_facility_field(client, alice, dora, pabrade):
    from tests.conftest import submit

    for name in ("A", "B", "C"):
        other = submit(alice, family_name=f"Full{name}")
        workflow.detain(
            other,
            actor=alice,
            expected_status="submitted",
            reason="r",
            facility=pabrade,
            legal_basis="Art. 113",
            order_reference=name,
        )
    case = submit(alice, family_name="Last")
    client.force_login(alice)
    data = {
        "expected_status": "submitted",
        "facility": pabrade.pk,
        "legal_basis": "Art. 113",
        "order_reference": "SBGS-4",
        "reason": "Risk",
    }
    form = client.get(step_url(case, "detain")).context["form"]
    assert "full" in dict(form.fields["facility"].choices)[pabrade.pk]
    response = client.post(step_url(case, "detain"), data)
    assert response.status_code == 400
    assert "is full" in response.context["form"].errors["facility"][0]
    html = response.content.decode()
    assert "SBGS-4" in html  # what the user typed is kept
    case.refresh_from_db()
    assert case.status == "submitted"


def test_a_caseworker_post_to_decide_answers_403(client, alice, build_case):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    before = events(case)
    client.force_login(alice)
    response = client.post(
        step_url(case, "decide"),
        {
            "expected_status": "examination",
            "outcome": "rejected",
            "decided_on": "2024-01-10",
            "reason": "Forged",
        },
    )
    assert response.status_code == 403
    assert "Only a decision-maker may do this." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "examination"
    assert events(case) == before


def test_a_caseworker_get_of_the_decide_page_says_why_not(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    response = client.get(step_url(case, "decide"))
    assert response.status_code == 403
    assert "Only a decision-maker may do this." in response.content.decode()


def test_decide_without_an_interview_is_refused_with_the_reason(client, dora, build_case):
    case = build_case("examination")
    client.force_login(dora)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    steps = {t["name"]: t for t in response.context["transitions"]}
    assert steps["decide"]["blocked_reason"].startswith("No interview is recorded")
    response = client.post(
        step_url(case, "decide"),
        {
            "expected_status": "examination",
            "outcome": "rejected",
            "decided_on": "2024-01-10",
            "reason": "r",
        },
    )
    assert response.status_code == 403


def test_a_decision_maker_decides(client, alice, dora, build_case):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    client.force_login(dora)
    response = client.post(
        step_url(case, "decide"),
        {
            "expected_status": "examination",
            "outcome": "subsidiary_protection",
            "decided_on": "2024-01-10",
            "served_on": "",
            "reason": "Assessed",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "decided"
    assert case.decision_outcome == "subsidiary_protection"


def test_a_decision_in_the_future_is_refused_beside_the_field(client, alice, dora, build_case):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    client.force_login(dora)
    future = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    response = client.post(
        step_url(case, "decide"),
        {
            "expected_status": "examination",
            "outcome": "rejected",
            "decided_on": future,
            "reason": "Assessed",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["decided_on"] == ["This date is in the future."]
    assert f'value="{future}"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == "examination"


def test_a_stale_status_answers_409_and_changes_nothing(client, alice, build_case):
    case = build_case("examination")
    before = events(case)
    client.force_login(alice)
    response = client.post(
        step_url(case, "withdraw"),
        {"expected_status": "detention", "kind": "explicit", "reason": "Left"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed while you were looking at it" in html
    assert reverse("cases:detail", args=[case.pk]) in html
    case.refresh_from_db()
    assert case.status == "examination"
    assert events(case) == before


def test_a_case_changed_by_someone_else_answers_409(client, alice, dora, build_case, pabrade):
    case = build_case("examination")
    client.force_login(alice)
    page = client.get(step_url(case, "withdraw"))
    seen = page.context["form"].initial["expected_status"]
    workflow.detain(
        case,
        actor=dora,
        expected_status="examination",
        reason="r",
        facility=pabrade,
        legal_basis="Art. 113",
        order_reference="X",
    )
    response = client.post(
        step_url(case, "withdraw"), {"expected_status": seen, "kind": "explicit", "reason": "r"}
    )
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.status == "detention"


def test_an_unknown_transition_answers_404(client, alice, case):
    client.force_login(alice)
    assert client.get(step_url(case, "explode")).status_code == 404
    assert client.post(step_url(case, "explode"), {"reason": "x"}).status_code == 404
    assert client.get(step_url(case, "_run_transition")).status_code == 404


def test_another_units_case_answers_404_on_every_step(client, oscar, case):
    client.force_login(oscar)
    for name in workflow.TRANSITIONS:
        assert client.get(step_url(case, name)).status_code == 404
        response = client.post(step_url(case, name), {"expected_status": "submitted"})
        assert response.status_code == 404


def test_an_administrator_runs_no_transition(client, adam, case):
    client.force_login(adam)
    response = client.post(
        step_url(case, "start_examination"), {"expected_status": "submitted", "reason": "x"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "submitted"


def test_start_examination_assigns_the_chosen_caseworker(client, alice, dora, case):
    client.force_login(dora)
    response = client.post(
        step_url(case, "start_examination"),
        {"expected_status": "submitted", "assignee": alice.pk, "reason": "Go"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.assigned_to) == ("examination", alice)


def test_withdraw_requires_a_kind(client, alice, case):
    client.force_login(alice)
    response = client.post(
        step_url(case, "withdraw"), {"expected_status": "submitted", "reason": "Gone"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["kind"]


def test_appeal_remit_and_close_through_the_forms(client, alice, dora, build_case):
    case = build_case("decided")
    client.force_login(alice)
    response = client.post(
        step_url(case, "appeal"),
        {
            "expected_status": "decided",
            "court": "Regional Administrative Court",
            "lodged_on": "2024-01-20",
            "reason": "Appeal lodged",
        },
    )
    assert response.status_code == 302
    client.force_login(dora)
    response = client.post(
        step_url(case, "remit"),
        {"expected_status": "appealed", "judgment_final_on": "2024-05-01", "reason": "Sent back"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "examination"


def test_close_after_a_recorded_judgment(client, alice, dora, build_case):
    case = build_case("appealed")
    client.force_login(alice)
    response = client.post(
        reverse("cases:action", args=[case.pk, "judgment"]),
        {"judgment_on": "2024-06-01", "outcome": "upheld"},
    )
    assert response.status_code == 302
    client.force_login(dora)
    response = client.post(step_url(case, "close"), {"expected_status": "appealed", "reason": "F"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed"
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert "no further steps" in page.content.decode()


# -- actions that change no state -------------------------------------------------------


def test_it_records_an_interview(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert reverse("cases:action", args=[case.pk, "interview"]) in page.content.decode()
    response = client.post(
        reverse("cases:action", args=[case.pk, "interview"]), {"interviewed_on": "2023-09-01"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.interviewed_on == dt.date(2023, 9, 1)


def test_the_confirmation_is_in_the_language_of_the_user_who_sees_it(client, alice, build_case):
    case = build_case("examination")
    alice.language = "lt"
    alice.save(update_fields=["language"])
    client.force_login(alice)

    response = client.post(
        reverse("cases:action", args=[case.pk, "interview"]),
        {"interviewed_on": "2023-09-01"},
        follow=True,
    )

    assert "Pokalbis įrašytas." in response.content.decode()
    assert "The interview is recorded." not in response.content.decode()


def test_an_interview_needs_a_date_or_a_waiver_reason(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    response = client.post(reverse("cases:action", args=[case.pk, "interview"]), {})
    assert response.status_code == 400
    assert response.context["form"].errors["interviewed_on"]


def test_an_interview_before_the_application_is_refused_beside_the_field(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    response = client.post(
        reverse("cases:action", args=[case.pk, "interview"]), {"interviewed_on": "2020-01-01"}
    )
    assert response.status_code == 400
    assert "precede" in response.context["form"].errors["interviewed_on"][0]
    case.refresh_from_db()
    assert case.interviewed_on is None


def test_it_records_a_court_order(client, alice, build_case):
    case = build_case("detention")
    client.force_login(alice)
    today = timezone.localdate()
    response = client.post(
        reverse("cases:action", args=[case.pk, "court_order"]),
        {
            "court": "Utena District Court",
            "case_number": "eI2-1",
            "order_on": today.isoformat(),
            "until": (today + dt.timedelta(days=90)).isoformat(),
        },
    )
    assert response.status_code == 302
    placement = case.placements.get(ends_at__isnull=True)
    assert placement.court_name == "Utena District Court"


def test_a_court_order_without_detention_is_refused(client, alice, build_case):
    case = build_case("examination")
    client.force_login(alice)
    response = client.post(
        reverse("cases:action", args=[case.pk, "court_order"]),
        {"court": "C", "case_number": "1", "order_on": "2023-09-01", "until": "2023-10-01"},
    )
    assert response.status_code == 403


def test_it_records_service_of_the_decision(client, alice, dora, build_case):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    workflow.decide(
        case,
        actor=dora,
        expected_status="examination",
        reason="r",
        outcome="rejected",
        decided_on=dt.date(2024, 1, 10),
    )
    client.force_login(alice)
    response = client.post(
        reverse("cases:action", args=[case.pk, "service"]),
        {"served_on": "2024-01-12", "method": "post", "language": "Russian"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.served_on == dt.date(2024, 1, 12)
    assert (case.service_method, case.service_language) == ("post", "Russian")


def test_an_unknown_action_answers_404(client, alice, case):
    client.force_login(alice)
    assert client.get(reverse("cases:action", args=[case.pk, "nope"])).status_code == 404


def test_an_action_on_another_units_case_answers_404(client, oscar, case):
    client.force_login(oscar)
    url = reverse("cases:action", args=[case.pk, "interview"])
    assert client.post(url, {"interviewed_on": "2023-09-01"}).status_code == 404


# -- waiving a deadline -----------------------------------------------------------------


def test_a_decision_maker_waives_a_deadline(client, dora, case):
    deadline = Deadline.objects.open().filter(application=case).first()
    client.force_login(dora)
    url = reverse("cases:waive_deadline", args=[case.pk, deadline.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Applicant unreachable; documented"})
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.status == "waived"


def test_a_caseworker_may_not_waive_a_deadline(client, alice, case):
    deadline = Deadline.objects.open().filter(application=case).first()
    client.force_login(alice)
    url = reverse("cases:waive_deadline", args=[case.pk, deadline.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
    deadline.refresh_from_db()
    assert deadline.status == "open"


def test_waiving_needs_a_reason(client, dora, case):
    deadline = Deadline.objects.open().filter(application=case).first()
    client.force_login(dora)
    url = reverse("cases:waive_deadline", args=[case.pk, deadline.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]


def test_a_deadline_of_another_case_answers_404(client, alice, dora, case):
    from tests.conftest import submit

    other = submit(alice, family_name="Other")
    deadline = Deadline.objects.open().filter(application=other).first()
    client.force_login(dora)
    url = reverse("cases:waive_deadline", args=[case.pk, deadline.pk])
    assert client.get(url).status_code == 404


def test_facility_model_is_untouched_by_a_refused_detention(client, alice, case, rukla):
    client.force_login(alice)
    response = client.post(
        step_url(case, "detain"),
        {
            "expected_status": "submitted",
            "facility": rukla.pk,
            "legal_basis": "Art. 113",
            "order_reference": "R",
            "reason": "r",
        },
    )
    # Rukla is a reception centre: it is not even offered.
    assert response.status_code == 400
    assert response.context["form"].errors["facility"]
    assert not Placement.objects.exists()
    assert Application.objects.get(pk=case.pk).status == "submitted"
    assert Facility.objects.get(pk=rukla.pk).occupancy() == 0
