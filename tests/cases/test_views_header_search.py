"""The search box in the header of every signed-in page: the same search as the case list;
a whole case reference opens the case; the applicant's name in the results is a link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import submit

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
HEADER_SEARCH = 'id="header-q"'


@pytest.mark.parametrize(
    "page", ["cases:dashboard", "cases:list", "cases:intake", "cases:facilities"]
)
def test_every_signed_in_page_has_the_search_box(client, alice, page):
    client.force_login(alice)
    html = client.get(reverse(page)).content.decode()
    assert HEADER_SEARCH in html
    assert f'action="{LIST}"' in html


def test_the_case_page_has_it_too(client, alice, case):
    client.force_login(alice)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert HEADER_SEARCH in html


def test_the_sign_in_page_has_no_search_box(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert HEADER_SEARCH not in html


def test_a_whole_reference_opens_the_case(client, alice, case):
    submit(alice, family_name="Petrov", name_original="Олег Петров")
    client.force_login(alice)
    response = client.get(LIST, {"q": f"  {case.reference.lower()} "})
    assert response.status_code == 302
    assert response.url == reverse("cases:detail", args=[case.pk])


def test_a_whole_reference_asked_for_as_a_file_is_exported(client, alice, case):
    client.force_login(alice)
    response = client.get(LIST, {"q": case.reference, "format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert case.reference in body and len(body.strip().splitlines()) == 2  # header and case


def test_part_of_a_reference_still_lists(client, alice, case):
    client.force_login(alice)
    number = case.reference.rsplit("-", 1)[1]
    response = client.get(LIST, {"q": number})
    assert response.status_code == 200
    assert [row["reference"] for row in response.context["rows"]] == [case.reference]


def test_another_units_reference_does_not_open_nor_reveal_the_case(client, alice, oscar):
    foreign = submit(oscar)
    client.force_login(alice)
    response = client.get(LIST, {"q": foreign.reference})
    assert response.status_code == 200
    assert response.context["rows"] == []


def test_names_are_searched_across_scripts_from_the_header(client, alice, case):
    client.force_login(alice)
    response = client.get(LIST, {"q": "Королёв"})
    assert [row["reference"] for row in response.context["rows"]] == [case.reference]


def test_the_applicants_name_is_a_link_to_the_case(client, alice, case):
    client.force_login(alice)
    html = client.get(LIST, {"q": "korolev"}).content.decode()
    target = reverse("cases:detail", args=[case.pk])
    assert f'<a href="{target}#applicant-heading">Ivan KOROLEV</a>' in html
