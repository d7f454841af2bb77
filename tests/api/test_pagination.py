"""The API's case list in each of the case list's sort orders, page by page with cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.urls import reverse

from cases import workflow
from cases.filters import SORT_ORDERS
from cases.models import Application
from tests.conftest import submit


@pytest.fixture
def cases(alice, oscar):
    """Nine cases of alice's unit that tie on every sort column but the id somewhere: three
    made on one day, two applicants of one name, two without an open deadline."""
    made = [
        submit(alice, family_name="Petrov", given_names="Oleg", submitted_on=dt.date(2023, 8, 11)),
        submit(alice, family_name="Aziz", given_names="", submitted_on=dt.date(2023, 8, 11)),
        submit(alice, family_name="Petrov", given_names="Oleg", submitted_on=dt.date(2023, 8, 11)),
        submit(alice, family_name="Zhou", given_names="Li", submitted_on=dt.date(2024, 1, 3)),
        submit(alice, family_name="Korolev", given_names="Ivan", submitted_on=dt.date(2022, 5, 2)),
        submit(alice, family_name="Aziz", given_names="Omar", submitted_on=dt.date(2024, 1, 3)),
        submit(alice, family_name="Ng", given_names="Mai", submitted_on=dt.date(2023, 2, 1)),
    ]
    for case in made[4], made[6]:
        workflow.withdraw(
            case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
        )
    workflow.start_examination(made[1], actor=alice, expected_status="submitted", reason="Go")
    submit(oscar, family_name="Aziz")  # another unit's: never listed
    assert Application.objects.filter(next_deadline_at__isnull=True).count() == 2
    return made


def expected_ids(sort: str, unit_id: int) -> list[int]:
    """The order of the case list's page for this sort, ties broken by the id."""
    order = SORT_ORDERS[sort]
    if "id" not in order and "-id" not in order:
        order = (*order, "id")
    return list(
        Application.objects.filter(unit_id=unit_id).order_by(*order).values_list("pk", flat=True)
    )


def walk(api, url: str, params: dict) -> tuple[list[int], dict]:
    """Follow `next` from the first page to the last; the last page's answer too."""
    page = api.get(url, params).json()
    seen = [r["id"] for r in page["results"]]
    assert page["previous"] is None
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    return seen, page


@pytest.mark.parametrize("sort", list(SORT_ORDERS))
def test_it_pages_through_every_sort_order_without_skipping_or_repeating(
    api_as, alice, cases, sort
):
    api = api_as(alice)
    wanted = expected_ids(sort, alice.unit_id)
    assert len(wanted) == 7
    seen, last = walk(api, reverse("api:cases"), {"sort": sort, "page_size": 2})
    assert seen == wanted
    # And back from the last page to the first.
    back = [r["id"] for r in last["results"]]
    page = last
    while page["previous"]:
        page = api.get(page["previous"]).json()
        back = [r["id"] for r in page["results"]] + back
    assert back == wanted


def test_it_sorts_newest_applications_first_by_default(api_as, alice, cases):
    seen, _last = walk(api_as(alice), reverse("api:cases"), {"page_size": 3})
    assert seen == expected_ids("-submitted", alice.unit_id)
    ids = [c.pk for c in cases]
    assert seen[:2] == [ids[5], ids[3]]  # 3 January 2024, the later-registered first


def test_it_lists_cases_without_a_deadline_last_by_nearest_deadline(api_as, alice, cases):
    seen, _last = walk(api_as(alice), reverse("api:cases"), {"sort": "deadline", "page_size": 2})
    assert seen[-2:] == [cases[4].pk, cases[6].pk]


def test_a_case_added_while_paging_is_neither_skipped_nor_repeated(api_as, alice, cases):
    api = api_as(alice)
    first = api.get(reverse("api:cases"), {"sort": "name", "page_size": 3}).json()
    submit(alice, family_name="Aaron", submitted_on=dt.date(2023, 1, 1))  # before this page
    added = submit(alice, family_name="Zz", submitted_on=dt.date(2023, 1, 1))  # still ahead
    seen = [r["id"] for r in first["results"]]
    page = first
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 8
    assert seen[-1] == added.pk


def test_it_refuses_an_unknown_sort_with_a_field_error(api_as, alice, cases):
    response = api_as(alice).get(reverse("api:cases"), {"sort": "salary"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"]) == ["sort"]


def test_it_refuses_a_cursor_of_another_sort_or_a_damaged_one(api_as, alice, cases):
    api = api_as(alice)
    first = api.get(reverse("api:cases"), {"sort": "name", "page_size": 2}).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    other = api.get(reverse("api:cases"), {"sort": "reference", "cursor": cursor})
    assert other.status_code == 400
    assert list(other.json()["errors"]) == ["cursor"]
    forged = base64.urlsafe_b64encode(
        json.dumps({"s": "submitted", "v": ["0104-13-45", 1], "r": False}).encode()
    ).decode()
    for bad in ["nonsense", "%00", forged, base64.urlsafe_b64encode(b"[1,2]").decode()]:
        response = api.get(reverse("api:cases"), {"sort": "submitted", "cursor": bad})
        assert response.status_code == 400, bad
        assert list(response.json()["errors"]) == ["cursor"], bad


def test_the_schema_documents_the_sort_orders(api_as, alice):
    schema = api_as(alice).get(reverse("api:schema"), {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/cases/"]["get"]["parameters"]
    (sort,) = [p for p in parameters if p["name"] == "sort"]
    assert set(sort["schema"]["enum"]) == set(SORT_ORDERS)
    assert sort["schema"]["default"] == "-submitted"
    assert "ties broken by the case's id" in schema["paths"]["/api/v1/cases/"]["get"]["description"]
