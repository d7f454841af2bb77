"""Read-mostly values in the shared cache (`cases.reference`: the rules' and facilities'
names the timeline shows): read once, replaced by a committed change at once (a save or a
bulk update), never holding what a transaction changed and then rolled back. Which facts are
hidden is never cached: a bulk change hides a fact on the next read."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Facility, SensitiveField, hidden_facts
from cases.reference import facility_names
from cases.sensitive import ensure_default_sensitive_fields


def names() -> dict[int, str]:
    return facility_names()


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


@pytest.mark.django_db(transaction=True)
def test_the_case_lists_facility_filter_offers_every_facility_by_its_current_name(client, alice):
    """The list's "Placed at" choices come from the shared cache (no query, no server-side
    cursor), and a new or renamed facility is offered on the next page."""
    from django.urls import reverse

    client.force_login(alice)
    url = reverse("cases:list")
    client.get(url)  # the choices are read once and kept
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert not [q for q in queries if "cases_facility" in q["sql"]]
    facility = Facility.objects.create(
        name="Naujininkai", code="naujx", kind="reception", capacity=9
    )
    page = client.get(url).content.decode()
    assert f'<option value="{facility.pk}">Naujininkai</option>' in page
    facility.name = "Naujininkų centras"
    facility.save()
    page = client.get(url).content.decode()
    assert f'<option value="{facility.pk}">Naujininkų centras</option>' in page
    assert "Naujininkai<" not in page
    refused = client.get(url, {"facility": "999999999"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
