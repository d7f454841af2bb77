"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools' WebAuthn domain)
stands in for a fingerprint reader. A caseworker without a second factor signs in with the
password, adds a passkey on the two-factor page (django-otp-webauthn's script, a static file
under the strict Content Security Policy), sees the recovery codes once, signs out, and signs
back in with the password and the passkey. Screenshots of each page.

Browsers offer passkeys on https pages and on localhost only, never on an IP address:
the live server is asked as http://localhost:<port>, the relying party is `localhost`."""

from __future__ import annotations

import re

import pytest

from accounts import roles
from accounts.models import SecurityEvent
from tests.conftest import make_user

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that says yes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def password_sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_caseworker_adds_a_passkey_signs_out_and_back_in_with_it(
    page, screenshot, sample_case, live_server
):
    assert live_server.url.startswith("http://localhost:")
    ruta = make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")
    cdp, authenticator_id = virtual_authenticator(page)

    password_sign_in(page, "ruta")
    assert "/accounts/two-factor/setup/" in page.url
    add = page.get_by_role("button", name="Add a passkey")
    add.wait_for()
    screenshot("passkey-setup")
    with page.expect_navigation():
        add.click()
    assert "/accounts/two-factor/recovery-codes/" in page.url
    assert page.get_by_text("Your passkey is added.").is_visible()
    assert len(page.locator("#recovery-codes li").all_inner_texts()) == 10
    with page.expect_navigation():
        page.get_by_role("link", name="Continue").click()
    assert page.get_by_role("heading", name=re.compile("Dashboard")).is_visible()
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["rpId"] == "localhost"

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    password_sign_in(page, "ruta")
    assert "/accounts/two-factor/" in page.url
    use = page.get_by_role("button", name="Use a passkey")
    use.wait_for()
    screenshot("passkey-verify")
    with page.expect_navigation():
        use.click()
    assert page.get_by_role("heading", name=re.compile("Dashboard")).is_visible()
    screenshot("passkey-signed-in")

    page.get_by_role("link", name="Two-factor sign-in").click()
    page.wait_for_url("**/accounts/two-factor/setup/")
    assert page.locator("#passkeys tbody tr").count() == 1
    screenshot("passkey-list")

    kinds = list(
        SecurityEvent.objects.filter(user=ruta).order_by("pk").values_list("kind", "data__device")
    )
    assert kinds == [
        (SecurityEvent.Kind.MFA_ENROLLED, "passkey"),
        (SecurityEvent.Kind.MFA_VERIFIED, "passkey"),
    ]
