"""Requests and their latency per view, for `/metrics`, across every web process.

Each process counts its requests in memory (per URL name, method and status; a latency
histogram per URL name and method) and adds them to one Redis hash at most every
FLUSH_SECONDS, in one round trip, so a request costs no network call and a scrape of any web
server reports the whole deployment, as the rest of `/metrics` does. A scrape flushes its
own process first. Without REDIS_URL (the embedded default: one process) the counts stay in
memory. When Redis does not answer, the counts wait in memory and the process tries again
after RETRY_SECONDS: a request never fails or waits because metrics could not be written.

Labels are bounded: the URL's name (`cases:detail`, `api:cases`; `unmatched` for a URL
that matched none), the HTTP method (`other` beyond the usual ones) and the status code. No
path, id or user ever becomes a label.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

log = logging.getLogger(__name__)

KEY = "haven:metrics:http"
FLUSH_SECONDS = 1.0
RETRY_SECONDS = 30.0
# Seconds: a page is meant to take tens of milliseconds (`make bench`); exports take longer.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SEP = "\x1f"  # between the parts of a field name; never in a URL name, method or number


class Recorder:
    """The counts of this process not yet added to Redis (or all of them, without Redis)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: Counter[str] = Counter()
        self.flushed_at = time.monotonic()
        self.retry_at = 0.0
        self._client: redis.Redis | None = None
        self._client_url = ""

    def observe(self, view: str, method: str, status: int, seconds: float) -> None:
        with self.lock:
            pending = self.pending
            pending[SEP.join(("count", view, method, str(status)))] += 1
            pending[SEP.join(("sum", view, method))] += seconds
            for bound in BUCKETS:
                if seconds <= bound:
                    pending[SEP.join(("bucket", view, method, repr(bound)))] += 1
                    break  # cumulated when read
            else:
                pending[SEP.join(("bucket", view, method, "+Inf"))] += 1
        if settings.REDIS_URL and time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            self.flush()

    def client(self) -> redis.Redis:
        url = settings.REDIS_URL
        if self._client is None or self._client_url != url:
            self._client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            self._client_url = url
            self.retry_at = 0.0
        return self._client

    def flush(self) -> bool:
        """Add the pending counts to Redis; False (and keep them) when it does not answer."""
        now = time.monotonic()
        with self.lock:
            if not settings.REDIS_URL or now < self.retry_at:
                return False
            taken, self.pending = self.pending, Counter()
            self.flushed_at = now
        if not taken:
            return True
        try:
            pipe = self.client().pipeline(transaction=False)
            for field, value in taken.items():
                if field.startswith("sum"):
                    pipe.hincrbyfloat(KEY, field, value)
                else:
                    pipe.hincrby(KEY, field, int(value))
            pipe.execute()
        except (redis.RedisError, OSError):
            log.warning("Request metrics not written to Redis; retrying later.", exc_info=True)
            with self.lock:
                self.pending.update(taken)
                self.retry_at = now + RETRY_SECONDS
            return False
        return True

    def totals(self) -> dict[str, float]:
        """Every count of the deployment (Redis) and this process's unwritten ones; only
        this process's without Redis. Raises when Redis does not answer."""
        totals: Counter[str] = Counter()
        if settings.REDIS_URL:
            self.flush()
            for field, value in self.client().hgetall(KEY).items():
                totals[field.decode()] = float(value)
        with self.lock:
            totals.update(self.pending)
        return dict(totals)


RECORDER = Recorder()


class RequestMetricsMiddleware:
    """Times every request, from the first middleware after the request id to the answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        method = request.method if request.method in METHODS else "other"
        try:
            RECORDER.observe(view, method, response.status_code, time.perf_counter() - started)
        except Exception:  # noqa: BLE001 - metrics must never turn an answer into a 500
            log.warning("Request metrics not recorded.", exc_info=True)
        return response


def families() -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
    """The request counter and latency histogram, read at scrape time (absent while Redis
    does not answer: `/health/` names that outage)."""
    try:
        totals = RECORDER.totals()
    except (redis.RedisError, OSError):
        log.warning("Request metrics not read from Redis.", exc_info=True)
        return
    requests = CounterMetricFamily(
        "haven_http_requests",
        "HTTP requests answered, by URL name, method and status.",
        labels=["view", "method", "status"],
    )
    sums: dict[tuple[str, str], float] = {}
    buckets: dict[tuple[str, str], dict[str, float]] = {}
    for field, value in sorted(totals.items()):
        kind, *labels = field.split(SEP)
        if kind == "count" and len(labels) == 3:
            requests.add_metric(labels, value)
        elif kind == "sum" and len(labels) == 2:
            sums[(labels[0], labels[1])] = value
        elif kind == "bucket" and len(labels) == 3:
            buckets.setdefault((labels[0], labels[1]), {})[labels[2]] = value
    yield requests
    latency = HistogramMetricFamily(
        "haven_http_request_duration_seconds",
        "Time to answer an HTTP request, by URL name and method.",
        labels=["view", "method"],
    )
    for (view, method), counts in sorted(buckets.items()):
        cumulated, running = [], 0.0
        for bound in (*(repr(b) for b in BUCKETS), "+Inf"):
            running += counts.get(bound, 0.0)
            cumulated.append((bound, running))
        latency.add_metric([view, method], cumulated, sum_value=sums.get((view, method), 0.0))
    yield latency
