"""The case list: search across scripts, filters, sort orders, pages, bulk assignment."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import filters, workflow
from tests.conftest import submit

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")


def refs(response) -> list[str]:
    assert response.status_code == 200
    return [row["reference"] for row in response.context["rows"]]


def person(actor, family_name, *, aliases="", submitted_on=dt.date(2023, 8, 11), **names):
    """A case whose applicant has aliases (the shared `submit` helper has none)."""
    return workflow.submit_application(
        actor=actor,
        applicant_data={
            "family_name": family_name,
            "given_names": names.get("given_names", ""),
            "name_original": names.get("name_original", ""),
            "aliases": aliases,
            "nationality": names.get("nationality", "RU"),
        },
        submitted_on=submitted_on,
    )


@pytest.fixture
def korolev(alice):
    return person(
        alice, "Korolev", given_names="Ivan", name_original="Иван Королёв", aliases="Ivan Koroljow"
    )


@pytest.fixture
def petrov(alice):
    return person(
        alice,
        "Petrov",
        given_names="Oleg",
        name_original="Олег Петров",
        nationality="BY",
        submitted_on=dt.date(2023, 9, 1),
    )


@pytest.mark.parametrize("query", ["Korolev", "Korolyov", "korolev", "Королёв", "KOROLJOW"])
def test_it_finds_the_sample_case_by_any_spelling(client, alice, korolev, petrov, query):
    client.force_login(alice)
    assert refs(client.get(LIST, {"q": query})) == [korolev.reference]


def test_it_finds_by_given_and_family_name_in_either_order(client, alice, korolev, petrov):
    client.force_login(alice)
    assert refs(client.get(LIST, {"q": "Королёв Иван"})) == [korolev.reference]
    assert refs(client.get(LIST, {"q": "ivan korolev"})) == [korolev.reference]


def test_it_finds_by_reference_in_any_case(client, alice, korolev, petrov):
    client.force_login(alice)
    # A whole reference opens the case itself (tests/cases/test_views_header_search.py).
    response = client.get(LIST, {"q": korolev.reference.lower()})
    assert response.url == reverse("cases:detail", args=[korolev.pk])
    number = korolev.reference.rsplit("-", 1)[1]
    assert refs(client.get(LIST, {"q": number})) == [korolev.reference]


def test_it_never_finds_another_units_cases(client, oscar, korolev):
    client.force_login(oscar)
    assert refs(client.get(LIST, {"q": "Korolev"})) == []
    assert refs(client.get(LIST)) == []


def test_a_short_query_says_why_names_are_not_searched(client, alice, korolev):
    client.force_login(alice)
    response = client.get(LIST, {"q": "Ko"})
    assert refs(response) == []
    assert response.context["short_query"]


def test_a_common_name_lists_every_matching_case(client, alice, monkeypatch):
    # On PostgreSQL the search reads the cases' own copy of the key: no limit on people.
    hosseinis = [
        person(alice, "Hosseini", given_names=f"Ali {n}", nationality="AF") for n in range(4)
    ]
    monkeypatch.setattr(filters, "APPLICANT_MATCH_LIMIT", 3)
    client.force_login(alice)
    response = client.get(LIST, {"q": "hosseini"})
    assert sorted(refs(response)) == sorted(c.reference for c in hosseinis)
    assert not response.context["name_search"].truncated
    assert "have a name matching this search" not in response.content.decode()


def test_without_the_cases_copy_a_name_matching_too_many_people_says_so(client, alice, monkeypatch):
    # The path of databases without the triggers (SQLite): people first, then their cases.
    monkeypatch.setattr(filters, "kept_by_triggers", lambda: False)
    hosseinis = [
        person(alice, "Hosseini", given_names=f"Ali {n}", nationality="AF") for n in range(4)
    ]
    client.force_login(alice)
    response = client.get(LIST, {"q": "hosseini"})
    assert sorted(refs(response)) == sorted(c.reference for c in hosseinis)
    assert not response.context["name_search"].truncated

    monkeypatch.setattr(filters, "APPLICANT_MATCH_LIMIT", 3)
    response = client.get(LIST, {"q": "hosseini"})
    # The three registered last; never silently: the page says more people matched.
    assert sorted(refs(response)) == sorted(c.reference for c in hosseinis[1:])
    assert response.context["name_search"].truncated
    assert "More than 3 people have a name matching this search" in response.content.decode()


def test_it_filters_by_status_procedure_and_nationality(client, alice, korolev, petrov):
    workflow.start_examination(petrov, actor=alice, expected_status="submitted", reason="Go")
    client.force_login(alice)
    assert refs(client.get(LIST, {"status": "examination"})) == [petrov.reference]
    assert refs(client.get(LIST, {"nationality": "RU"})) == [korolev.reference]
    assert refs(client.get(LIST, {"procedure": "border"})) == []


def test_it_filters_by_facility_and_assignee(client, alice, dora, korolev, petrov, pabrade):
    workflow.detain(
        korolev,
        actor=alice,
        expected_status="submitted",
        reason="r",
        facility=pabrade,
        legal_basis="Art. 113",
        order_reference="1",
    )
    workflow.assign(petrov, actor=dora, assignee=alice)
    client.force_login(alice)
    assert refs(client.get(LIST, {"facility": pabrade.pk})) == [korolev.reference]
    assert refs(client.get(LIST, {"assigned": "me"})) == [petrov.reference]
    assert refs(client.get(LIST, {"assigned": str(alice.pk)})) == [petrov.reference]
    assert refs(client.get(LIST, {"assigned": "none"})) == [korolev.reference]


def test_it_filters_overdue_cases(client, alice, korolev):
    fresh = submit(alice, family_name="Fresh", submitted_on=timezone.localdate())
    client.force_login(alice)
    result = refs(client.get(LIST, {"overdue": "on"}))
    assert korolev.reference in result
    assert fresh.reference not in result


def test_bad_filter_values_are_shown_as_errors_not_500(client, alice, korolev):
    client.force_login(alice)
    response = client.get(LIST, {"status": "nonsense", "assigned": "999999999999999999999"})
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    assert korolev.reference in refs(response)


def test_it_sorts_by_days_waiting_and_nearest_deadline(client, alice, korolev, petrov):
    fresh = submit(alice, family_name="Fresh", submitted_on=timezone.localdate())
    client.force_login(alice)
    assert refs(client.get(LIST, {"sort": "submitted"}))[0] == korolev.reference
    assert refs(client.get(LIST, {"sort": "-submitted"}))[0] == fresh.reference
    by_deadline = refs(client.get(LIST, {"sort": "deadline"}))
    assert by_deadline[0] == korolev.reference
    assert by_deadline[-1] == fresh.reference


def test_it_sorts_by_time_in_the_current_state(client, alice, korolev, petrov):
    workflow.start_examination(korolev, actor=alice, expected_status="submitted", reason="Go")
    client.force_login(alice)
    # petrov has been "submitted" since 2023; korolev changed status just now.
    assert refs(client.get(LIST, {"sort": "in_state"}))[0] == petrov.reference
    assert refs(client.get(LIST, {"sort": "-in_state"}))[0] == korolev.reference


def test_it_pages_on_the_server(client, alice):
    for i in range(30):
        submit(alice, family_name=f"Person{i:02d}")
    client.force_login(alice)
    first = client.get(LIST)
    assert len(refs(first)) == 25
    second = client.get(LIST, {"page": "2"})
    assert len(refs(second)) == 5
    assert not set(refs(first)) & set(refs(second))
    assert len(refs(client.get(LIST, {"per_page": "50"}))) == 30
    assert len(refs(client.get(LIST, {"page": "99"}))) == 5  # last page


def test_the_list_costs_the_same_queries_at_any_page_size(
    client, alice, dora, pabrade, django_assert_num_queries
):
    def make(n):
        for i in range(n):
            case = person(alice, f"Many{i:03d}", aliases="Alias")
            workflow.assign(case, actor=dora, assignee=alice)
            if i % 2 == 0 and pabrade.has_free_place():
                workflow.detain(
                    case,
                    actor=alice,
                    expected_status="submitted",
                    reason="r",
                    facility=pabrade,
                    legal_basis="Art. 113",
                    order_reference=str(i),
                )

    make(3)
    client.force_login(dora)
    params = {"q": "many", "sort": "deadline", "per_page": "25"}
    client.get(LIST, params)  # the unit's staff list is read once into the shared cache
    with CaptureQueriesContext(connection) as small:
        assert len(refs(client.get(LIST, params))) == 3
    make(60)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(refs(client.get(LIST, {**params, "per_page": "50"}))) == 50
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(refs(client.get(LIST, {**params, "per_page": "100"}))) == 63


# -- bulk assignment --------------------------------------------------------------------

BULK = reverse("cases:bulk_assign")


def test_a_decision_maker_assigns_selected_cases(client, alice, dora, korolev, petrov):
    client.force_login(dora)
    page = client.get(LIST)
    assert 'name="cases"' in page.content.decode()
    response = client.post(
        BULK,
        {"cases": [korolev.pk, petrov.pk], "assignee": alice.pk, "next": f"{LIST}?q=ko"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=ko"
    korolev.refresh_from_db()
    petrov.refresh_from_db()
    assert korolev.assigned_to == alice and petrov.assigned_to == alice


def test_bulk_assignment_is_all_or_nothing(client, alice, dora, oscar, korolev):
    foreign = submit(oscar, family_name="Foreign")
    client.force_login(dora)
    response = client.post(BULK, {"cases": [korolev.pk, foreign.pk], "assignee": alice.pk})
    assert response.status_code == 302
    korolev.refresh_from_db()
    foreign.refresh_from_db()
    assert korolev.assigned_to is None and foreign.assigned_to is None


def test_a_caseworker_may_not_bulk_assign(client, alice, korolev):
    client.force_login(alice)
    assert 'name="cases"' not in client.get(LIST).content.decode()
    response = client.post(BULK, {"cases": [korolev.pk], "assignee": alice.pk})
    assert response.status_code == 403
    korolev.refresh_from_db()
    assert korolev.assigned_to is None


def test_bulk_assignment_ignores_an_offsite_next(client, alice, dora, korolev):
    client.force_login(dora)
    response = client.post(
        BULK, {"cases": [korolev.pk], "assignee": alice.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == LIST


def test_bulk_assignment_without_a_selection_says_so(client, alice, dora, korolev):
    client.force_login(dora)
    response = client.post(BULK, {"assignee": alice.pk}, follow=True)
    assert "Select at least one case." in response.content.decode()


def test_users_without_a_role_see_an_explanation(client, db):
    from tests.conftest import make_user

    nobody = make_user("nobody", None, None)
    client.force_login(nobody)
    response = client.get(LIST)
    assert response.status_code == 200
    assert "Ask an administrator" in response.content.decode()


def test_a_search_counts_its_matches_only_up_to_its_own_cap(client, alice, monkeypatch):
    """A name search stops counting above SEARCH_COUNT_CAP (each trigram match is read from
    the table) and says so; the same cases without a search are counted in full."""
    lists = importlib.import_module("cases.views.lists")
    hosseinis = [
        person(alice, "Hosseini", given_names=f"Ali {n}", nationality="AF") for n in range(3)
    ]
    client.force_login(alice)
    monkeypatch.setattr(lists, "SEARCH_COUNT_CAP", 2)
    response = client.get(LIST, {"q": "hosseini"})
    assert response.context["paginator"].capped
    assert "More than 2 cases — narrow the search or filters" in response.content.decode()
    # The most recent cases still show; nothing is hidden from the page without saying so.
    assert set(refs(response)) == {c.reference for c in hosseinis}

    response = client.get(LIST, {"nationality": "AF"})
    assert not response.context["paginator"].capped
    assert response.context["paginator"].count == 3
    assert "More than" not in response.content.decode()
