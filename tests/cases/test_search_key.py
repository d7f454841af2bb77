"""The case's copy of its applicant's search key (`Application.search_key`, kept by triggers
on PostgreSQL), which the name search reads: it stays right when the applicant is renamed,
when a case is moved to another person, and when the applicant is anonymised."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases import workflow
from cases.models import Applicant, Application
from cases.names import search_key
from tests.cases.test_retention import CUTOFF, PAST, anonymise, ended_case
from tests.conftest import submit

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")


def found(client, query: str) -> list[str]:
    response = client.get(LIST, {"q": query})
    assert response.status_code == 200
    return sorted(row["reference"] for row in response.context["rows"])


def stored_key(case: Application) -> str:
    return Application.objects.values_list("search_key", flat=True).get(pk=case.pk)


def test_a_new_case_carries_its_applicants_key(alice):
    case = submit(alice, family_name="Korolev", given_names="Ivan")
    assert stored_key(case) == Applicant.objects.get(pk=case.applicant_id).search_key
    assert "korolev" in stored_key(case) and "ivan" in stored_key(case)


def test_renaming_the_applicant_renames_every_case_of_theirs(client, alice):
    first = submit(alice, family_name="Korolev", name_original="")
    second = workflow.submit_application(
        actor=alice, applicant=first.applicant, submitted_on=dt.date(2024, 1, 5)
    )
    client.force_login(alice)
    assert found(client, "Korolev") == sorted([first.reference, second.reference])

    applicant = Applicant.objects.get(pk=first.applicant_id)
    applicant.family_name = "Smirnov"
    applicant.aliases = "Smirnoff"
    applicant.save()

    assert found(client, "Korolev") == []
    assert found(client, "Smirnov") == sorted([first.reference, second.reference])
    assert found(client, "Smirnoff") == found(client, "Smirnov")
    assert stored_key(first) == stored_key(second) == applicant.search_key


def test_a_case_saved_from_a_stale_copy_keeps_the_current_key(client, alice):
    case = submit(alice, family_name="Korolev", name_original="")
    stale = Application.objects.get(pk=case.pk)  # read before the rename
    applicant = Applicant.objects.get(pk=case.applicant_id)
    applicant.family_name = "Smirnov"
    applicant.save()

    stale.save()  # writes every column, the old key included

    client.force_login(alice)
    assert found(client, "Smirnov") == [case.reference]
    assert found(client, "Korolev") == []


def test_a_case_moved_to_another_person_takes_their_key(client, alice, root):
    # Two records of one person merged: the case is corrected to belong to the other record.
    duplicate = submit(alice, family_name="Korolyov", given_names="Ivan", name_original="")
    kept = submit(alice, family_name="Petrov", given_names="Oleg", name_original="")
    workflow.correct_record(
        duplicate, actor=root, reason="The same person, registered twice", applicant=kept.applicant
    )

    client.force_login(alice)
    assert found(client, "Petrov") == sorted([duplicate.reference, kept.reference])
    assert found(client, "Korolyov") == []
    assert stored_key(duplicate) == search_key("Oleg Petrov", "Petrov Oleg")


def test_an_anonymised_applicants_cases_are_no_longer_found_by_name(client, alice, dora, pabrade):
    case = ended_case(alice, dora, pabrade, when=PAST)
    client.force_login(alice)
    assert found(client, "Korolev") == [case.reference]

    anonymise("--closed-before", CUTOFF)

    assert found(client, "Korolev") == []
    assert found(client, "Королёв") == []
    assert "korolev" not in stored_key(case)
    assert stored_key(case) == Applicant.objects.get(pk=case.applicant_id).search_key


def test_a_search_can_walk_the_units_newest_cases_without_reading_the_table(alice):
    """The index of the unit's cases newest first carries the reference and the search key
    (migration 0040), so the first page of a name search can be an index-only scan: walked
    in the page's order (no sort), PostgreSQL answers it from that index alone. (Which path
    the planner takes on its own depends on the table's size and statistics: a test's
    handful of rows may be sorted in memory instead.)"""
    from django.db import connection

    from cases import access
    from cases.filters import NameSearch

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'app_unit_submitted_idx'")
        (definition,) = cursor.fetchone()
    assert definition.endswith(
        "(unit_id, submitted_on DESC, id DESC) INCLUDE (reference, search_key)"
    ), definition

    submit(alice, family_name="Hosseini")
    query = NameSearch("hosseini").filter(access.visible_applications(alice))
    sql, params = query.order_by("-submitted_on", "-id").values("pk")[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        for path in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{path} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using app_unit_submitted_idx" in plan, plan


def counted_plan(user, query: str) -> str:
    """The plan of the name condition of a search's count (`ApplicationFilter.counted`) by
    `user`, over every case, found through indexes of matches (bitmaps) only and without
    the index of unit and key (dropped inside the test's transaction): whether the trigram
    index of units answers it, whatever a handful of test rows would cost read whole."""
    from django.db import connection

    from cases import access
    from cases.filters import NameSearch

    search = NameSearch(query, **access.name_search_scope(user))
    cases = search.counted(search.filter(Application.objects.order_by()))
    sql, params = cases.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        for path in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{path} = off")
        cursor.execute("DROP INDEX application_unit_search_trgm_idx")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_caseworkers_search_is_counted_through_the_index_of_their_units_trigrams(alice):
    """The count asks `application_unit_trigram_idx` for the unit's entries of the query's
    trigrams (`7:hos`, ...): the query's expression is the index's own."""
    submit(alice, family_name="Hosseini")
    plan = counted_plan(alice, "hosseini")
    assert "Bitmap Index Scan on application_unit_trigram_idx" in plan, plan
    assert f"'{{{alice.unit_id}:ein,{alice.unit_id}:hos," in plan, plan
    assert "Seq Scan" not in plan, plan


def test_an_administrators_search_is_counted_as_it_is_listed(alice, adam):
    submit(alice, family_name="Hosseini")
    assert "haven_unit_trigrams" not in counted_plan(adam, "hosseini")


@pytest.mark.parametrize(
    "family, given, query",
    [
        ("Hosseini", "Ali", "hoss"),
        ("Hosseini", "Ali", "seini"),
        ("Al-Tikriti", "Mohammad Reza", "reza tikri"),
        ("Королёв", "Иван", "korolev iva"),
        ("Ng", "Hosseini", "ng hosseini"),
        ("Agent", "007", "t 007"),
        ("Nguyễn", "Thị Minh", "nguen minh"),
    ],
)
def test_the_unit_index_holds_every_trigram_a_search_for_part_of_a_name_asks_for(
    alice, family, given, query
):
    """What the count asks of the index (`filters.unit_trigrams`, made in Python) the
    database stored for a key that holds the query's words (`show_trgm`, made by pg_trgm):
    words inside a name, across its parts, with digits, from other scripts."""
    from django.db import connection

    from cases.filters import unit_trigrams
    from cases.names import fold_word

    case = submit(alice, family_name=family, given_names=given, name_original="")
    words = fold_word(query).split()
    assert all(word in stored_key(case) for word in words), stored_key(case)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT haven_unit_trigrams(unit_id, search_key) FROM cases_application WHERE id = %s",
            [case.pk],
        )
        (stored,) = cursor.fetchone()
    asked = unit_trigrams(alice.unit_id, words)
    assert asked and set(asked) <= set(stored), (asked, stored)


def test_emergency_access_finds_and_counts_the_granted_case_by_name_and_no_other(
    client, alice, oscar
):
    """Through emergency access a caseworker of another unit finds the case by name beside
    their own unit's, and the list counts what it lists; the other cases of the granted
    case's unit stay out."""
    granted = submit(alice, family_name="Hosseini", given_names="Ali")
    not_granted = submit(alice, family_name="Hosseini", given_names="Reza")
    own = submit(oscar, family_name="Hosseini", given_names="Omid")
    workflow.open_break_glass(granted, actor=oscar, reason="A transfer at the border tonight")
    for user, expected in ((oscar, [granted, own]), (alice, [granted, not_granted])):
        client.force_login(user)
        response = client.get(LIST, {"q": "hoss"})
        listed = sorted(row["reference"] for row in response.context["rows"])
        assert listed == sorted(case.reference for case in expected), user
        assert response.context["paginator"].count == len(expected), user
