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

    page.get_by_label("Decision", exact=True).select_option(label="Rejected")
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
