"""Release asks for the date and where the person goes: open accommodation at a reception
facility (a placement of regime accommodation), or no placement. Through `workflow.release`
and its form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import workflow
from cases.models import CaseEvent, Facility, Placement
from tests.cases.test_clocks import at, detain, examine, vilnius

pytestmark = pytest.mark.django_db


@pytest.fixture
def detained(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = examine(alice)
        return detain(case, alice, pabrade)


def release(case, actor, **kwargs):
    return workflow.release(
        case, actor=actor, expected_status="detention", reason="Court refused", **kwargs
    )


def test_it_releases_on_the_given_day_to_a_reception_centre(alice, detained, rukla):
    with at(2023, 9, 20, 15, 0):
        case = release(detained, alice, released_on=dt.date(2023, 9, 18), facility=rukla)
    assert case.status == "examination"
    detention = case.placements.get(regime=Placement.Regime.DETENTION)
    assert detention.ends_at == vilnius(2023, 9, 18, 12, 0)
    accommodation = case.placements.get(ends_at__isnull=True)
    assert accommodation.facility == rukla
    assert accommodation.regime == Placement.Regime.ACCOMMODATION
    assert accommodation.starts_at == detention.ends_at
    placed = CaseEvent.objects.filter(application=case, kind="placement", action="placed")
    assert placed.order_by("-pk").first().data["placement"] == accommodation.pk


def test_it_releases_with_no_placement(alice, detained):
    case = release(detained, alice)
    assert not case.placements.filter(ends_at__isnull=True).exists()


def test_it_refuses_a_detention_facility_and_a_full_one(alice, detained, pabrade, rukla):
    with pytest.raises(ValidationError) as refused:
        release(detained, alice, facility=pabrade)
    assert "facility" in refused.value.message_dict
    full = Facility.objects.create(
        name="Small centre", code="small", kind=Facility.Kind.RECEPTION, capacity=0
    )
    with pytest.raises(ValidationError) as refused:
        release(detained, alice, facility=full)
    assert "full" in refused.value.message_dict["facility"][0]
    detained.refresh_from_db()
    assert detained.status == "detention"


def test_it_refuses_a_release_before_the_detention_or_in_the_future(alice, detained):
    with pytest.raises(ValidationError) as refused:
        release(detained, alice, released_on=dt.date(2023, 8, 1))
    assert "released_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        release(detained, alice, released_on=timezone.localdate() + dt.timedelta(days=1))
    assert "released_on" in refused.value.message_dict
    detained.refresh_from_db()
    assert detained.status == "detention"


def test_the_release_form_asks_for_the_date_and_the_destination(client, alice, detained, rukla):
    client.force_login(alice)
    url = reverse("cases:transition", args=[detained.pk, "release"])
    form = client.get(url).context["form"]
    assert list(form.fields)[:3] == ["released_on", "facility", "reason"]
    assert form["released_on"].value() == timezone.localdate()
    choices = [label for value, label in form.fields["facility"].choices]
    assert choices[0] == "No placement: the person leaves the facility"
    assert "Reception centre, Rukla — 50 of 50 places free" in choices

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        url,
        {
            "expected_status": "detention",
            "released_on": yesterday.isoformat(),
            "facility": rukla.pk,
            "reason": "Court refused the extension",
        },
    )
    assert response.status_code == 302
    current = detained.placements.get(ends_at__isnull=True)
    assert (current.facility, current.regime) == (rukla, "accommodation")
