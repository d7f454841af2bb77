"""Passkeys (accounts.passkeys, django-otp-webauthn) beside the authenticator app: the
ceremonies' endpoints follow the same rules as the code forms (a password alone never adds a
passkey to an account that has a second factor; a refused passkey counts for the lockout and
is recorded), a user removes their own passkeys but never their last second factor, and an
administrator's reset removes passkeys too. The ceremonies themselves run in a real browser
with a virtual authenticator (tests/browser/test_passkeys.py)."""

from __future__ import annotations

import base64
import json
import os
import secrets

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa, passkeys
from accounts.models import SecurityEvent
from tests.conftest import give_second_factor, run_python, totp_code

pytestmark = [pytest.mark.django_db, pytest.mark.password_only]

PASSWORD = "correct horse battery staple"
OFFICE = "198.51.100.7"
VERIFY = reverse("accounts:mfa_verify")
SETUP = reverse("accounts:mfa_setup")
AUTH_BEGIN = reverse("accounts:passkey_auth_begin")
AUTH_COMPLETE = reverse("accounts:passkey_auth_complete")
REGISTER_BEGIN = reverse("accounts:passkey_register_begin")
REMOVE = reverse("accounts:passkey_remove")


def password_sign_in(user) -> Client:
    client = Client(REMOTE_ADDR=OFFICE)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def passkey(user) -> WebAuthnCredential:
    """A registered passkey (its key is never asked to sign here)."""
    return WebAuthnCredential.objects.create(
        user=user,
        name=passkeys.PASSKEY_NAME,
        confirmed=True,
        credential_id=secrets.token_bytes(32),
        public_key=secrets.token_bytes(77),
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def answer(credential_id: bytes) -> str:
    """A well-formed answer to a challenge, naming `credential_id`, signed by nobody."""
    return json.dumps(
        {
            "id": b64(credential_id),
            "rawId": b64(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(b'{"type":"webauthn.get"}'),
                "authenticatorData": b64(bytes(37)),
                "signature": b64(b"not a signature"),
            },
            "clientExtensionResults": {},
        }
    )


def events(user, kind) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(user=user, kind=kind).order_by("pk"))


def test_the_verify_page_offers_the_passkey_only_to_a_user_who_has_one(alice, dora):
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    page = password_sign_in(alice).get(VERIFY).content.decode()
    assert "passkey-verification-button" not in page
    passkey(dora)
    page = password_sign_in(dora).get(VERIFY).content.decode()
    assert "passkey-verification-button" in page
    assert 'id="otp_webauthn_config" type="application/json"' in page
    assert "django_otp_webauthn/otp_webauthn_auth.js" in page


def test_a_password_alone_adds_no_passkey_to_an_account_with_a_second_factor(alice):
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    client = password_sign_in(alice)
    response = client.post(REGISTER_BEGIN)
    assert response.status_code == 403
    assert response.json()["code"] == "user_not_verified"
    assert "otp_webauthn_register_state" not in client.session
    # A user without any second factor enrols one with the password, as with the app.
    assert password_sign_in_without_device(client, alice)


def password_sign_in_without_device(client, user) -> bool:
    TOTPDevice.objects.filter(user=user).delete()
    response = client.post(REGISTER_BEGIN)
    return response.status_code == 200 and response.json()["rp"]["id"] == "localhost"


def test_a_refused_passkey_counts_for_the_lockout_and_is_recorded(alice, dora):
    passkey(alice)
    doras = passkey(dora)
    client = password_sign_in(alice)
    limit = settings.AXES_FAILURE_LIMIT
    # Without a challenge asked first nothing can be guessed: refused, not counted.
    response = client.post(AUTH_COMPLETE, answer(doras.credential_id), "application/json")
    assert response.status_code == 400
    assert not events(alice, SecurityEvent.Kind.MFA_FAILED)
    # Someone else's passkey, then unknown ones: each a counted failure.
    for attempt in range(limit - 1):
        assert client.post(AUTH_BEGIN).status_code == 200
        named = doras.credential_id if attempt == 0 else secrets.token_bytes(32)
        response = client.post(AUTH_COMPLETE, answer(named), "application/json")
        assert response.status_code in (403, 404), response.content
        assert "passkey" in response.json()["detail"]
    assert [e.data["code"] for e in events(alice, SecurityEvent.Kind.MFA_FAILED)][:2] == [
        "credential_user_mismatch",
        "credential_not_found",
    ]
    assert client.post(AUTH_BEGIN).status_code == 200
    response = client.post(AUTH_COMPLETE, answer(secrets.token_bytes(32)), "application/json")
    assert response.status_code == 429
    assert AccessAttempt.objects.get(username="alice").failures_since_start == limit
    # Locked out: the verify page ends the session with the lockout page.
    assert client.get(VERIFY).status_code == 429
    assert "_auth_user_id" not in client.session
    assert not client.session.get("otp_device_id")


