"""A password alone reaches nothing (DEBUG off): every URL of the project, asked by each
persona signed in through the sign-in page without the second factor.

The URLs are those of the URL matrix (tests/security/test_url_matrix.py: the URL
configuration walked recursively, the admin included, every parameter filled with a row of
unit A). Each is asked with a GET and an empty POST. A user without a device is sent to enrol
(`accounts:mfa_setup`), a user with one to enter its code (`accounts:mfa_verify`); only the
sign-in and sign-out URLs, the language switch, the machines' endpoints and the second
factor's own pages answer otherwise. Nothing of unit A's case shows, and nothing changes.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import snapshot, snapshot_diff
from .test_url_matrix import MACHINE_ENDPOINTS, PUBLIC, ask_everything, leaks, no_500s

pytestmark = [pytest.mark.django_db, pytest.mark.password_only]

PASSWORD = "correct horse battery staple"
# The second factor's own pages, open to a password-only session (they check again: a user
# with a device cannot enrol another without its code).
SECOND_FACTOR_PAGES = {"accounts:mfa_setup", "accounts:mfa_verify"}
# The passkey ceremonies (JSON for the passkey script) and the script's messages: a user with
# a device is refused enrolment (403) until they have given it; requests without a challenge
# or with a malformed answer are refused (400, 422); GET is not allowed (405).
PASSKEY_ENDPOINTS = {
    "accounts:passkey_register_begin",
    "accounts:passkey_register_complete",
    "accounts:passkey_auth_begin",
    "accounts:passkey_auth_complete",
    "accounts:passkey_jsi18n",
}


def password_only(user) -> tuple[Client, callable]:
    client = Client(raise_request_exception=False)

    def login() -> None:
        response = client.post(
            reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, "the password is right"

    login()
    return client, login


@pytest.mark.parametrize(
    ("persona", "has_device"),
    [("alice", False), ("dora", True), ("adam", True), ("root", False), ("oscar", False)],
)
def test_a_password_alone_reaches_nothing(world, persona, has_device):
    user = world.users[persona]
    if has_device:
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    expected = reverse("accounts:mfa_verify" if has_device else "accounts:mfa_setup")
    client, login = password_only(user)
    before = snapshot()
    answers = ask_everything(client, world, forged=False, relogin=login)
    after = snapshot()

    assert not no_500s(answers), "\n".join(no_500s(answers))
    assert not leaks(answers, world), "\n".join(leaks(answers, world))
    assert not snapshot_diff(before, after), snapshot_diff(before, after)
    wrong = []
    for a in answers:
        name = a.target.route.name
        if name in MACHINE_ENDPOINTS:
            ok = a.status in MACHINE_ENDPOINTS[name]
        elif name in PUBLIC:
            # The admin's sign-in page tells a signed-in user who is not staff "403: for
            # administrators only" (haven.admin); it shows nothing else.
            ok = a.status in (200, 302, 405) or (a.status == 403 and name == "admin:login")
        elif name in PASSKEY_ENDPOINTS:
            ok = a.status in (200, 400, 405, 422) or (a.status == 403 and has_device)
        elif name in SECOND_FACTOR_PAGES:
            ok = a.status in (200, 302, 400)
            ok = ok and (a.status != 302 or a.location.startswith(expected))
        else:
            ok = a.status == 302 and a.location.split("?")[0] == expected
        if not ok:
            wrong.append(str(a))
    assert not wrong, "\n".join(wrong)
    assert len(answers) > 300


def test_the_mfa_requirement_follows_debug(world):
    assert settings.MFA_REQUIRED is True  # tests run with DEBUG off
