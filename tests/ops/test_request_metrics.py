"""Requests and their latency per view in `/metrics`, summed over every web process."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from haven import request_metrics
from haven.request_metrics import KEY, RECORDER, Recorder

from .test_metrics import figures

pytestmark = pytest.mark.django_db

LIST = "view=cases:list"


@pytest.fixture
def fresh(settings):
    """No counts yet: none pending in this process, none in Redis; scrapes allowed."""
    settings.METRICS_ALLOWED = ["127.0.0.0/8"]
    RECORDER.pending.clear()
    if settings.REDIS_URL:
        RECORDER.client().delete(KEY)
    yield
    RECORDER.pending.clear()


def scrape(client) -> dict[str, float]:
    response = client.get(reverse("metrics"))
    assert response.status_code == 200
    return figures(response)


def test_it_counts_requests_per_view_method_and_status(client, alice, case, fresh):
    client.force_login(alice)
    for _ in range(3):
        assert client.get(reverse("cases:list")).status_code == 200
    assert client.get(reverse("cases:detail", args=[case.pk + 999])).status_code == 404
    assert client.post("/no/such/page/").status_code == 404

    values = scrape(client)

    assert values[f"haven_http_requests_total{{method=GET,status=200,{LIST}}}"] == 3
    assert values["haven_http_requests_total{method=GET,status=404,view=cases:detail}"] == 1
    assert values["haven_http_requests_total{method=POST,status=404,view=unmatched}"] == 1
    assert not any("/no/such" in name or str(case.pk + 999) in name for name in values)


def test_it_measures_latency_as_a_histogram(client, alice, fresh):
    client.force_login(alice)
    for _ in range(4):
        client.get(reverse("cases:list"))

    values = scrape(client)

    name = "haven_http_request_duration_seconds"
    assert values[f"{name}_count{{method=GET,{LIST}}}"] == 4
    assert values[f"{name}_sum{{method=GET,{LIST}}}"] > 0
    bounds = [*(str(b) for b in request_metrics.BUCKETS), "+Inf"]
    cumulated = [values[f"{name}_bucket{{le={b},method=GET,{LIST}}}"] for b in bounds]
    assert cumulated == sorted(cumulated)
    assert cumulated[-1] == 4


def test_any_web_process_reports_every_process_s_requests(client, alice, fresh):
    if not settings.REDIS_URL:
        pytest.skip("Without Redis there is one process; its own counts are reported.")
    other_process = Recorder()  # another web server's counts, written to the same Redis
    other_process.observe("cases:list", "GET", 200, 0.02)
    other_process.observe("cases:list", "GET", 200, 7.5)
    assert other_process.flush()
    client.force_login(alice)
    client.get(reverse("cases:list"))

    values = scrape(client)

    assert values[f"haven_http_requests_total{{method=GET,status=200,{LIST}}}"] == 3
    slow = f"haven_http_request_duration_seconds_bucket{{le=5.0,method=GET,{LIST}}}"
    assert values[slow] == 2  # the 7.5 s request is only in +Inf
    assert values[f"haven_http_request_duration_seconds_bucket{{le=+Inf,method=GET,{LIST}}}"] == 3


def test_requests_are_answered_while_redis_is_down_and_counted_once_it_is_back(
    client, alice, fresh, settings
):
    if not settings.REDIS_URL:
        pytest.skip("Needs Redis.")
    working = settings.REDIS_URL
    client.force_login(alice)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    RECORDER.flushed_at = 0.0  # due to write at once
    assert client.get(reverse("cases:list")).status_code == 200
    assert client.get(reverse("cases:list")).status_code == 200
    assert RECORDER.pending  # kept, not lost

    settings.REDIS_URL = working
    values = scrape(client)

    assert values[f"haven_http_requests_total{{method=GET,status=200,{LIST}}}"] == 2


def test_without_redis_the_process_reports_its_own_counts(client, alice, fresh, settings):
    settings.REDIS_URL = ""
    client.force_login(alice)
    client.get(reverse("cases:list"))

    values = scrape(client)

    assert values[f"haven_http_requests_total{{method=GET,status=200,{LIST}}}"] == 1