def test_a_locked_out_user_is_not_asked_for_a_passkey(alice, settings):
    passkey(alice)
    client = password_sign_in(alice)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(VERIFY, {"otp_token": "000000"})
    client = Client(REMOTE_ADDR=OFFICE)
    client.force_login(alice)
    response = client.post(AUTH_BEGIN)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_a_user_removes_their_own_passkey_but_never_their_last_second_factor(alice, oscar):
    first, second = passkey(alice), passkey(alice)
    oscars = passkey(oscar)
    client = Client(REMOTE_ADDR=OFFICE)
    client.force_login(alice)
    session = client.session
    give_second_factor(session, alice)
    session.save()
    mine = client.get(SETUP)
    assert mine.status_code == 200 and len(mine.context["passkeys"]) == 2

    assert client.post(REMOVE, {"passkey": str(oscars.pk)}).status_code == 302
    assert WebAuthnCredential.objects.filter(pk=oscars.pk).exists()
    for hostile in ("", "x", "²", "-1", "9" * 40, "\x00"):
        assert client.post(REMOVE, {"passkey": hostile}).status_code == 302

    response = client.post(REMOVE, {"passkey": str(first.pk)}, follow=True)
    assert "The passkey was removed." in response.content.decode()
    assert not WebAuthnCredential.objects.filter(pk=first.pk).exists()
    [removed] = events(alice, SecurityEvent.Kind.MFA_REMOVED)
    assert removed.data == {"device": "passkey", "id": first.pk}

    response = client.post(REMOVE, {"passkey": str(second.pk)}, follow=True)
    assert "This is your only passkey" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=second.pk).exists()
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    client.post(REMOVE, {"passkey": str(second.pk)})
    assert not WebAuthnCredential.objects.filter(user=alice).exists()
    assert len(events(alice, SecurityEvent.Kind.MFA_REMOVED)) == 2


def test_an_administrators_reset_removes_passkeys_too(adam, alice):
    passkey(alice)
    device = TOTPDevice.objects.create(user=adam, name="Phone", confirmed=True)
    admin = password_sign_in(adam)
    admin.post(VERIFY, {"otp_token": totp_code(device)})
    done = admin.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "reset_second_factor",
            "_selected_action": [alice.pk],
            "apply": "yes",
            "reason": "Lost laptop, ticket 4712",
        },
    )
    assert done.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=alice).exists()
    assert not mfa.has_device(alice)
    [reset] = events(alice, SecurityEvent.Kind.MFA_RESET)
    assert reset.data == {"devices": 1}


@override_settings(OTP_WEBAUTHN_RP_ID="haven.example.gov", ALLOWED_HOSTS=["*"])
def test_a_passkeys_origin_is_the_relying_partys_domain_or_within_it():
    def origins(host: str, secure: bool = False) -> list[str]:
        request = RequestFactory().get("/", HTTP_HOST=host, secure=secure)
        return passkeys.PasskeyHelper(request).get_allowed_origins()

    assert "https://haven.example.gov" in origins("haven.example.gov")
    assert "https://vilnius.haven.example.gov:8443" in origins("vilnius.haven.example.gov:8443")
    assert not [o for o in origins("haven.example.gov.evil.test") if "evil" in o]
    assert not [o for o in origins("notthehaven.example.gov") if "nothe" in o]
    # http only for localhost, where browsers allow passkeys without TLS.
    assert "http://haven.example.gov" not in origins("haven.example.gov")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"ALLOWED_HOSTS": "10.0.0.5,haven.example.gov"}, "haven.example.gov"),
        (
            {"ALLOWED_HOSTS": ".example.gov", "WEBAUTHN_RP_ID": "Haven.Example.GOV"},
            "haven.example.gov",
        ),
    ],
)
def test_the_relying_party_comes_from_the_settings(extra, expected):
    result = run_python("-c", PRINT_RP, env=production_env(extra))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "rp_id": expected,
        "origins": [f"https://{expected}"],
    }


@pytest.mark.parametrize("rp_id", ["127.0.0.1", "[::1]", "haven.example.gov/x", "-bad-.gov"])
def test_an_address_or_a_malformed_name_is_refused_as_the_relying_party(rp_id):
    result = run_python("-c", PRINT_RP, env=production_env({"WEBAUTHN_RP_ID": rp_id}))
    assert result.returncode != 0
    assert "WEBAUTHN_RP_ID" in result.stderr


PRINT_RP = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'rp_id': s.OTP_WEBAUTHN_RP_ID, 'origins': s.OTP_WEBAUTHN_ALLOWED_ORIGINS}))"
)


def production_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 40,
        "ALLOWED_HOSTS": "haven.example.gov",
        "DATABASE_URL": "postgres://haven@127.0.0.1:5432/haven",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "HAVEN_IGNORE_DOTENV": "1",
        "DJANGO_SETTINGS_MODULE": "haven.settings",
        **extra,
    }
    env.pop("PYTEST_VERSION", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


HOSTILE = [
    ("application/json", "[]"),
    ("application/json", '"x"'),
    ("application/json", "{"),
    ("application/json", "\x00"),
    ("application/json", json.dumps({"id": 1, "rawId": None, "type": 5, "response": []})),
    ("application/json", json.dumps({"id": "!!", "rawId": "!!", "type": "public-key"})),
    (
        "application/json",
        json.dumps(
            {
                "id": "AAAA",
                "rawId": "AAAA",
                "type": "public-key",
                "response": {"clientDataJSON": "%%%", "attestationObject": "AAAA"},
            }
        ),
    ),
    ("application/x-www-form-urlencoded", "id=AAAA&rawId=AAAA&type=public-key&response=x"),
]


def test_the_ceremonies_answer_every_hostile_body_without_a_500(alice):
    client = Client(REMOTE_ADDR=OFFICE, raise_request_exception=False)
    client.force_login(alice)  # a password-only session without a device: it may enrol
    crashed = []
    for begin, complete in (
        (REGISTER_BEGIN, reverse("accounts:passkey_register_complete")),
        (AUTH_BEGIN, AUTH_COMPLETE),
    ):
        for content_type, body in HOSTILE:
            client.post(begin)
            response = client.post(complete, body, content_type=content_type)
            if response.status_code >= 500:
                crashed.append((complete, body[:40], response.status_code))
    assert not crashed, crashed
    assert not WebAuthnCredential.objects.exists()
