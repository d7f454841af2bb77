"""Reference values kept in the shared cache (`cases.reference`: which facts are hidden, the
rules' and facilities' names): read once, replaced by a committed change at once, never
holding what a transaction changed and then rolled back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Facility, SensitiveField, hidden_facts
from cases.sensitive import ensure_default_sensitive_fields

NAME = SensitiveField.Fact.NAME_ORIGINAL.value


def reads(call) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        value = call()
    return value, len([q for q in queries if "cases_sensitivefield" in q["sql"]])


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_shows_at_once_and_an_unchanged_value_costs_no_query():
    ensure_default_sensitive_fields()
    SensitiveField.objects.filter(fact=NAME).delete()
    first, queried = reads(hidden_facts)
    assert NAME not in first and queried == 1
    again, queried = reads(hidden_facts)
    assert again == first and queried == 0  # from the shared cache

    SensitiveField.objects.create(fact=NAME, hidden=True)  # committed (autocommit)
    assert NAME in hidden_facts()
    row = SensitiveField.objects.get(fact=NAME)
    row.hidden = False
    row.save()
    assert NAME not in hidden_facts()


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_never_kept():
    ensure_default_sensitive_fields()
    SensitiveField.objects.filter(fact=NAME).delete()
    assert NAME not in hidden_facts()
    with pytest.raises(RuntimeError), transaction.atomic():
        SensitiveField.objects.create(fact=NAME, hidden=True)
        # Inside the changing transaction its own reads see the change...
        assert NAME in hidden_facts()
        raise RuntimeError("roll back")
    # ...and after the rollback everyone reads what is committed, from the cache again.
    value, _queried = reads(hidden_facts)
    assert NAME not in value
    assert reads(hidden_facts) == (value, 0)


@pytest.mark.django_db(transaction=True)
def test_a_renamed_facility_is_named_anew_on_the_timeline():
    from cases.reference import cached

    facility = Facility.objects.create(
        name="Pabradė FRC", code="pab-x", kind="detention", capacity=10
    )

    def names():
        return cached("facility_names", lambda: dict(Facility.objects.values_list("pk", "name")))

    assert names()[facility.pk] == "Pabradė FRC"
    facility.name = "Foreigners' Registration Centre, Pabradė"
    facility.save()
    assert names()[facility.pk] == "Foreigners' Registration Centre, Pabradė"
