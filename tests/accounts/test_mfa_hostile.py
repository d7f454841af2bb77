"""The second factor's and the sessions page's forms under hostile values (the crawler of
tests/security/test_fuzz.py leaves them out: they end sessions and count toward lockout).
Every value gets a clear answer, never a 500, never echoed as markup, and changes nothing
it should not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import UserSession
from tests.security.test_fuzz import HOSTILE, MARKERS

pytestmark = [pytest.mark.django_db, pytest.mark.password_only]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_lockout(settings):
    # Each hostile code is a failed sign-in; this test is about the answers, not the lockout.
    settings.AXES_FAILURE_LIMIT = 10_000
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def password_sign_in(user) -> Client:
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def check(response, label: str) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"{label}: {response.status_code}")
    if any(marker in response.content for marker in MARKERS):
        problems.append(f"{label}: echoes markup")
    return problems


def test_the_code_forms_answer_every_hostile_value(alice, oscar):
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    asking = password_sign_in(alice)  # has a device: asked for the code
    enrolling = password_sign_in(oscar)  # none: asked to enrol
    enrolling.get(reverse("accounts:mfa_setup"))
    problems = []
    for value in HOSTILE:
        label = repr(value)[:40]
        for client, url in (
            (asking, reverse("accounts:mfa_verify")),
            (enrolling, reverse("accounts:mfa_setup")),
        ):
            for data in ({"otp_token": value}, {"otp_token": "123456", "next": value}):
                problems += check(client.post(url, data), f"{url} {label}")
            problems += check(client.get(url, {"next": value}), f"GET {url} {label}")
    assert not problems, "\n".join(problems)
    # Still password-only: nothing was let through.
    assert asking.get(reverse("cases:list")).status_code == 302
    assert enrolling.get(reverse("cases:list")).status_code == 302
    assert not TOTPDevice.objects.filter(user=oscar, confirmed=True).exists()


def test_the_sessions_and_recovery_forms_answer_every_hostile_value(alice, oscar):
    from tests.conftest import give_second_factor

    victim = Client()
    victim.force_login(oscar)
    victim_session = victim.session
    give_second_factor(victim_session, oscar)
    victim_session.save()
    client = Client(raise_request_exception=False)
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    session = client.session
    give_second_factor(session, alice)
    session.save()
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    problems = []
    for value in HOSTILE:
        if value == "others":
            continue
        label = repr(value)[:40]
        response = client.post(reverse("accounts:session_end"), {"session": value})
        problems += check(response, f"session_end {label}")
        response = client.post(reverse("accounts:mfa_recovery_codes"), {"otp_token": value})
        problems += check(response, f"recovery {label}")
    assert not problems, "\n".join(problems)
    assert client.get(reverse("cases:list")).status_code == 200
    assert UserSession.objects.filter(user=oscar).exists()
    assert victim.get(reverse("cases:list")).status_code == 200
