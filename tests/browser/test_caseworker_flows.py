"""The core flows in a real browser: sign in, search across scripts, open the sample case,
add a note, release from detention, decide as a decision-maker, and a caseworker's refused
decision (the step is shown blocked with its reason, and a forged POST answers 403).

Each test saves screenshots of the pages it passes through (see conftest.artifacts_dir).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import roles
from cases import workflow
from cases.models import Application
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(sample_case):
    """A caseworker and a decision-maker of the sample case's unit; the case is the
    caseworker's, so that the dashboard is not empty."""
    caseworker = make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")
    decider = make_user("tomas", roles.DECISION_MAKER, sample_case.unit, last_name="Petrauskas")
    workflow.assign(sample_case, actor=decider, assignee=caseworker)
    return caseworker, decider


def test_a_caseworker_finds_the_case_adds_a_note_and_releases(
    page, sign_in, screenshot, sample_case, team
):
    sign_in("ruta")
    assert page.get_by_role("heading", name=re.compile("Dashboard")).is_visible()
    assert page.get_by_role("link", name=sample_case.reference).first.is_visible()
    screenshot("dashboard")

    page.get_by_role("link", name="Facilities").click()
    page.wait_for_url("**/facilities/")
    facilities = page.locator("main").inner_text()
    assert "Foreigners' Registration Centre, Pabradė" in facilities
    assert "KOROLEV" in facilities
    screenshot("facilities")
    page.get_by_role("link", name="New case").click()
    page.wait_for_url("**/cases/new/")
    screenshot("intake")

    page.get_by_role("link", name="Cases", exact=True).click()
    page.wait_for_url("**/cases/")
    screenshot("case-list")

    page.get_by_label("Search", exact=True).fill("Королёв")
    with page.expect_navigation():
        page.get_by_label("Search", exact=True).press("Enter")
    results = page.locator("table.table--cases tbody tr")
    assert results.count() == 1
    assert "KOROLEV" in results.first.inner_text()
    screenshot("search-results")

    with page.expect_navigation():
        page.get_by_role("link", name=sample_case.reference).click()
    assert page.get_by_role("heading", name=re.compile(sample_case.reference)).is_visible()
    assert "Pabradė" in page.locator("#placement-heading + dl").inner_text()
    timeline = page.locator("ol.timeline")
    assert "Detain" in timeline.inner_text()
    screenshot("case-page")
    screenshot("case-page-first-screen", full_page=False)

    page.get_by_label("New note").fill("Lawyer asked for the interview record.")
    with page.expect_navigation():
        page.get_by_role("button", name="Add note").click()
    assert "The note is added." in page.locator(".messages").inner_text()
    first_event = page.locator("ol.timeline > li").first
    assert "Lawyer asked for the interview record." in first_event.inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name="Release", exact=True).click()
    screenshot("transition-form")
    page.get_by_label("Reason for release").fill("The court did not extend the detention.")
    with page.expect_navigation():
        page.get_by_role("button", name="Release").click()
    assert "Under examination" in page.locator(".case-header").inner_text()
    # The release and what it caused (placement ended, detention clocks closed) are on top.
    items = page.locator("ol.timeline > li")
    top = "\n".join(items.nth(i).inner_text() for i in range(6))
    assert "Release" in top
    assert "Placement at Foreigners' Registration Centre, Pabradė ended" in top
    assert "No current placement." in page.locator("#placement-heading + *").inner_text()
    sample_case.refresh_from_db()
    assert sample_case.status == "examination"


def test_a_decision_maker_records_the_interview_and_decides(
    page, sign_in, screenshot, sample_case, team
):
    sign_in("tomas")
    page.goto(reverse("cases:detail", args=[sample_case.pk]))
    interview = page.locator("form", has=page.get_by_label("Interview held on"))
    interview.get_by_label("Interview held on").fill("2023-09-01")
    with page.expect_navigation():
        interview.get_by_role("button", name="Record").click()
    assert "The interview is recorded." in page.locator(".messages").inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name="Decide", exact=True).click()
    page.get_by_label("Decision", exact=True).select_option(label="Subsidiary protection granted")
    page.get_by_label("Decided on").fill("2024-01-10")
    page.get_by_label("Reason", exact=True).fill("Credible fear of prosecution for desertion.")
    screenshot("decide-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Decide").click()
    assert "Decided" in page.locator(".case-header").inner_text()
    assert "Decision: Subsidiary protection granted" in page.locator("ol.timeline").inner_text()
    assert Application.objects.get(pk=sample_case.pk).status == "decided"


def test_a_caseworker_sees_decide_blocked_and_a_forged_post_is_refused(
    page, sign_in, sample_case, team
):
    sign_in("ruta")
    page.goto(reverse("cases:detail", args=[sample_case.pk]))
    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    blocked = page.locator(".step--blocked", has_text="Decide")
    assert "Only a decision-maker may do this." in blocked.inner_text()
    decide_url = reverse("cases:transition", args=[sample_case.pk, "decide"])
    assert page.locator(f'a[href="{decide_url}"]').count() == 0

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        decide_url,
        form={
            "csrfmiddlewaretoken": token,
            "expected_status": "detention",
            "outcome": "rejected",
            "decided_on": "2024-01-10",
            "reason": "Forged",
        },
    )
    assert response.status == 403
    assert "Only a decision-maker may do this." in response.text()
    assert Application.objects.get(pk=sample_case.pk).status == "detention"
