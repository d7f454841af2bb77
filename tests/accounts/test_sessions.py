"""A user's sessions (accounts.sessions): the page lists where the account is signed in
(browser, address, last use) and ends any of them; an administrator ends all of a user's
sessions with a reason (a leaver, a lost phone)."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent, UserSession

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def browser_sign_in(user, *, agent: str, address: str) -> Client:
    """A sign-in through the sign-in page, from a browser at an address (with the second
    factor given, as tests/conftest.py does for the test client)."""
    from tests.conftest import give_second_factor

    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    session = client.session
    give_second_factor(session, user)
    session.save()
    return client


def test_the_page_lists_each_session_with_browser_address_and_last_use(alice):
    office = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    browser_sign_in(alice, agent=PHONE, address="203.0.113.9")
    response = office.get(reverse("accounts:sessions"))
    assert response.status_code == 200
    rows = response.context["sessions"]
    assert {(r["device"], r["ip"]) for r in rows} == {
        ("Firefox on Windows", "198.51.100.7"),
        ("Chrome on Android", "203.0.113.9"),
    }
    assert [r["current"] for r in rows if r["ip"] == "198.51.100.7"] == [True]
    html = response.content.decode()
    assert "Chrome on Android" in html and "203.0.113.9" in html


def test_the_last_use_follows_the_session(alice, settings):
    with time_machine.travel("2026-12-05 08:00Z", tick=False):
        client = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    with time_machine.travel("2026-12-05 08:20Z", tick=False):
        client.get(reverse("cases:dashboard"), REMOTE_ADDR="198.51.100.8")
    row = UserSession.objects.get(user=alice)
    assert row.last_seen.isoformat().startswith("2026-12-05T08:20")
    assert row.ip == "198.51.100.8"


def test_ending_a_session_signs_that_browser_out(alice):
    office = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    phone = browser_sign_in(alice, agent=PHONE, address="203.0.113.9")
    row = UserSession.objects.get(user=alice, ip="203.0.113.9")
    response = office.post(reverse("accounts:session_end"), {"session": row.pk})
    assert response.status_code == 302
    assert phone.get(reverse("cases:dashboard"))["Location"].startswith(reverse("accounts:login"))
    assert office.get(reverse("cases:dashboard")).status_code == 200
    [ended] = SecurityEvent.objects.filter(user=alice, kind=SecurityEvent.Kind.SESSION_ENDED)
    assert ended.data == {"ended": 1}


def test_ending_all_others_keeps_this_one(alice):
    office = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    others = [browser_sign_in(alice, agent=PHONE, address="203.0.113.9") for _ in range(2)]
    office.post(reverse("accounts:session_end"), {"session": "others"})
    assert office.get(reverse("cases:dashboard")).status_code == 200
    for other in others:
        assert other.get(reverse("cases:dashboard")).status_code == 302
    assert UserSession.objects.filter(user=alice).count() == 1


def test_nobody_ends_another_users_session(alice, oscar):
    victim = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    row = UserSession.objects.get(user=alice)
    attacker = browser_sign_in(oscar, agent=PHONE, address="203.0.113.9")
    for value in (row.pk, "abc", "", 10**20):
        response = attacker.post(reverse("accounts:session_end"), {"session": value}, follow=True)
        assert response.status_code == 200
        assert "not one of yours" in response.content.decode()
    assert victim.get(reverse("cases:dashboard")).status_code == 200
    assert attacker.get(reverse("accounts:session_end")).status_code == 405


def test_signing_out_removes_the_session_from_the_list(alice):
    client = browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7")
    client.post(reverse("accounts:logout"))
    assert not UserSession.objects.filter(user=alice).exists()


def test_an_administrator_ends_all_sessions_of_a_user_with_a_reason(alice, adam):
    sessions = [browser_sign_in(alice, agent=FIREFOX, address="198.51.100.7") for _ in range(2)]
    # A session made before the index existed is found in the store too.
    UserSession.objects.filter(user=alice).first().delete()
    admin = Client()
    admin.force_login(adam)
    changelist = reverse("admin:accounts_user_changelist")
    ask = {"action": "end_all_sessions", "_selected_action": [alice.pk]}
    assert "Reason" in admin.post(changelist, ask).content.decode()
    assert admin.post(changelist, {**ask, "apply": "yes", "reason": ""}).status_code == 200
    assert all(s.get(reverse("cases:dashboard")).status_code == 200 for s in sessions)

    response = admin.post(changelist, {**ask, "apply": "yes", "reason": "Left the office"})
    assert response.status_code == 302
    for session in sessions:
        assert session.get(reverse("cases:dashboard"))["Location"].startswith("/accounts/login/")
    [event] = SecurityEvent.objects.filter(user=alice, kind=SecurityEvent.Kind.SESSIONS_ENDED)
    assert (event.actor, event.reason, event.data) == (adam, "Left the office", {"ended": 2})
    assert admin.get(changelist).status_code == 200  # the administrator's own session stays
