"""The second factor (accounts.mfa): with DEBUG off a password alone reaches nothing; a user
without a device is led to enrol an authenticator app, a user with one enters its code;
wrong codes count for the lockout; enrolment, use and reset are recorded; an administrator
resets a user's devices with a reason. The test client's own sign-ins are not given the
second factor here (`password_only`): every sign-in goes through the real forms."""

from __future__ import annotations

import os

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import SecurityEvent
from api.models import ApiToken
from tests.conftest import run_python, totp_code

pytestmark = [pytest.mark.django_db, pytest.mark.password_only]

PASSWORD = "correct horse battery staple"
OFFICE = "198.51.100.7"
VERIFY = reverse("accounts:mfa_verify")
SETUP = reverse("accounts:mfa_setup")


def password_sign_in(user, **extra) -> Client:
    client = Client(REMOTE_ADDR=OFFICE, **extra)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def events(user, kind) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(user=user, kind=kind).order_by("pk"))


def enrol(client) -> tuple[TOTPDevice, list[str]]:
    """Enrol through the setup page as a person would: read the key, type the code."""
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user_id=client.session["_auth_user_id"], confirmed=False)
    assert mfa.secret_text(device) in page.content.decode()
    response = client.post(SETUP, {"otp_token": totp_code(device)})
    assert response.status_code == 302
    codes_page = client.get(response["Location"])
    return device, list(codes_page.context["codes"])


def test_a_password_alone_leads_a_user_without_a_device_to_enrol(alice, case):
    client = password_sign_in(alice)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fcases%2F{case.pk}%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="mfa-secret"' in html and "data:image/svg+xml" in html
    assert case.reference not in html
    # The header offers nothing a password-only session could use.
    assert 'class="site-nav"' not in html and 'id="header-q"' not in html


