"""A caseworker switches the interface to Lithuanian in the header, and the choice follows them.

The dashboard, the case list, the sample case (detention shown as sulaikymas, at Pabradė) and
a refused step's reason are checked in both languages, with screenshots of each
(`lang-en-*`, `lang-lt-*`), and the Lithuanian pages are checked for leftover English.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import roles
from accounts.models import User
from cases import workflow
from tests.conftest import make_user, totp_code

from .conftest import authenticator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(sample_case):
    caseworker = make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")
    decider = make_user("tomas", roles.DECISION_MAKER, sample_case.unit, last_name="Petrauskas")
    workflow.assign(sample_case, actor=decider, assignee=caseworker)
    return caseworker, decider


# The interface's own text (headings, labels, column heads, buttons, links of the header,
# statuses, steps and their reasons), as opposed to the data shown in it (claims, reasons
# given, names of people, places and rules), which is not translated.
INTERFACE = (
    "header, h1, h2, h3, th, dt, label, button, legend, nav a, .badge, .step__label, "
    ".step__reason, .hint, .empty, .site-footer"
)


def _visible_lines(page) -> set[str]:
    """The lines of interface text on the page, data (references, dates, counts, names of
    people and places) left out."""
    lines = set()
    for text in page.locator(INTERFACE).all_inner_texts():
        for line in text.splitlines():
            line = " ".join(line.split())
            if len(line) < 4 or re.search(r"\d", line) or line in {"English", "Lietuvių"}:
                continue
            if re.search(r"KOROLEV|Korolev|Ivan|Pabradė|Ruta|Tomas|Division|Haven", line):
                continue
            lines.add(line)
    return lines


def _pages(page, screenshot, case, language: str) -> dict[str, set[str]]:
    """Visit the dashboard, the case list and the case page, screenshot each, and return
    their interface text."""
    seen = {}
    page.goto(reverse("cases:dashboard"))
    screenshot(f"lang-{language}-dashboard")
    seen["dashboard"] = _visible_lines(page)
    page.goto(reverse("cases:list"))
    screenshot(f"lang-{language}-case-list")
    seen["list"] = _visible_lines(page)
    page.goto(reverse("cases:detail", args=[case.pk]))
    screenshot(f"lang-{language}-case-page")
    page.locator(".step--blocked").first.scroll_into_view_if_needed()
    screenshot(f"lang-{language}-refused-step", full_page=False)
    seen["case"] = _visible_lines(page)
    return seen


def test_a_caseworker_switches_to_lithuanian_and_keeps_it(
    page, browser, live_server, sign_in, screenshot, sample_case, team
):
    caseworker, _ = team
    sign_in("ruta")
    assert page.locator("html").get_attribute("lang") == "en"
    english = _pages(page, screenshot, sample_case, "en")
    blocked = page.locator(".step--blocked", has_text="Decide")
    assert "Only a decision-maker may do this." in blocked.inner_text()

    # The switch posts to set_language and comes back to the same page, now in Lithuanian.
    with page.expect_navigation():
        page.get_by_role("button", name="Lietuvių").click()
    assert page.url.endswith(reverse("cases:detail", args=[sample_case.pk]))
    assert page.locator("html").get_attribute("lang") == "lt"
    caseworker.refresh_from_db()
    assert caseworker.language == User.Language.LITHUANIAN

    lithuanian = _pages(page, screenshot, sample_case, "lt")
    page.goto(reverse("cases:dashboard"))
    assert page.get_by_role("heading", name=re.compile("Suvestinė")).is_visible()
    assert page.get_by_role("link", name="Bylos", exact=True).is_visible()
    page.goto(reverse("cases:list"))
    assert page.get_by_role("heading", name="Bylos", exact=True).is_visible()
    page.goto(reverse("cases:detail", args=[sample_case.pk]))
    placement = page.locator("#placement-heading + dl").inner_text()
    assert "Sulaikymas" in placement and "Pabradė" in placement
    refused = page.locator(".step--blocked", has_text="Priimti sprendimą")
    assert "Tai gali atlikti tik sprendimą priimantis pareigūnas." in refused.inner_text()
    assert page.get_by_role("heading", name="Įvykių eiga").is_visible()

    # Leftover English: the Lithuanian pages share almost no interface text with the English.
    for name, lines in english.items():
        shared = lines & lithuanian[name]
        assert len(shared) <= max(2, len(lines) // 20), (name, sorted(shared))

    # Another device, whose browser asks for English: the account's choice wins.
    elsewhere = browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        other = elsewhere.new_page()
        other.goto("/accounts/login/")
        assert other.locator("html").get_attribute("lang") == "en"  # signed out: the browser
        other.get_by_label("Username").fill("ruta")
        other.get_by_label("Password").fill("correct horse battery staple")
        with other.expect_navigation():
            other.get_by_role("button", name="Sign in").click()
        # The second factor is asked in the account's language too.
        assert other.locator("html").get_attribute("lang") == "lt"
        other.get_by_label("Kodas").fill(totp_code(authenticator("ruta")))
        with other.expect_navigation():
            other.get_by_role("button", name="Tęsti").click()
        assert other.get_by_role("heading", name=re.compile("Suvestinė")).is_visible()
    finally:
        elsewhere.close()

    # And back to English.
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    caseworker.refresh_from_db()
    assert caseworker.language == User.Language.ENGLISH
