"""Stored counts (`cases.models.Occupancy`, `cases.models.StatusCount`): what the triggers
keep must always equal a count of the rows, whichever way a row changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from cases import workflow
from cases.models import (
    Application,
    Deadline,
    Occupancy,
    Placement,
    cases_by_status,
    occupancy_by_regime,
)
from loadgen.loader import generate
from tests.conftest import submit

pytestmark = pytest.mark.django_db

LEGAL = {"legal_basis": "Law on the Legal Status of Aliens Art. 113", "order_reference": "O-1"}


def counted() -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for facility, regime, n in (
        Placement.objects.current()
        .order_by()
        .values_list("facility_id", "regime")
        .annotate(n=Count("*"))
    ):
        counts.setdefault(facility, {})[regime] = n
    return counts


def detain(case, actor, facility):
    return workflow.detain(
        case, actor=actor, expected_status=case.status, reason="Risk of absconding",
        facility=facility, **LEGAL,
    )  # fmt: skip


def test_counts_follow_detention_release_and_decision(alice, dora, pabrade, rukla):
    pabrade.capacity = 10
    pabrade.save()
    cases = [submit(alice, family_name=f"Petrov{n}") for n in range(4)]
    for case in cases[:3]:
        detain(case, alice, pabrade)
    assert occupancy_by_regime() == counted() == {pabrade.pk: {"detention": 3}}
    assert pabrade.occupancy() == 3

    workflow.release(cases[0], actor=alice, expected_status="detention", reason="Court order")
    workflow.record_interview(cases[1], actor=alice, interviewed_on=dt.date(2024, 1, 5))
    workflow.decide(
        cases[1], actor=dora, expected_status="detention", reason="Well-founded fear",
        outcome="refugee_status", decided_on=dt.date(2024, 1, 10),
        served_on=dt.date(2024, 1, 12),
    )  # fmt: skip
    assert occupancy_by_regime() == counted() == {pabrade.pk: {"detention": 1}}

    # Changes outside the workflow (a correction, a moved person, a deleted row) count too.
    current = Placement.objects.current().get()
    Placement.objects.filter(pk=current.pk).update(facility=rukla, regime="accommodation")
    assert occupancy_by_regime() == counted() == {rukla.pk: {"accommodation": 1}}
    Placement.objects.filter(pk=current.pk).update(end_reason="A text change moves nothing")
    assert occupancy_by_regime() == counted()
    Deadline.objects.filter(placement=current).delete()
    Placement.objects.filter(pk=current.pk).delete()
    assert occupancy_by_regime() == counted() == {}
    assert set(Occupancy.objects.values_list("people", flat=True)) <= {0}


def test_a_rolled_back_placement_leaves_the_count_alone(alice, pabrade):
    pabrade.capacity = 1
    pabrade.save()
    detain(submit(alice), alice, pabrade)
    second = submit(alice, family_name="Petrov")
    with pytest.raises(Exception, match="full"):
        detain(second, alice, pabrade)
    assert occupancy_by_regime() == counted() == {pabrade.pk: {"detention": 1}}


def test_the_facilities_page_shows_the_stored_counts(client, alice, pabrade):
    pabrade.capacity = 5
    pabrade.save()
    for n in range(2):
        detain(submit(alice, family_name=f"Petrov{n}"), alice, pabrade)
    client.force_login(alice)
    page = " ".join(client.get(reverse("cases:facilities")).content.decode().split())
    assert "<strong>5</strong> places" in page
    assert "<strong>2</strong> taken" in page
    assert "<strong>3</strong> free" in page
    assert '<td>Detention</td><td class="num">2</td>' in page


def by_status(unit_id=None) -> dict[str, int]:
    rows = Application.objects.all()
    if unit_id is not None:
        rows = rows.filter(unit_id=unit_id)
    return dict(rows.order_by().values_list("status").annotate(n=Count("*")))


def test_status_counts_follow_every_transition_per_unit(
    alice, dora, oscar, unit, other_unit, build_case
):
    for status in ("submitted", "examination", "detention", "decided", "closed", "withdrawn"):
        build_case(status)
    submit(oscar)
    assert cases_by_status(unit.pk) == by_status(unit.pk)
    assert cases_by_status(unit.pk) == {
        "submitted": 1, "examination": 1, "detention": 1, "decided": 1, "closed": 1,
        "withdrawn": 1,
    }  # fmt: skip
    assert cases_by_status(other_unit.pk) == by_status(other_unit.pk) == {"submitted": 1}
    assert cases_by_status(None) == by_status() == {**cases_by_status(unit.pk), "submitted": 2}

    # A case moved to another unit (a correction) moves its count.
    moved = Application.objects.filter(unit=unit, status="examination").get()
    Application.objects.filter(pk=moved.pk).update(unit=other_unit)
    assert cases_by_status(unit.pk) == by_status(unit.pk)
    assert cases_by_status(other_unit.pk) == by_status(other_unit.pk)
    assert "examination" not in cases_by_status(unit.pk)


def test_the_dashboard_shows_the_stored_status_counts(client, alice, build_case):
    for status in ("submitted", "submitted", "examination"):
        build_case(status)
    client.force_login(alice)
    summary = {
        row["status"]: row["count"]
        for row in client.get(reverse("cases:dashboard")).context["by_status"]
    }
    assert summary["submitted"] == 2
    assert summary["examination"] == 1
    assert summary["closed"] == 0


def test_generated_cases_inside_a_transaction_are_counted_by_the_triggers(db):
    generate(300, seed=3)
    assert counted()  # the generator places people
    assert occupancy_by_regime() == counted()
    assert cases_by_status(None) == by_status()


@pytest.mark.django_db(transaction=True)
def test_a_standalone_load_with_the_triggers_off_is_recounted():
    call_command("generate_cases", count=300, seed=3, verbosity=0)
    assert counted()
    assert occupancy_by_regime() == counted()
    assert cases_by_status(None) == by_status()
    # and the triggers count again after the load
    case = Application.objects.filter(status="submitted").first()
    Application.objects.filter(pk=case.pk).update(status="withdrawn")
    assert cases_by_status(None) == by_status()


# ---- the case's copy of the applicant's nationality ----------------------------------------


def nationalities(applicant_id: int) -> set[str]:
    return set(
        Application.objects.filter(applicant_id=applicant_id).values_list("nationality", flat=True)
    )


def test_a_case_carries_its_applicants_nationality_and_follows_a_correction(alice):
    first = submit(alice, nationality="RU")
    second = workflow.submit_application(
        actor=alice, applicant=first.applicant, submitted_on=dt.date(2024, 3, 1)
    )
    assert nationalities(first.applicant_id) == {"RU"}

    applicant = first.applicant
    applicant.nationality = "BY"  # a correction, as the admin saves it
    applicant.save()
    assert nationalities(first.applicant_id) == {"BY"}
    assert second.pk in set(
        Application.objects.filter(nationality="BY").values_list("pk", flat=True)
    )

    applicant.nationality = ""  # stateless or unknown
    applicant.save()
    assert nationalities(first.applicant_id) == {""}


def test_the_copy_cannot_be_written_apart_from_the_applicant(alice):
    case = submit(alice, nationality="RU")
    Application.objects.filter(pk=case.pk).update(nationality="AF")
    assert nationalities(case.applicant_id) == {"RU"}


def test_the_list_filters_by_the_corrected_nationality(client, alice):
    case = submit(alice, nationality="RU")
    client.force_login(alice)
    url = reverse("cases:list")
    assert case.reference in client.get(url, {"nationality": "RU"}).content.decode()
    case.applicant.nationality = "UA"
    case.applicant.save()
    assert case.reference not in client.get(url, {"nationality": "RU"}).content.decode()
    assert case.reference in client.get(url, {"nationality": "UA"}).content.decode()