def test_a_user_with_a_device_is_asked_for_its_code_and_cannot_enrol_another(alice, case):
    device = authenticator(alice)
    client = password_sign_in(alice)
    response = client.get(reverse("cases:list"))
    assert response["Location"] == f"{VERIFY}?next=%2Fcases%2F"
    # A password alone never adds a device: the setup page sends to the code too.
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=alice, confirmed=False).exists()

    response = client.post(VERIFY, {"otp_token": totp_code(device), "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    [used] = events(alice, SecurityEvent.Kind.MFA_VERIFIED)
    assert (used.actor, used.ip) == (alice, OFFICE)


def test_enrolling_verifies_the_session_issues_recovery_codes_and_is_recorded(alice, case):
    client = password_sign_in(alice)
    device, codes = enrol(client)
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == settings.MFA_RECOVERY_CODES == len(set(codes))
    assert client.get(reverse("accounts:mfa_recovery_codes")).context["codes"] is None  # once
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    [enrolled] = events(alice, SecurityEvent.Kind.MFA_ENROLLED)
    assert enrolled.ip == OFFICE
    # The next sign-in asks for the code.
    again = password_sign_in(alice)
    assert again.get("/")["Location"].startswith(VERIFY)


def test_a_wrong_first_code_enrols_nothing(alice):
    client = password_sign_in(alice)
    client.get(SETUP)
    response = client.post(SETUP, {"otp_token": "000000"})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert client.get("/")["Location"].startswith(SETUP)


def test_a_recovery_code_signs_in_once(alice, case):
    _device, codes = enrol(password_sign_in(alice))
    client = password_sign_in(alice)
    assert client.post(VERIFY, {"otp_token": codes[0]}).status_code == 302
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    [used] = events(alice, SecurityEvent.Kind.RECOVERY_CODE_USED)
    assert used.data == {"codes_left": settings.MFA_RECOVERY_CODES - 1}

    other = password_sign_in(alice)
    assert other.post(VERIFY, {"otp_token": codes[0]}).status_code == 400
    assert other.get("/").status_code == 302


def test_wrong_codes_count_for_the_lockout_and_end_the_session(alice):
    device = authenticator(alice)
    client = password_sign_in(alice)
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = client.post(VERIFY, {"otp_token": "000000"})
        assert response.status_code == 400
    response = client.post(VERIFY, {"otp_token": "000001"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert len(events(alice, SecurityEvent.Kind.MFA_FAILED)) == limit
    assert AccessAttempt.objects.get(username="alice").failures_since_start == limit

    # Locked out: the right password, then even the right code, reach nothing.
    again = Client(REMOTE_ADDR=OFFICE)
    response = again.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in again.session
    assert device.pk


def test_a_right_password_does_not_forget_wrong_codes(alice, settings):
    """Otherwise a thief of the password could guess codes without end, signing in again
    before each lockout."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay after a wrong code
    device = authenticator(alice)
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        client = password_sign_in(alice)
        assert client.post(VERIFY, {"otp_token": "999999"}).status_code == 400
    client = Client(REMOTE_ADDR=OFFICE)
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.post(VERIFY, {"otp_token": "999998"}).status_code == 429

    # A complete sign-in (password and code) from a fresh start forgets the failures.
    AccessAttempt.objects.all().delete()
    client = password_sign_in(alice)
    assert client.post(VERIFY, {"otp_token": "999997"}).status_code == 400
    assert client.post(VERIFY, {"otp_token": totp_code(device)}).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_the_next_page_must_be_ours(alice):
    device = authenticator(alice)
    client = password_sign_in(alice)
    response = client.post(VERIFY, {"otp_token": totp_code(device), "next": "https://evil.test/"})
    assert response["Location"] == settings.LOGIN_REDIRECT_URL


def test_the_admin_and_document_downloads_need_the_code_too(adam, alice, case, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import workflow

    document = workflow.add_document(
        case, actor=alice, file=SimpleUploadedFile("a.txt", b"text"), original_name="a.txt"
    )
    authenticator(adam)
    client = password_sign_in(adam)
    for url in (
        reverse("admin:index"),
        reverse("admin:api_apitoken_add"),
        reverse("cases:document", args=[case.pk, document.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), url
    response = client.post(reverse("admin:api_apitoken_add"), {"user": adam.pk, "name": "x"})
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not ApiToken.objects.exists()


def test_api_bearer_requests_are_not_affected(alice, case):
    _token, raw = ApiToken.issue(alice, name="sync", days=30)
    response = Client().get(
        reverse("api:case", args=[case.pk]), headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
    # The API's pages for people (its documentation) need the code like any page.
    client = password_sign_in(alice)
    assert client.get(reverse("api:docs")).status_code == 302
    # A bearer header does not open the other pages to a password-only session.
    response = client.get(reverse("cases:list"), headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 302


def test_without_mfa_required_a_password_suffices(settings, alice, case):
    settings.MFA_REQUIRED = False
    client = password_sign_in(alice)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200


def test_an_administrator_resets_a_users_devices_with_a_reason(adam, alice):
    _device, _codes = enrol(password_sign_in(alice))
    authenticator(adam)
    admin = password_sign_in(adam)
    admin.post(VERIFY, {"otp_token": totp_code(TOTPDevice.objects.get(user=adam))})
    changelist = reverse("admin:accounts_user_changelist")
    ask = {"action": "reset_second_factor", "_selected_action": [alice.pk]}

    page = admin.post(changelist, ask)
    assert page.status_code == 200
    assert "Reason" in page.content.decode()
    refused = admin.post(changelist, {**ask, "apply": "yes", "reason": "   "})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert mfa.has_device(alice)

    done = admin.post(changelist, {**ask, "apply": "yes", "reason": "Lost phone, ticket 4711"})
    assert done.status_code == 302
    assert not mfa.has_device(alice)
    assert not StaticToken.objects.filter(device__user=alice).exists()
    [reset] = events(alice, SecurityEvent.Kind.MFA_RESET)
    assert (reset.actor, reset.reason, reset.data) == (
        adam,
        "Lost phone, ticket 4711",
        {"devices": 2},
    )
    # At the next sign-in alice is led to enrol again.
    assert password_sign_in(alice).get("/")["Location"].startswith(SETUP)


def test_security_events_are_append_only(alice):
    from django.db import DatabaseError, transaction

    event = mfa.record(alice, SecurityEvent.Kind.MFA_ENROLLED)
    for change in (
        lambda: SecurityEvent.objects.filter(pk=event.pk).update(reason="x"),
        lambda: SecurityEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()


def test_production_refuses_to_turn_the_second_factor_off():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 40,
        "ALLOWED_HOSTS": "haven.example.gov",
        "DATABASE_URL": "postgres://haven@127.0.0.1:5432/haven",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "MFA_REQUIRED": "false",
        "HAVEN_IGNORE_DOTENV": "1",
        "DJANGO_SETTINGS_MODULE": "haven.settings",
    }
    env.pop("PYTEST_VERSION", None)
    result = run_python("-c", "import django; django.setup()", env=env)
    assert result.returncode != 0
    assert "MFA_REQUIRED=false is for development only" in result.stderr


def test_recovery_codes_are_renewed_with_a_current_code(alice, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay after a wrong code
    device, codes = enrol(password_sign_in(alice))
    client = password_sign_in(alice)
    client.post(VERIFY, {"otp_token": codes[1]})
    url = reverse("accounts:mfa_recovery_codes")
    assert client.post(url, {"otp_token": "123456"}).status_code == 400
    assert StaticToken.objects.filter(device__user=alice, token=codes[2]).exists()
    response = client.post(url, {"otp_token": totp_code(device)})
    assert response.status_code == 302
    fresh = client.get(url).context["codes"]
    assert len(fresh) == settings.MFA_RECOVERY_CODES and not set(fresh) & set(codes)
    assert not StaticDevice.objects.filter(user=alice, token_set__token=codes[2]).exists()
    assert events(alice, SecurityEvent.Kind.RECOVERY_CODES_RENEWED)
