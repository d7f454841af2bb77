"""Emergency access in a real browser: a Border Guard caseworker searches the sample case's
reference at night, is told it is not in their unit, asks for emergency access with a reason,
reads the case with its sensitive facts hidden, reveals them with one click; the case's
unit's decision-maker, told at once, sees the access and extends it to work. Screenshots of
each step go to the artifacts folder."""

from __future__ import annotations

import re

import pytest

from accounts import roles
from accounts.models import Unit
from cases.models import Applicant, BreakGlassGrant, CaseEvent
from tests.conftest import make_user, totp_code

from .conftest import PASSWORD, artifacts_dir, authenticator

pytestmark = pytest.mark.django_db(transaction=True)

HEALTH = "Needs insulin twice a day"


@pytest.fixture
def people(sample_case):
    Applicant.objects.filter(pk=sample_case.applicant_id).update(health_notes=HEALTH)
    border = Unit.objects.create(name="Medininkai border post")
    return {
        "vytas": make_user("vytas", roles.CASEWORKER, border, last_name="Petraitis"),
        "dalia": make_user("dalia", roles.DECISION_MAKER, sample_case.unit, last_name="Kairė"),
    }


def header_search(page, text: str) -> None:
    box = page.get_by_role("search", name="Search cases").get_by_role("searchbox")
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")


def test_a_caseworker_of_another_unit_opens_the_case_in_an_emergency(
    browser, live_server, page, sign_in, screenshot, sample_case, people
):
    sign_in("vytas")
    header_search(page, sample_case.reference)
    offer = page.locator("#emergency-offer")
    assert "not in your unit" in offer.inner_text()
    screenshot("break-glass-1-not-in-your-unit", full_page=False)

    with page.expect_navigation():
        offer.get_by_role("link", name="Request emergency access").click()
    assert page.get_by_role("heading", name=re.compile("Emergency access to")).is_visible()
    page.get_by_label("Why you must open this case now").fill(
        "The applicant is at the Medininkai post now and asks for insulin."
    )
    screenshot("break-glass-2-reason", full_page=False)
    with page.expect_navigation():
        page.get_by_role("button", name="Open the case now").click()

    page.wait_for_url(f"**/cases/{sample_case.pk}/")
    assert "read-only" in page.locator("#my-emergency-access").inner_text()
    assert HEALTH not in page.content()
    assert page.get_by_role("button", name="Add note").count() == 0
    screenshot("break-glass-3-case-read-only")

    with page.expect_navigation():
        page.get_by_role("button", name="Reveal sensitive facts").click()
    assert HEALTH in page.locator("#applicant-heading + dl").inner_text()
    screenshot("break-glass-4-revealed")
    assert CaseEvent.objects.filter(
        application=sample_case, action="reveal", actor=people["vytas"]
    ).exists()

    # The case's unit's decision-maker was told, and extends the access to work.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    other = context.new_page()
    device = authenticator("dalia")
    other.goto("/accounts/login/")
    other.get_by_label("Username").fill("dalia")
    other.get_by_label("Password").fill(PASSWORD)
    with other.expect_navigation():
        other.get_by_role("button", name="Sign in").click()
    if "/accounts/two-factor/" in other.url:
        other.get_by_label("Code").fill(totp_code(device))
        with other.expect_navigation():
            other.get_by_role("button", name="Continue").click()
    other.goto("/notifications/")
    assert f"Emergency access to {sample_case.reference}" in other.content()
    other.goto(f"/cases/{sample_case.pk}/")
    panel = other.locator("#emergency-access")
    assert "Vytas Petraitis" in panel.inner_text()
    with other.expect_navigation():
        panel.get_by_role("button", name="Allow to work").click()
    other.locator("#emergency-access").scroll_into_view_if_needed()
    other.screenshot(path=str(artifacts_dir() / "break-glass-5-extended.png"), full_page=True)
    context.close()
    assert BreakGlassGrant.objects.get().extended_by == people["dalia"]

    page.reload()
    assert "extended to work" in page.locator("#my-emergency-access").inner_text()
    assert page.get_by_role("button", name="Add note").is_visible()
