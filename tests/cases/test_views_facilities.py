"""Facilities: capacity, occupancy by regime, and who is placed there (only visible cases)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import access, workflow
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

FACILITIES = reverse("cases:facilities")


def detain(case, actor, facility, ref="X"):
    return workflow.detain(
        case,
        actor=actor,
        expected_status=case.status,
        reason="Risk of absconding",
        facility=facility,
        legal_basis="Art. 113",
        order_reference=ref,
    )


def row_for(response, facility):
    return next(r for r in response.context["rows"] if r["facility"].pk == facility.pk)


def test_it_shows_capacity_occupancy_and_people(client, alice, pabrade, rukla):
    case = submit(alice, family_name="Korolev")
    detain(case, alice, pabrade)
    client.force_login(alice)
    response = client.get(FACILITIES)
    assert response.status_code == 200
    row = row_for(response, pabrade)
    assert (row["taken"], row["free"], row["full"]) == (1, 2, False)
    assert {r["label"]: r["count"] for r in row["by_regime"]}["Detention"] == 1
    assert [p["reference"] for p in row["people"]] == [case.reference]
    html = response.content.decode()
    assert "Reception centre, Rukla" in html
    assert "KOROLEV" in html


def test_it_counts_but_does_not_name_people_of_other_units(client, alice, oscar, pabrade):
    theirs = submit(oscar, family_name="Hidden")
    detain(theirs, oscar, pabrade)
    client.force_login(alice)
    response = client.get(FACILITIES)
    row = row_for(response, pabrade)
    assert row["taken"] == 1
    assert row["people"] == []
    assert row["not_shown"] == 1
    html = response.content.decode()
    assert "HIDDEN" not in html and theirs.reference not in html


def test_it_marks_a_full_facility(client, alice, pabrade):
    for name in ("A", "B", "C"):
        detain(submit(alice, family_name=name), alice, pabrade, ref=name)
    client.force_login(alice)
    row = row_for(client.get(FACILITIES), pabrade)
    assert row["full"] and row["free"] == 0


def test_a_user_without_role_sees_an_explanation(client, db):
    client.force_login(make_user("nobody", None, None))
    response = client.get(FACILITIES)
    assert response.status_code == 200
    assert "Ask an administrator" in response.content.decode()


def test_a_case_moved_to_another_unit_takes_its_people_along(
    client, alice, oscar, unit, other_unit, pabrade
):
    # The page finds a unit's people through the placement's copy of the case's unit.
    case = submit(alice, family_name="Korolev")
    detain(case, alice, pabrade)
    type(case).objects.filter(pk=case.pk).update(unit=other_unit)  # a data fix by an admin

    client.force_login(oscar)
    theirs = row_for(client.get(FACILITIES), pabrade)
    assert [p["reference"] for p in theirs["people"]] == [case.reference]
    client.force_login(alice)
    ours = row_for(client.get(FACILITIES), pabrade)
    assert ours["people"] == [] and ours["not_shown"] == 1


def test_an_administrator_sees_everyones_people_and_a_user_without_a_role_nobodys(
    client, alice, oscar, adam, pabrade
):
    mine = detain(submit(alice, family_name="Korolev"), alice, pabrade)
    theirs = detain(submit(oscar, family_name="Petrov"), oscar, pabrade, ref="Y")
    client.force_login(adam)
    row = row_for(client.get(FACILITIES), pabrade)
    assert sorted(p["reference"] for p in row["people"]) == sorted(
        [mine.reference, theirs.reference]
    )
    nobody = make_user("nobody", None, None)
    assert not access.visible_current_placements(nobody).exists()
