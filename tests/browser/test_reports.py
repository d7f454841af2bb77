"""The management reports in a real browser: a decision-maker opens each report of the
small world of `tests/reports/world.py`, week by week from January to March 2024, and sees
its heading, its chart (an SVG image that loads) and its table; a screenshot of each goes to
the artifacts folder."""

from __future__ import annotations

import pytest

from reports.figures import REPORTS
from tests.reports.world import build

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_report_page_shows_its_chart_and_table(
    page, sign_in, screenshot, alice, dora, oscar, pabrade
):
    build(alice, dora, oscar, pabrade)
    sign_in("dora")
    page.goto("/reports/")
    assert page.get_by_role("heading", name="Reports", exact=True, level=1).is_visible()
    screenshot("reports-index")
    for slug, report in REPORTS.items():
        response = page.goto(f"/reports/{slug}/?start=2024-01-01&end=2024-03-31&step=week")
        assert response.status == 200
        assert page.get_by_role("heading", name=str(report.title), level=1).is_visible()
        chart = page.locator("figure img")
        assert chart.count() == 1
        chart.scroll_into_view_if_needed()
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.locator("table.table tbody tr").count() > 0
        assert page.get_by_role("link", name="CSV").is_visible()
        screenshot(f"report-{slug}")
