"""Lithuanian and English: the header switch, kept on the account, and plural forms."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User

pytestmark = pytest.mark.django_db


def _switch(client: Client, language: str, next_url: str = "/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_switch_posts_to_set_language():
    assert reverse("set_language") == "/i18n/setlang/"


def test_the_header_offers_both_languages_in_their_own_names(client, alice):
    client.force_login(alice)
    html = client.get(reverse("cases:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'value="lt" lang="lt"' in html and ">Lietuvių</button>" in html
    assert 'value="en" lang="en"' in html and ">English</button>" in html
    assert '<html lang="en">' in html


def test_the_switch_keeps_the_choice_on_the_account(client, alice):
    client.force_login(alice)
    response = _switch(client, "lt", reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:list")
    alice.refresh_from_db()
    assert alice.language == "lt"

    page = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="lt">' in page
    assert "Bylų sąrašas" in page or "Bylos" in page
    assert "Sign out" not in page and "Atsijungti" in page


def test_the_users_choice_wins_over_the_browser_on_another_device(alice):
    alice.language = User.Language.LITHUANIAN
    alice.save(update_fields=["language"])
    # Another browser: it asks for English and even carries an English language cookie.
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    elsewhere.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    elsewhere.force_login(alice)
    html = elsewhere.get(reverse("cases:dashboard")).content.decode()
    assert '<html lang="lt">' in html
    assert "Suvestinė" in html
    assert "Dashboard" not in html


def test_switching_back_to_english_is_kept_too(client, alice):
    alice.language = User.Language.LITHUANIAN
    alice.save(update_fields=["language"])
    client.force_login(alice)
    _switch(client, "en")
    alice.refresh_from_db()
    assert alice.language == "en"
    html = client.get(reverse("cases:dashboard"), HTTP_ACCEPT_LANGUAGE="lt").content.decode()
    assert '<html lang="en">' in html and "Dashboard" in html


def test_it_ignores_an_unknown_language(client, alice):
    client.force_login(alice)
    response = _switch(client, "xx")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.language == ""


def test_a_user_who_chose_nothing_follows_the_browser(client, alice):
    client.force_login(alice)
    lithuanian = client.get(reverse("cases:dashboard"), HTTP_ACCEPT_LANGUAGE="lt")
    assert '<html lang="lt">' in lithuanian.content.decode()
    english = client.get(reverse("cases:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in english.content.decode()


def test_signed_out_pages_follow_the_browser(client):
    lithuanian = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="lt-LT,lt;q=0.9")
    html = lithuanian.content.decode()
    assert '<html lang="lt">' in html
    assert "Prisijungti" in html
    assert "Sign in" not in html

    english = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = english.content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html


def test_a_signed_out_switch_sets_only_the_browsers_cookie(client):
    response = _switch(client, "lt", reverse("accounts:login"))
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "lt"
    html = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="lt">' in html


# Lithuanian has three plural forms for whole numbers (1, 21, 101: "byla"; 2-9, 22-29:
# "bylos"; 0, 10-20, 30: "bylų"); English has two.
PLURALS = [
    (1, "1 byla", "1 case"),
    (2, "2 bylos", "2 cases"),
    (5, "5 bylos", "5 cases"),
    (10, "10 bylų", "10 cases"),
    (11, "11 bylų", "11 cases"),
    (21, "21 byla", "21 cases"),
    (22, "22 bylos", "22 cases"),
    (0, "0 bylų", "0 cases"),
]


@pytest.mark.parametrize(("n", "lithuanian", "english"), PLURALS)
def test_it_uses_the_right_plural_form_in_both_languages(n, lithuanian, english):
    with translation.override("lt"):
        assert translation.ngettext("%(n)s case", "%(n)s cases", n) % {"n": n} == lithuanian
    with translation.override("en"):
        assert translation.ngettext("%(n)s case", "%(n)s cases", n) % {"n": n} == english


@pytest.mark.parametrize(
    ("n", "days"), [(1, "diena"), (2, "dienos"), (5, "dienos"), (11, "dienų"), (21, "diena")]
)
def test_a_template_plural_is_lithuanian_too(n, days):
    from django.template import Context, Template

    template = Template(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} day{% plural %}{{ n }} days"
        "{% endblocktranslate %}"
    )
    with translation.override("lt"):
        assert template.render(Context({"n": n})) == f"{n} {days}"


def test_djangos_own_messages_are_lithuanian_beside_havens():
    # Haven's catalogue declares Django's plural formula, so the two merge into one. The
    # messages are passed through variables: makemessages collects literal ones.
    havens, djangos = "Enter a valid date.", "This field is required."
    with translation.override("lt"):
        assert translation.gettext(havens) == "Įveskite teisingą datą."
        assert translation.gettext(djangos) == "Šis laukas yra privalomas."


def test_a_default_deadline_rule_is_named_in_the_readers_language(client, alice, case):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    client.force_login(alice)

    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()

    assert "Prašymo nagrinėjimo terminas" in page
    assert "Examination period" not in page
    assert "81 straipsnio 1 dalis" in page


def test_a_rule_an_administrator_renamed_is_shown_as_written(client, alice, case):
    from cases.models import DeadlineRule

    DeadlineRule.objects.filter(code="examination").update(name="Nagrinėjimas (vietinis)")
    alice.language = "en"
    alice.save(update_fields=["language"])
    client.force_login(alice)

    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()

    assert "Nagrinėjimas (vietinis)" in page
