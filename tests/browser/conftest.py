"""Browser tests: real Chromium (Debian's) driven by Playwright against pytest-django's live
server. Every test here uses `@pytest.mark.django_db(transaction=True)`, so the live server's
thread sees the rows the test made."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; Django refuses database calls
# from a thread with a running loop unless told that this is intended.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"


def artifacts_dir() -> Path:
    """Where screenshots go: $TEST_ARTIFACTS or test-artifacts/ (git-ignored)."""
    base = Path(os.environ.get("TEST_ARTIFACTS") or Path(settings.BASE_DIR) / "test-artifacts")
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The pages run under a strict Content Security Policy (self only, no inline script or
    # style): a violation shows up as a console error, and fails the test.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not violations, violations


@pytest.fixture
def screenshot(page):
    """`screenshot("case-page")` saves the whole page as a PNG for a reviewer to look at."""
    folder = artifacts_dir()

    def take(name: str, *, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def sample_case(settings, tmp_path):
    """The sample case (Ivan Korolev, detained at Pabradė), loaded by `import_seed`."""
    from cases.models import Application

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("import_seed", stdout=io.StringIO())
    return Application.objects.select_related("unit").get()


def authenticator(username: str):
    """The user's authenticator app: a confirmed TOTP device, made if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


@pytest.fixture
def sign_in(page):
    """`sign_in("alice")` signs in through the real login form, enters the code of the user's
    authenticator app (a device is made for them if they have none) and lands on the
    dashboard."""
    from tests.conftest import totp_code

    def run(username: str, password: str = PASSWORD) -> None:
        device = authenticator(username)
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        if "/accounts/two-factor/" in page.url:
            page.get_by_label("Code").fill(totp_code(device))
            with page.expect_navigation():
                page.get_by_role("button", name="Continue").click()

    return run
