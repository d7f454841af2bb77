"""Intake offers to link the new applicant to a family member's case: a right reference
links both cases; a wrong or unreadable one is an error beside the field and nothing is
written (no case, no applicant, no link, no reference number used)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Applicant, Application, CaseEvent, FamilyLink, ReferenceCounter
from tests.cases.test_views_intake import form_data
from tests.conftest import submit

pytestmark = pytest.mark.django_db

INTAKE = reverse("cases:intake")


def test_the_form_offers_the_family_link(client, alice):
    client.force_login(alice)
    html = client.get(INTAKE).content.decode()
    assert 'name="relative_reference"' in html
    for value in ("spouse", "child", "parent", "sibling"):
        assert f'value="{value}"' in html


def test_intake_links_the_new_applicant_to_the_relatives_case(client, alice):
    mother = submit(alice, family_name="Ivanova", given_names="Maria", name_original="")
    client.force_login(alice)
    response = client.post(
        INTAKE, form_data(relative_reference=mother.reference, relation="parent")
    )
    assert response.status_code == 302
    case = Application.objects.get(applicant__family_name="Sokolov")
    row = FamilyLink.objects.get()
    assert row.seen_from(case.applicant_id) == (mother.applicant_id, "parent")
    assert row.seen_from(mother.applicant_id) == (case.applicant_id, "child")
    for side, relation in ((case, "parent"), (mother, "child")):
        event = CaseEvent.objects.get(application=side, action="family_linked")
        assert event.data["relation"] == relation
    assert "Maria IVANOVA" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"relative_reference": "LT-2099-000001", "relation": "spouse"},
            "relative_reference",
            "No case with this reference that you may read",
        ),
        ({"relative_reference": "{far}", "relation": "spouse"}, "relative_reference", "No case"),
        ({"relative_reference": "{far}", "relation": ""}, "relation", "Give both"),
        ({"relative_reference": "", "relation": "child"}, "relative_reference", "Give both"),
        ({"relative_reference": "{far}", "relation": "uncle"}, "relation", "valid choice"),
    ],
)
def test_a_wrong_family_link_is_a_form_error_and_writes_nothing(
    client, alice, oscar, extra, field, message
):
    far = submit(oscar, family_name="Orlov", given_names="Pyotr", name_original="")
    extra = {k: v.replace("{far}", far.reference) for k, v in extra.items()}
    counter = ReferenceCounter.objects.get(year=2023).last
    client.force_login(alice)
    response = client.post(INTAKE, form_data(**extra))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "field--error" in html
    assert f'name="{field}"' in html
    assert not Applicant.objects.filter(family_name="Sokolov").exists()
    assert not FamilyLink.objects.exists()
    assert ReferenceCounter.objects.filter(year=2024).first() is None
    assert ReferenceCounter.objects.get(year=2023).last == counter
