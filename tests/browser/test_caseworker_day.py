"""A caseworker's and a decision-maker's day in a real browser, page by page: the dashboard's
deadlines panel fits 1024 and 1280 px, the decide form warns before it is sent, the case
page sums up the limits missed. Screenshots of each page go to the artifacts folder."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts import roles
from cases import workflow
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ruta(sample_case):
    return make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")


@pytest.fixture
def vida(sample_case):
    return make_user("vida", roles.DECISION_MAKER, sample_case.unit, last_name="Kazlauskienė")


def fits_the_window(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_the_dashboards_deadlines_fit_1024_and_1280_px(page, sign_in, screenshot, ruta, vida):
    today = timezone.localdate()
    for days_ago, name in ((2, "Abdullayeva-Karimova"), (9, "Muradov"), (30, "Vasilyeva")):
        case = submit(ruta, family_name=name, submitted_on=today - dt.timedelta(days=days_ago))
        workflow.assign(case, actor=vida, assignee=ruta)
    sign_in("vida")
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/")
        panel = page.locator("#deadlines-panel")
        assert panel.locator("tbody tr").count() >= 3
        assert fits_the_window(page), f"the dashboard scrolls sideways at {width} px"
        assert panel.evaluate("el => el.scrollWidth <= el.clientWidth")
        # A date is one line: it never breaks inside.
        dates = panel.locator("time.date")
        for i in range(dates.count()):
            assert dates.nth(i).evaluate("el => el.getClientRects().length") == 1
        screenshot(f"dashboard-{width}")
    assert page.locator("#missed-count").is_visible()


def test_the_decide_form_warns_and_the_case_page_sums_up_missed_limits(
    page, sign_in, screenshot, sample_case, ruta, vida
):
    workflow.record_interview(sample_case, actor=ruta, interviewed_on=dt.date(2023, 9, 1))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("vida")
    page.goto(f"/cases/{sample_case.pk}/steps/decide/")
    warnings = page.locator("#form-warnings")
    assert warnings.get_by_role("heading", name="Check before you send").is_visible()
    assert "still detained at Foreigners' Registration Centre, Pabradė" in warnings.inner_text()
    screenshot("decide-form-1280")

    page.get_by_label("Decision", exact=True).select_option(value="rejected")
    page.get_by_label("Decided on").fill(timezone.localdate().isoformat())
    page.get_by_label("Reason").fill("The claim was assessed.")
    with page.expect_navigation():
        page.get_by_role("button", name="Decide").click()
    page.wait_for_url(f"**/cases/{sample_case.pk}/")
    summary = page.locator("#limits-missed")
    assert summary.get_by_role("heading", name="Limits missed").is_visible()
    assert re.search(r"Examination period: missed: due \d{4}-\d\d-\d\d", summary.inner_text())
    assert fits_the_window(page)
    screenshot("case-page-1280")


def test_the_timeline_groups_havens_events_and_filters_kinds(
    page, sign_in, screenshot, sample_case, ruta
):
    workflow.add_note(sample_case, actor=ruta, text="Spoke with his lawyer.")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("ruta")
    page.goto(f"/cases/{sample_case.pk}/#timeline")
    timeline = page.locator("#timeline")
    # Deadlines opened because of the detention sit under it, attributed to Haven.
    consequences = timeline.locator(".timeline__consequences .timeline__by")
    assert consequences.count() >= 1
    assert re.match(r"Haven, because of: \w", consequences.first.inner_text())
    screenshot("timeline-grouped-1280")

    # Only notes: no script, a GET form.
    for box in timeline.get_by_role("checkbox").all():
        box.uncheck()
    timeline.get_by_role("checkbox", name="Notes").check()
    with page.expect_navigation():
        timeline.get_by_role("button", name="Show").click()
    assert "kind=note" in page.url
    items = page.locator("#timeline ol.timeline > li")
    assert items.count() == 1
    assert "Spoke with his lawyer." in items.first.inner_text()
    screenshot("timeline-notes-only-1280")


def test_the_sidebar_shows_the_recorded_interview_and_release_asks_where_to(
    page, sign_in, screenshot, sample_case, ruta
):
    from cases.models import Facility

    Facility.objects.create(
        name="Refugee Reception Centre, Rukla", code="rukla", kind="reception", capacity=50
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("ruta")
    page.goto(f"/cases/{sample_case.pk}/")
    side = page.locator("aside.case-side")
    held_on = side.get_by_label("Interview held on")
    held_on.fill("2023-09-01")
    # The sidebar has several record forms (scheduling an interview among them): this one's.
    with page.expect_navigation():
        side.locator("form", has=page.get_by_label("Interview held on")).get_by_role(
            "button", name="Record"
        ).click()
    recorded = page.locator("#interview-recorded")
    assert "2023-09-01" in recorded.inner_text()
    # The form is folded away; it opens filled in, to correct what was recorded.
    assert not side.get_by_label("Interview held on").is_visible()
    side.get_by_text("Correct it", exact=True).click()
    assert side.get_by_label("Interview held on").input_value() == "2023-09-01"
    screenshot("sidebar-interview-recorded-1280")

    page.goto(f"/cases/{sample_case.pk}/steps/release/")
    assert page.get_by_label("Released on").input_value() == timezone.localdate().isoformat()
    page.get_by_label("Where the person goes").select_option(
        label="Refugee Reception Centre, Rukla — 50 of 50 places free"
    )
    page.get_by_label("Reason for release").fill("The court did not extend the detention.")
    screenshot("release-form-1280")
    with page.expect_navigation():
        page.get_by_role("button", name="Release").click()
    placement = page.locator("section[aria-labelledby=placement-heading]")
    assert "Refugee Reception Centre, Rukla" in placement.inner_text()
    assert "Open accommodation" in placement.inner_text()
