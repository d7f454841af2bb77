"""Sign-in protection and hardening: lockout after repeated failures, Argon2, session idle
expiry, security headers, and `check --deploy` with production settings."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"  # the conftest personas' password
START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def login_url() -> str:
    return reverse("accounts:login")


def sign_in(client, url: str, username: str, password: str, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, url: str, username: str, times: int, **extra):
    response = None
    for _ in range(times):
        response = sign_in(client, url, username, "wrong password", **extra)
    return response


# ---- lockout ----------------------------------------------------------------------------


def test_it_locks_a_user_out_at_the_failure_limit(client, alice, login_url):
    limit = settings.AXES_FAILURE_LIMIT
    response = fail(client, login_url, "alice", limit - 1)
    assert response.status_code == 200  # the form again, with its error

    response = fail(client, login_url, "alice", 1)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert "15 minutes after the last attempt" in response.text
    response = sign_in(client, login_url, "alice", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)


def test_a_locked_out_user_signs_in_after_the_cool_off(client, alice, login_url):
    with time_machine.travel(START, tick=False) as traveller:
        fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT)
        traveller.shift(settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))
        response = sign_in(client, login_url, "alice", PASSWORD)

        assert response.status_code == 302
        assert signed_in(client)  # inside the travel: the session expires in travelled time


def test_an_attempt_during_the_lockout_restarts_the_cool_off(client, alice, login_url):
    cool_off = settings.AXES_COOLOFF_TIME
    with time_machine.travel(START, tick=False) as traveller:
        fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT)
        traveller.shift(cool_off - dt.timedelta(minutes=1))
        assert sign_in(client, login_url, "alice", PASSWORD).status_code == 429

        traveller.shift(dt.timedelta(minutes=2))  # past the first lockout, not the second
        assert sign_in(client, login_url, "alice", PASSWORD).status_code == 429
        traveller.shift(cool_off + dt.timedelta(seconds=1))
        response = sign_in(client, login_url, "alice", PASSWORD)

    assert response.status_code == 302


def test_an_administrator_can_unlock_a_user_early(client, alice, login_url):
    fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT)

    call_command("axes_reset_username", "alice")
    response = sign_in(client, login_url, "alice", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_colleague_behind_the_same_address_is_not_locked_out(client, alice, dora, login_url):
    fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT)

    response = sign_in(client, login_url, "dora", PASSWORD)

    assert response.status_code == 302


def test_the_same_user_from_another_address_is_not_locked_out(client, alice, login_url):
    fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="10.1.1.1")

    response = sign_in(client, login_url, "alice", PASSWORD, REMOTE_ADDR="10.2.2.2")

    assert response.status_code == 302


def test_a_complete_sign_in_before_the_limit_resets_the_count(client, alice, login_url):
    """Password and second-factor code; the password alone does not (tests/accounts/test_mfa)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import totp_code

    device = TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, login_url, "alice", PASSWORD).status_code == 302
    code = {"otp_token": totp_code(device)}
    assert client.post(reverse("accounts:mfa_verify"), code).status_code == 302
    client.post(reverse("accounts:logout"))

    response = fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT - 1)

    assert response.status_code == 200


def test_the_admin_sign_in_is_protected_too(client, adam):
    url = reverse("admin:login")

    response = fail(client, url, "adam", settings.AXES_FAILURE_LIMIT)

    assert response.status_code == 429
    assert sign_in(client, url, "adam", PASSWORD).status_code == 429


def test_sign_in_without_a_request_still_works_for_tests_and_commands(client, alice):
    assert client.login(username="alice", password=PASSWORD)


# ---- passwords --------------------------------------------------------------------------


def test_the_configured_hasher_is_argon2(settings, alice):
    from haven import settings as configured  # the module, before the tests' fast hasher

    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    alice.set_password("a fresh and long passphrase")

    assert identify_hasher(alice.password).algorithm == "argon2"
    assert alice.check_password("a fresh and long passphrase")


@pytest.mark.parametrize("weak", ["short1", "password1234", "123456789012", "alice.example.test"])
def test_it_refuses_weak_passwords(alice, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=alice)


# ---- sessions and headers ---------------------------------------------------------------


def test_a_session_expires_after_inactivity_not_while_in_use(client, adam):
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    admin_index = reverse("admin:index")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(adam)
        for _ in range(3):  # in use for longer than the idle limit in total
            traveller.shift(idle * 0.6)
            assert client.get(admin_index).status_code == 200

        traveller.shift(idle + dt.timedelta(seconds=1))
        response = client.get(admin_index)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def _session_writes(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum(
        q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
        for q in queries.captured_queries
    )


def test_a_session_in_use_is_written_once_per_refresh_interval_not_per_page(client, adam, settings):
    settings.SESSION_REFRESH_SECONDS = 60
    admin_index = reverse("admin:index")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(adam)  # signing in saved the session: the first pages write nothing
        expiry = Session.objects.get().expire_date
        assert _session_writes(client, admin_index) == 0
        traveller.shift(dt.timedelta(seconds=59))
        assert _session_writes(client, admin_index) == 0
        assert Session.objects.get().expire_date == expiry
        traveller.shift(dt.timedelta(seconds=2))
        assert _session_writes(client, admin_index) == 1
        assert Session.objects.get().expire_date == expiry + dt.timedelta(seconds=61)


def test_a_stray_session_cookie_creates_no_session(client, login_url, db):
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session-key-" + "x" * 20
    assert _session_writes(client, login_url) == 0
    assert not Session.objects.exists()


def test_pages_carry_a_content_security_policy_and_secure_headers(client, login_url):
    response = client.get(login_url)

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_lockout_page_carries_the_policy_too(client, alice, login_url):
    response = fail(client, login_url, "alice", settings.AXES_FAILURE_LIMIT)

    assert response.status_code == 429
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# ---- production settings ----------------------------------------------------------------


def production_env(**extra: str) -> dict[str, str]:
    """A clean production environment: nothing from the test run (PYTEST_VERSION would turn on
    test mode, DJANGO_ALLOW_ASYNC_UNSAFE fails async.E001) and no developer's .env."""
    db = settings.DATABASES["default"]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "HAVEN_IGNORE_DOTENV": "1",
        "DJANGO_SETTINGS_MODULE": "haven.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "haven.example",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/haven",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.haven.example",
        **extra,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python(*args, env=env)


def test_check_deploy_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_uses_argon2_secure_cookies_and_hsts():
    script = (
        "import json, django; django.setup();"
        "from django.conf import settings as s;"
        "from django.contrib.auth.hashers import make_password, identify_hasher;"
        "print(json.dumps({"
        "'hasher': identify_hasher(make_password('a fresh and long passphrase')).algorithm,"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT,"
        "'debug': s.DEBUG, 'idle': s.SESSION_COOKIE_AGE,"
        "'refresh': s.SESSION_REFRESH_SECONDS,"
        "'renews': 'haven.middleware.SessionIdleMiddleware' in s.MIDDLEWARE}))"
    )

    result = run(["-c", script], production_env())

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "hasher": "argon2",
        "session_secure": True,
        "csrf_secure": True,
        "hsts": 31536000,
        "redirect": True,
        "debug": False,
        "idle": 1800,
        "refresh": 60,
        "renews": True,
    }


def test_production_refuses_a_short_secret_key():
    result = run(["manage.py", "check"], production_env(SECRET_KEY="too-short"))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_broker_and_names_it():
    env = production_env()
    del env["REDIS_URL"]

    result = run(["manage.py", "check", "--deploy"], env)

    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr
    assert "ImproperlyConfigured" in result.stderr
