"""`/health/`: what a load balancer calls every few seconds, signed out.

The heartbeats are real: the test publishes the heartbeat task as beat does and a worker
thread (as in tests/cases/test_tasks.py) runs it. Redis down is a closed port."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from haven import ops
from haven.celery import app
from tests.cases.test_tasks import wait_for

CLOSED_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


@pytest.fixture
def beating(worker, media):
    """Beat's heartbeat published, and run by a worker."""
    cache.delete_many([ops.PREFIX + ops.BEAT, ops.PREFIX + ops.WORKER])
    app.send_task(ops.HEARTBEAT_TASK)
    wait_for(lambda: ops.recorded(ops.WORKER) is not None, "the worker's heartbeat")


@pytest.mark.django_db(transaction=True)
def test_it_answers_200_naming_every_check_when_all_pass(client, beating, case):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "migrations", "redis", "storage", "beat", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["seconds_ago"] >= 0
    # No personal data: the case's applicant and the caseworker appear nowhere.
    text = response.content.decode()
    for personal in ("Korolev", "Ivan", "alice", case.reference):
        assert personal not in text


@pytest.mark.django_db
def test_it_answers_503_naming_redis_and_the_heartbeats_when_redis_is_down(client, settings, media):
    settings.REDIS_URL = CLOSED_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_REDIS,
        }
    }

    response = client.get(reverse("health"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["failing"] == ["redis", "beat", "worker"]
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["storage"] == {"ok": True}


@pytest.mark.django_db
def test_it_fails_beat_and_worker_never_seen(client, media):
    cache.delete_many([ops.PREFIX + ops.BEAT, ops.PREFIX + ops.WORKER])

    body = client.get(reverse("health")).json()

    assert body["failing"] == ["beat", "worker"]
    assert body["checks"]["beat"] == {"ok": False, "error": "never seen"}


@pytest.mark.django_db
def test_it_fails_a_stale_heartbeat(client, settings, media):
    settings.HEALTH_HEARTBEAT_STALE_SECONDS = 60
    ops.record(ops.BEAT)
    ops.record(ops.WORKER, ops.recorded(ops.BEAT) - 600)

    body = client.get(reverse("health")).json()

    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "last seen 600 seconds ago"


@pytest.mark.django_db
def test_it_reports_beat_and_worker_not_used_with_tasks_in_process(client, settings, media):
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    response = client.get(reverse("health"))

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert (
        checks["redis"] == checks["beat"] == checks["worker"] == {"ok": True, "state": "not used"}
    )


@pytest.mark.django_db
def test_it_fails_storage_that_cannot_be_written(client, settings, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    settings.MEDIA_ROOT = blocked / "media"
    ops.record(ops.BEAT)
    ops.record(ops.WORKER)

    response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]
