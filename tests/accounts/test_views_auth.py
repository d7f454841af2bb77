"""Sign-in, sign-out (POST only) and password change."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    ("cases:dashboard", []),
    ("cases:list", []),
    ("cases:intake", []),
    ("cases:facilities", []),
    ("cases:notifications", []),
    ("accounts:password_change", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_page_requires_sign_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_the_login_page_has_labelled_fields(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username"' in html
    assert '<label for="id_password"' in html
    assert 'class="skip-link"' in html


def test_a_signed_in_user_is_sent_on_from_the_login_page(client, alice):
    client.force_login(alice)
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302


def test_sign_out_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("cases:dashboard")).status_code == 302


def test_the_header_has_a_sign_out_button(client, alice):
    client.force_login(alice)
    html = client.get(reverse("cases:dashboard")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in html
    assert "Sign out</button>" in html


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "a much longer new passphrase 42",
            "new_password2": "a much longer new passphrase 42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("a much longer new passphrase 42")


def test_password_change_shows_errors_beside_fields(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
