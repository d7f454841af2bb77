"""`/metrics`: Prometheus text, open to METRICS_ALLOWED networks or the bearer token only."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cases import tasks
from cases.models import Deadline, Reminder
from haven import ops
from haven.celery import app
from tests.conftest import submit

TOKEN = "a-metrics-token-of-at-least-32-characters"
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def figures(response) -> dict[str, float]:
    """Every sample of the exposition by name, labels joined: {"name{by=x}": value}."""
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return out


@pytest.fixture
def allowed_here(settings):
    settings.METRICS_ALLOWED = ["127.0.0.0/8"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("allowed", "headers", "status"),
    [
        ([], {}, 404),
        (["127.0.0.0/8"], {}, 200),
        (["10.0.0.0/8"], {}, 404),
        ([], {"Authorization": f"Bearer {TOKEN}"}, 200),
        ([], {"Authorization": f"Bearer {TOKEN}x"}, 404),
        ([], {"Authorization": TOKEN}, 404),
        # A forwarded address counts only from a trusted proxy; this one is not.
        (["10.0.0.0/8"], {"X-Forwarded-For": "10.1.2.3"}, 404),
    ],
)
def test_it_opens_only_to_allowed_networks_or_the_token(client, settings, allowed, headers, status):
    settings.METRICS_ALLOWED = allowed
    settings.METRICS_TOKEN = TOKEN

    assert client.get(reverse("metrics"), headers=headers).status_code == status


@pytest.mark.django_db
def test_it_believes_the_forwarded_address_from_a_trusted_proxy(client, settings):
    settings.METRICS_ALLOWED = ["10.0.0.0/8"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    response = client.get(reverse("metrics"), headers={"X-Forwarded-For": "10.1.2.3"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


@pytest.mark.django_db
def test_it_is_refused_to_a_token_when_none_is_configured(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get(reverse("metrics"), headers={"Authorization": "Bearer "})

    assert response.status_code == 404


@pytest.mark.django_db
def test_it_counts_reminders_and_deadlines(client, alice, allowed_here):
    with time_machine.travel(NOW, tick=False):
        submit(alice)  # 11 August 2023: two limits, both overdue by now, and the right to work
        recent = submit(alice, submitted_on=dt.date(2026, 12, 1))  # two limits, none overdue
        first, second, third = Deadline.objects.filter(application=recent).order_by("pk")
        sent = {"recipient": alice, "sent_at": timezone.now(), "attempts": 1}
        Reminder.objects.create(deadline=first, level=14, **sent)
        Reminder.objects.create(deadline=second, level=14, **sent)
        Reminder.objects.create(
            deadline=third, level=14, recipient=alice, attempts=2, last_error="SMTP refused"
        )
        Reminder.objects.create(
            deadline=first, level=3, recipient=alice, attempts=12, last_error="SMTP refused"
        )
        Reminder.objects.create(deadline=second, level=3, recipient=alice)  # not yet tried

        values = figures(client.get(reverse("metrics")))

    assert values["haven_reminders_sent_total"] == 2
    assert values["haven_reminders_failed"] == 2
    assert values["haven_reminders_given_up"] == 1
    # Open limits, not entitlements (the right to work): the old case's registration and
    # examination (both overdue), the recent one's APR registration and vulnerability
    # assessment (neither yet).
    assert values["haven_deadlines_open"] == 4
    assert values["haven_deadlines_overdue"] == 2


@pytest.mark.django_db
def test_it_reports_the_last_sweep_and_audit_check(client, case, allowed_here):
    cache.delete_many([ops.PREFIX + ops.SWEEP, ops.PREFIX + ops.AUDIT])
    assert "haven_sweep_last_run_timestamp_seconds" not in figures(client.get(reverse("metrics")))
    before = timezone.now().timestamp()

    tasks.sweep_deadlines()
    call_command("verify_audit", verbosity=0)
    values = figures(client.get(reverse("metrics")))

    assert values["haven_sweep_last_run_timestamp_seconds"] >= before
    assert values["haven_sweep_duration_seconds"] >= 0
    assert values["haven_audit_check_timestamp_seconds{by=verify_audit}"] >= before
    assert values["haven_audit_chain_problems{by=verify_audit}"] == 0


@pytest.mark.django_db
def test_it_reports_the_queue_depth(client, broker, allowed_here):
    for _ in range(3):
        app.send_task(ops.HEARTBEAT_TASK)

    values = figures(client.get(reverse("metrics")))

    assert values["haven_queue_depth"] == 3
    assert values["haven_beat_heartbeat_timestamp_seconds"] > 0
