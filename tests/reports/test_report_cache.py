"""A report's figures are computed once per version of the report rows and filters (the page
and its chart, two requests, compute them once) and never outlive a change of a case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import workflow

from .world import END, build, on

pytestmark = pytest.mark.django_db
PERIOD = {"start": "2024-01-01", "end": "2024-08-01"}


@pytest.fixture
def world(alice, dora, oscar, pabrade):
    return build(alice, dora, oscar, pabrade)


def summing(queries) -> list[str]:
    """The queries that add up report rows (what a computation of the figures runs)."""
    return [q["sql"] for q in queries if "reports_reportrow" in q["sql"] and "SUM(" in q["sql"]]


def get(client, url, params):
    with on(END.date()), CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, queries


def test_the_chart_uses_the_figures_its_page_computed(client, dora, world, settings):
    settings.REPORT_CACHE_SECONDS = 300
    client.force_login(dora)
    page, queries = get(client, reverse("reports:report", args=["backlog"]), PERIOD)
    assert summing(queries)
    assert "Figures computed at 2024-08-01 12:00." in page.content.decode()
    chart, queries = get(client, reverse("reports:chart", args=["backlog"]), PERIOD)
    assert summing(queries) == []
    assert chart["Content-Type"] == "image/svg+xml"
    # Other filters are other figures.
    _page, queries = get(
        client, reverse("reports:report", args=["backlog"]), {**PERIOD, "step": "week"}
    )
    assert summing(queries)


def test_a_change_of_a_case_shows_at_once(client, alice, dora, world, settings):
    settings.REPORT_CACHE_SECONDS = 300
    client.force_login(dora)
    url = reverse("reports:report", args=["backlog"])
    before, _queries = get(client, url, PERIOD)
    last = before.context["figures"].rows[-1]
    # Case 3 (still submitted) moves on to examination on the last day of the period.
    with on(END.date(), hour=9):
        workflow.start_examination(
            world["three"], actor=alice, expected_status="submitted", reason="Go"
        )
    after, queries = get(client, url, PERIOD)
    assert summing(queries)
    now = after.context["figures"].rows[-1]
    assert now[1] == last[1] - 1 and now[2] == last[2] + 1  # submitted -1, examination +1


def test_without_the_cache_each_request_computes(client, dora, world, settings):
    settings.REPORT_CACHE_SECONDS = 0
    client.force_login(dora)
    url = reverse("reports:report", args=["workload"])
    for _round in range(2):
        _response, queries = get(client, url, {})
        assert summing(queries)


def test_a_cache_that_is_down_costs_time_not_the_report(client, dora, world, settings):
    settings.REPORT_CACHE_SECONDS = 300
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        }
    }
    client.force_login(dora)
    response, queries = get(client, reverse("reports:report", args=["backlog"]), PERIOD)
    assert summing(queries)
    assert response.context["figures"].has_data
    assert dt.date(2024, 1, 31) == response.context["figures"].rows[0][0]
