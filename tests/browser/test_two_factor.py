"""Two-factor sign-in in a real browser: a caseworker without a second factor signs in with
the password, is led to set up an authenticator app (the key read from the page, the code
computed as an app would, with django-otp's own TOTP), sees the recovery codes once, signs
out, and signs back in with a code. Screenshots of each page."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import totp

from accounts import roles
from tests.conftest import make_user

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def code_from(secret_text: str, *, ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed in from the page (`ahead` steps of
    30 seconds later: a code counts once, and the next one is accepted too)."""
    raw = secret_text.replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{totp(key, drift=ahead):06d}"


def test_a_caseworker_enrols_an_authenticator_signs_out_and_back_in_with_a_code(
    page, screenshot, sample_case, settings
):
    # django-otp delays the next try after a wrong code by a second; a person types slower.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ruta")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/accounts/two-factor/setup/" in page.url
    assert page.get_by_role("heading", name="Set up two-factor sign-in").is_visible()
    assert page.get_by_role("img", name="QR code for the authenticator app").is_visible()
    # Nothing of the cases is offered before the second factor.
    assert page.get_by_role("link", name="Cases", exact=True).count() == 0
    screenshot("two-factor-setup")

    secret = page.locator("#mfa-secret").inner_text()
    page.get_by_label("Code").fill(code_from(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    assert "/accounts/two-factor/recovery-codes/" in page.url
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot("two-factor-recovery-codes")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue").click()
    assert page.get_by_role("heading", name=re.compile("Dashboard")).is_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ruta")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/accounts/two-factor/" in page.url
    assert page.get_by_role("heading", name="Enter your code").is_visible()
    page.get_by_label("Code").fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_text("That code is not right").is_visible()
    screenshot("two-factor-code-refused")

    page.get_by_label("Code").fill(code_from(secret, ahead=1))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name=re.compile("Dashboard")).is_visible()
    page.get_by_role("link", name="Sessions").click()
    page.wait_for_url("**/accounts/sessions/")
    assert page.locator("#sessions tbody tr").count() == 1
    screenshot("sessions")
