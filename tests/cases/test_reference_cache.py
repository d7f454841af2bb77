"""Read-mostly values in the shared cache (`cases.reference`: the rules' and facilities'
names the timeline shows): read once, replaced by a committed change at once (a save or a
bulk update), never holding what a transaction changed and then rolled back. Which facts are
hidden is never cached: a bulk change hides a fact on the next read."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Facility, SensitiveField, hidden_facts
from cases.reference import cached
from cases.sensitive import ensure_default_sensitive_fields


def names() -> dict[int, str]:
    return cached("facility_names", lambda: dict(Facility.objects.values_list("pk", "name")))


def reads(call) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        value = call()
    return value, len([q for q in queries if "cases_facility" in q["sql"]])


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_shows_at_once_and_an_unchanged_value_costs_no_query():
    facility = Facility.objects.create(
        name="Pabradė FRC", code="pab-x", kind="detention", capacity=9
    )
    first, queried = reads(names)
    assert first[facility.pk] == "Pabradė FRC" and queried == 1
    assert reads(names) == (first, 0)  # from the shared cache

    facility.name = "Foreigners' Registration Centre, Pabradė"
    facility.save()
    assert names()[facility.pk] == "Foreigners' Registration Centre, Pabradė"
    Facility.objects.filter(pk=facility.pk).update(name="FRC Pabradė")  # no signal
    assert names()[facility.pk] == "FRC Pabradė"


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_never_kept():
    facility = Facility.objects.create(name="Rukla", code="rukla-x", kind="reception", capacity=9)
    assert names()[facility.pk] == "Rukla"
    with pytest.raises(RuntimeError), transaction.atomic():
        Facility.objects.filter(pk=facility.pk).update(name="Renamed, then rolled back")
        # Inside the changing transaction its own reads see the change...
        assert names()[facility.pk] == "Renamed, then rolled back"
        raise RuntimeError("roll back")
    # ...and after the rollback everyone reads what is committed, from the cache again.
    assert reads(names) == ({facility.pk: "Rukla"}, 0)


@pytest.mark.django_db(transaction=True)
def test_hidden_facts_follow_even_a_bulk_change_at_once():
    ensure_default_sensitive_fields()
    fact = SensitiveField.Fact.HEALTH.value
    SensitiveField.objects.filter(fact=fact).update(hidden=False)
    assert fact not in hidden_facts()
    SensitiveField.objects.filter(fact=fact).update(hidden=True)
    assert fact in hidden_facts()
