"""Haven's own error pages (with DEBUG off, as in production and in tests) and the admin's
"administrators only" page for signed-in users who are not staff."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.conftest import submit

pytestmark = pytest.mark.django_db

DJANGO_DEBUG_MARKERS = ("Using the URLconf", "Traceback", "cases/<int:pk>/", "urlpatterns")


def no_debug_output(html: str) -> bool:
    return not any(marker in html for marker in DJANGO_DEBUG_MARKERS)


def test_a_missing_page_is_havens_404_in_havens_layout(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'class="site-header"' in html
    assert 'id="header-q"' in html  # signed in: the header's search is there to help
    assert no_debug_output(html)


def test_another_units_case_answers_with_the_same_404(client, alice, oscar):
    foreign = submit(oscar)
    client.force_login(alice)
    response = client.get(reverse("cases:detail", args=[foreign.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert foreign.reference not in html and "KOROLEV" not in html
    assert no_debug_output(html)


def test_the_404_page_is_translated(client, alice):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    client.cookies["django_language"] = "lt"
    html = client.get("/no-such-page/").content.decode()
    assert "Puslapis nerastas" in html


def test_a_refused_admin_page_is_havens_403(client, adam):
    client.force_login(adam)
    # Events are append-only: nobody may add one in the admin.
    response = client.get(reverse("admin:cases_caseevent_add"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert 'class="site-header"' in html
    assert no_debug_output(html)


def test_the_403_handler_renders_havens_page(alice):
    request = RequestFactory().get("/somewhere/")
    request.user = alice
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_the_500_page_needs_no_context_and_no_database(django_assert_num_queries):
    request = RequestFactory().get("/cases/1/")
    with django_assert_num_queries(0):
        response = defaults.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "haven.css" in html
    assert no_debug_output(html)


def test_a_caseworker_opening_the_admin_is_told_it_is_for_administrators(client, alice):
    client.force_login(alice)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Administrators only" in html
    assert 'class="site-header"' in html
    assert 'name="password"' not in html  # not Django's sign-in box


def test_an_anonymous_visitor_still_gets_the_admin_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert 'name="password"' in response.content.decode()


def test_an_administrator_gets_havens_administration(client, adam):
    client.force_login(adam)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Haven administration" in html
    assert "Django administration" not in html
