"""`/metrics`: Haven's own figures in Prometheus' text format, for monitoring.

Every figure is computed when Prometheus scrapes, from the database or from what the
processes recorded in Redis (`haven.ops`; requests and their latency per view:
`haven.request_metrics`), so any web server answers the same for the whole deployment,
however many there are. Open only to the networks of METRICS_ALLOWED (the client
address as the access log sees it: `cases.access.client_ip`) or to a request carrying
`Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import ipaddress

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from . import ops, request_metrics

QUEUE = "celery"  # Celery's default queue: a Redis list on the broker


class HavenCollector:
    """Reads the figures at scrape time (Prometheus' custom collector protocol)."""

    def collect(self):
        from cases.models import Deadline, Reminder

        sent = Reminder.objects.filter(sent_at__isnull=False).count()
        unsent = Reminder.objects.filter(sent_at__isnull=True)
        failing = unsent.exclude(last_error="").count()
        given_up = unsent.filter(attempts__gte=settings.REMINDER_MAX_ATTEMPTS).count()
        yield CounterMetricFamily(
            "haven_reminders_sent", "Reminders delivered, ever (from the database).", value=sent
        )
        yield GaugeMetricFamily(
            "haven_reminders_failed",
            "Reminders not yet delivered whose last attempt failed.",
            value=failing,
        )
        yield GaugeMetricFamily(
            "haven_reminders_given_up",
            "Reminders left for an administrator after REMINDER_MAX_ATTEMPTS failed attempts.",
            value=given_up,
        )
        deadlines = Deadline.objects.open()
        yield GaugeMetricFamily("haven_deadlines_open", "Open deadlines.", value=deadlines.count())
        yield GaugeMetricFamily(
            "haven_deadlines_overdue",
            "Open deadlines past their due time.",
            value=Deadline.objects.overdue().count(),
        )
        yield from _recorded()
        yield from request_metrics.families()
        if settings.REDIS_URL:
            yield GaugeMetricFamily(
                "haven_queue_depth", "Tasks waiting in the Celery queue.", value=_queue_depth()
            )

    def describe(self):
        return []


def _recorded():
    """The figures the processes recorded in Redis (absent until first recorded)."""
    sweep = ops.recorded(ops.SWEEP)
    if sweep:
        yield GaugeMetricFamily(
            "haven_sweep_last_run_timestamp_seconds",
            "When the last deadline sweep ended (Unix time).",
            value=sweep["at"],
        )
        yield GaugeMetricFamily(
            "haven_sweep_duration_seconds",
            "How long the last deadline sweep took.",
            value=sweep["seconds"],
        )
    audit = ops.recorded(ops.AUDIT)
    if audit:
        last = GaugeMetricFamily(
            "haven_audit_check_timestamp_seconds",
            "When the case timelines' chains were last checked (Unix time).",
            labels=["by"],
        )
        last.add_metric([audit["by"]], audit["at"])
        yield last
        problems = GaugeMetricFamily(
            "haven_audit_chain_problems",
            "Chains found broken or short of their checkpoint by the last check (0: intact).",
            labels=["by"],
        )
        problems.add_metric([audit["by"]], audit["problems"])
        yield problems
    for name in (ops.BEAT, ops.WORKER):
        seen = ops.recorded(name)
        if seen is not None:
            yield GaugeMetricFamily(
                f"haven_{name}_heartbeat_timestamp_seconds",
                f"The last heartbeat of {name} (Unix time).",
                value=seen,
            )


def _queue_depth() -> int:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        return client.llen(QUEUE)
    finally:
        client.close()


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(HavenCollector())


def allowed(request) -> bool:
    """From a METRICS_ALLOWED network, or with the bearer token METRICS_TOKEN."""
    from cases.access import client_ip

    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if (
        token
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    ):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED
    )


@login_not_required
@never_cache
@require_GET
def metrics(request):
    if not allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
