"""The multi-node proof (tests/ops/multinode.py, also `make multinode`) on the test database,
and the settings whose minimums keep its timings honest.

The proof starts its own Redis server, moto S3 server, mail server, two gunicorn instances and
two workers, on free ports: nothing it uses is shared with another test or pytest-xdist
worker but the PostgreSQL server (this worker's test database), so it runs beside the rest of
the suite. It waits by polling with generous limits that only something broken reaches;
nothing asserts how long anything took.
"""

from __future__ import annotations

import json

import pytest

from tests.cases.test_tasks import database_url, subprocess_env
from tests.conftest import run_python
from tests.ops import multinode


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_web_instances_and_two_workers_lose_and_double_nothing(tmp_path):
    said: list[str] = []
    multinode.run(database_url(), say=said.append, workdir=tmp_path)
    print("\n".join(said))  # shown with -s or -rP: what the proof checked
    assert any("killed (SIGKILL" in line for line in said)
    assert any("verify_audit exits 0" in line for line in said)


SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "print(json.dumps([s.MAILERS['default']['OPTIONS']['timeout'], s.SEND_SOFT_TIME_LIMIT,"
    " s.SEND_TIME_LIMIT, s.REMINDER_GRACE_SECONDS, s.BROKER_VISIBILITY_TIMEOUT,"
    " s.RETRY_BACKOFF_MAX, s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']]))"
)
SMTP = {"EMAIL_HOST": "smtp.haven.example"}


def timings(**env: str) -> list[int]:
    result = run_python("-c", SETTINGS, env=subprocess_env(**SMTP, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_timings_default_to_those_of_production():
    # SMTP waits 10 s; a send stops after 2 and 3 minutes; a claim lasts 10 minutes; Redis
    # redelivers after an hour; retries wait at most 10 minutes.
    assert timings() == [10, 120, 180, 600, 3600, 600, 3600]


def test_the_proofs_short_timings_are_valid_and_follow_each_other():
    assert timings(**multinode.TIMINGS) == [5, 10, 15, 25, 30, 7, 30]


def test_the_grace_period_in_minutes_is_still_read():
    assert timings(REMINDER_GRACE_MINUTES="15")[3] == 900


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT"),
        ({"EMAIL_TIMEOUT": "ten"}, "EMAIL_TIMEOUT"),
        ({"EMAIL_TIMEOUT": "30", "SEND_TIME_LIMIT": "60"}, "SEND_TIME_LIMIT"),
        ({"SEND_TIME_LIMIT": "900"}, "REMINDER_GRACE_SECONDS"),  # 600 < 900 + 10
        ({"REMINDER_GRACE_SECONDS": "100"}, "REMINDER_GRACE_SECONDS"),
        ({"REMINDER_GRACE_MINUTES": "1"}, "REMINDER_GRACE_SECONDS"),
        ({"BROKER_VISIBILITY_TIMEOUT": "300"}, "BROKER_VISIBILITY_TIMEOUT"),
    ],
)
def test_timings_that_break_each_other_are_refused_naming_the_variable(env, named):
    result = run_python("-c", SETTINGS, env=subprocess_env(**SMTP, **env))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr
