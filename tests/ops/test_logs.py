"""Logs: one JSON object per line, with the request id (also returned to the client and
carried into the tasks a request started) and the user's id, never a name.

The web side is read through the configured console handler's own formatter and filter; the
task side from a real worker process started with LOG_FORMAT=json, as in production."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading

import pytest
from django.urls import reverse

from haven.celery import app
from tests.cases.test_tasks import PATIENCE, subprocess_env, wait_for

RID = "3f1c2a9e-request-from-the-balancer"


@pytest.fixture
def log_lines():
    """What the configured console handler writes, as parsed JSON lines."""
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console.formatter)
    for f in console.filters:
        handler.addFilter(f)
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


@pytest.mark.django_db
def test_it_returns_a_well_formed_incoming_request_id(client):
    response = client.get(reverse("accounts:login"), headers={"X-Request-ID": RID})

    assert response["X-Request-ID"] == RID


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "short", "has spaces in it", "x" * 129, "ü" * 10])
def test_it_makes_a_request_id_instead_of_a_missing_or_malformed_one(client, incoming):
    headers = {"X-Request-ID": incoming} if incoming is not None else {}

    generated = client.get(reverse("accounts:login"), headers=headers)["X-Request-ID"]

    assert generated != incoming
    assert len(generated) == 32
    assert int(generated, 16) >= 0
    assert client.get(reverse("accounts:login"))["X-Request-ID"] != generated


@pytest.mark.django_db
def test_a_request_logs_one_json_line_with_its_id_and_the_user_id(client, alice, log_lines):
    client.force_login(alice)

    client.get(reverse("cases:list") + "?q=Korolev", headers={"X-Request-ID": RID})

    lines = [line for line in log_lines() if line["logger"] == "haven.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == RID
    assert line["user_id"] == alice.pk
    assert line["path"] == reverse("cases:list")
    assert line["status"] == 200
    assert line["level"] == "INFO"
    # Ids only: neither the user's name nor what was searched for.
    text = json.dumps(line)
    assert "alice" not in text
    assert "Korolev" not in text


@pytest.mark.django_db
def test_health_and_metrics_are_not_logged(client, log_lines, media):
    client.get(reverse("health"))
    client.get(reverse("metrics"))

    assert [line for line in log_lines() if line["logger"] == "haven.requests"] == []


def task_line(lines: list[str]) -> dict | None:
    """The worker's JSON line saying the deadline check of a case succeeded."""
    for raw in list(lines):
        if raw.startswith("{"):
            line = json.loads(raw)
            message = line.get("message", "")
            if "sweep_case_deadlines" in message and "succeeded" in message:
                return line
    return None


@pytest.mark.django_db(transaction=True)
def test_a_task_started_by_a_request_logs_with_the_request_id(client, alice, build_case, broker):
    """Releasing a detained applicant (a POST) enqueues the check of the case's deadlines;
    the worker logs that task's run with the id of the request that started it."""
    case = build_case("detention")
    app.control.purge()  # the checks enqueued while the case was built: no request started them
    env = subprocess_env(LOG_FORMAT="json", LOG_LEVEL="INFO")
    with subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "celery", "-A", "haven", "worker", "--pool", "solo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True).start()
        try:
            client.force_login(alice)
            response = client.post(
                reverse("cases:transition", args=[case.pk, "release"]),
                {"expected_status": "detention", "reason": "Court refused the extension"},
                headers={"X-Request-ID": RID},
            )
            assert response.status_code == 302
            wait_for(lambda: task_line(lines) is not None, "the worker to log the task")
        finally:
            worker.terminate()
            worker.wait(timeout=PATIENCE)
    line = task_line(lines)
    assert line["logger"] == "celery.app.trace"
    assert line["request_id"] == RID
    assert line["user_id"] == alice.pk
