"""A caseworker's day in a real browser: the header's search box opens the sample case from
any page by its reference and finds it by name in another script; the case page offers
"Assign to me"; a wrong address shows Haven's own 404 page; the admin tells a caseworker it
is for administrators only. Screenshots of each page go to the artifacts folder."""

from __future__ import annotations

import re

import pytest

from accounts import roles
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ruta(sample_case):
    return make_user("ruta", roles.CASEWORKER, sample_case.unit, last_name="Jonaitienė")


def header_search(page, text: str) -> None:
    box = page.get_by_role("search", name="Search cases").get_by_role("searchbox")
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")


def test_the_header_search_opens_the_case_and_finds_names(
    page, sign_in, screenshot, sample_case, ruta
):
    sign_in("ruta")
    page.goto("/facilities/")
    screenshot("header-search-on-facilities", full_page=False)

    # A whole reference, typed in lower case on another page, opens the case itself.
    header_search(page, sample_case.reference.lower())
    page.wait_for_url(f"**/cases/{sample_case.pk}/")
    assert page.get_by_role("heading", name=re.compile(sample_case.reference)).is_visible()
    # The sample case is nobody's yet: the caseworker may take it.
    take = page.get_by_role("button", name="Assign to me")
    assert take.is_visible()
    screenshot("header-search-opened-case")
    with page.expect_navigation():
        take.click()
    assert "The case is assigned to Ruta Jonaitienė." in page.locator(".messages").inner_text()
    assert page.get_by_role("button", name="Assign to me").count() == 0

    # A name in Cyrillic lists the case; the name itself is a link to it.
    header_search(page, "Королёв")
    rows = page.locator("table.table--cases tbody tr")
    assert rows.count() == 1
    screenshot("header-search-results")
    with page.expect_navigation():
        rows.first.get_by_role("link", name="Ivan KOROLEV").click()
    assert page.get_by_role("heading", name=re.compile(sample_case.reference)).is_visible()


def test_a_wrong_address_and_the_admin_show_havens_own_pages(page, sign_in, screenshot, ruta):
    sign_in("ruta")
    response = page.goto("/cases/999999/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.get_by_role("search", name="Search cases").is_visible()
    text = page.locator("body").inner_text()
    assert "URLconf" not in text and "Traceback" not in text
    screenshot("page-not-found")

    response = page.goto("/admin/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Administrators only").is_visible()
    assert page.get_by_label("Password").count() == 0
    screenshot("admin-administrators-only")


def test_the_admin_is_havens_administration(page, sign_in, screenshot, sample_case):
    from accounts.models import User
    from tests.conftest import totp_code

    from .conftest import authenticator

    User.objects.create_superuser("admin", "admin@example.test", "correct horse battery staple")
    device = authenticator("admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/?next=/admin/cases/application/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("correct horse battery staple")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    # The admin, too, asks for the second factor, then goes where it was asked to.
    page.get_by_label("Code").fill(totp_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/admin/cases/application/")
    assert "Haven administration" in page.title()
    assert page.get_by_role("link", name=sample_case.reference).is_visible()
    screenshot("admin-application-list-1280")
