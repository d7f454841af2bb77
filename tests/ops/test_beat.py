"""Exactly one scheduler: two beat processes on one Redis publish each heartbeat once.

Both run with a one-second heartbeat and no worker, so every message either published stays
in the queue, each naming the process that published it (Celery's `origin` header)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import redis
from django.conf import settings

from tests.cases.test_tasks import PATIENCE, subprocess_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def heartbeats(client: redis.Redis) -> list[dict]:
    messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    return [m["headers"] for m in messages if m["headers"]["task"] == "haven.heartbeat"]


def test_two_beats_send_each_heartbeat_once(broker):
    client = broker
    for key in client.scan_iter("haven:redbeat*"):
        client.delete(key)
    env = subprocess_env(HEARTBEAT_SECONDS="1")
    command = [sys.executable, "-m", "celery", "-A", "haven", "beat", "--loglevel", "INFO"]
    beats = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(heartbeats(client)) >= 5, "five heartbeats", timeout=PATIENCE)
        assert all(beat.poll() is None for beat in beats), "both beats kept running"
        sent = heartbeats(client)
    finally:
        for beat in beats:
            beat.terminate()
        for beat in beats:
            beat.wait(timeout=PATIENCE)
        for key in client.scan_iter("haven:redbeat*"):
            client.delete(key)
    origins = {headers["origin"] for headers in sent}
    assert len(origins) == 1, f"heartbeats sent by {origins}: two schedulers ran"
    assert settings.CELERY_BEAT_SCHEDULER == "redbeat.RedBeatScheduler"


def origin_pid(origin: str) -> int:
    """The process id in Celery's `origin` header ("gen<pid>@<host>")."""
    return int(origin.split("@", 1)[0].removeprefix("gen"))


def test_a_standby_beat_takes_over_when_the_active_one_dies(broker):
    """The active beat is killed (SIGKILL: it cannot release its lock); the standby waits for
    the lock to expire (BEAT_LOCK_SECONDS, here 15) and then sends the heartbeats itself."""
    client = broker
    for key in client.scan_iter("haven:redbeat*"):
        client.delete(key)
    env = subprocess_env(HEARTBEAT_SECONDS="1", BEAT_LOCK_SECONDS="15")
    command = [sys.executable, "-m", "celery", "-A", "haven", "beat", "--loglevel", "INFO"]
    beats = {
        beat.pid: beat
        for beat in (
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
            for _ in range(2)
        )
    }
    try:
        wait_for(lambda: len(heartbeats(client)) >= 3, "three heartbeats", timeout=PATIENCE)
        origins = {headers["origin"] for headers in heartbeats(client)}
        assert len(origins) == 1, f"heartbeats sent by {origins}: two schedulers ran"
        active = origin_pid(origins.pop())
        assert active in beats
        beats[active].kill()
        beats[active].wait(timeout=PATIENCE)
        client.delete("celery")  # what the dead beat sent; only the standby's comes now
        (standby,) = set(beats) - {active}

        wait_for(lambda: len(heartbeats(client)) >= 3, "the standby's heartbeats", timeout=PATIENCE)
        assert beats[standby].poll() is None, "the standby kept running"
        taken_over = {origin_pid(headers["origin"]) for headers in heartbeats(client)}
    finally:
        for beat in beats.values():
            if beat.poll() is None:
                beat.terminate()
        for beat in beats.values():
            beat.wait(timeout=PATIENCE)
        for key in client.scan_iter("haven:redbeat*"):
            client.delete(key)
    assert taken_over == {standby}
