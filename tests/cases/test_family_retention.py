"""Retention of family links: anonymising an applicant deletes their links (from either
side), so that no table still joins the pseudonym to a named relative, and the relative's
live case keeps its own data and timeline."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from cases import workflow
from cases.models import CaseEvent, FamilyLink
from tests.cases.test_retention import (
    CUTOFF,
    KOROLEV_TRACES,
    PAST,
    anonymise,
    ended_case,
    traces,
)
from tests.conftest import submit

pytestmark = pytest.mark.django_db


def test_anonymising_an_applicant_deletes_their_family_links(alice, dora, pabrade, media, client):
    with time_machine.travel(PAST, tick=False):
        wife = submit(alice, family_name="Sokolova", given_names="Irina", name_original="")
    korolev = ended_case(alice, dora, pabrade, when=PAST)
    with time_machine.travel(PAST, tick=False):
        row = workflow.link_family(
            wife, actor=alice, relative_reference=korolev.reference, relation="spouse"
        )
    assert traces(KOROLEV_TRACES)

    out = anonymise("--closed-before", CUTOFF)

    assert "1 family link" in out
    assert traces(KOROLEV_TRACES) == []
    assert not FamilyLink.objects.exists()
    # The wife's case keeps its own record of the link having been made (id and relation).
    event = CaseEvent.objects.get(application=wife, action="family_linked")
    assert event.data == {"link": row.pk, "relation": "spouse"}
    client.force_login(alice)
    html = client.get(reverse("cases:detail", args=[wife.pk])).content.decode()
    assert "Irina SOKOLOVA" in html
    assert korolev.reference not in html


def test_an_applicant_kept_for_another_case_keeps_their_links(alice, dora, pabrade, media):
    korolev = ended_case(alice, dora, pabrade, when=PAST)
    with time_machine.travel(PAST, tick=False):
        wife = submit(alice, family_name="Sokolova", given_names="Irina", name_original="")
        later = workflow.intake(
            actor=alice,
            applicant=korolev.applicant,
            procedure="subsequent",
            previous_application=korolev,
            submitted_on=PAST.date(),
        )
        workflow.link_family(
            later, actor=alice, relative_reference=wife.reference, relation="spouse"
        )
    anonymise("--closed-before", CUTOFF)
    assert FamilyLink.objects.count() == 1
