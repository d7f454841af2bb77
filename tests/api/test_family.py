"""The API's case detail lists the applicant's family links, read-only: the relation from
this side and the relative's case reference only when the token's user may read it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import workflow
from tests.conftest import submit

pytestmark = pytest.mark.django_db


def test_the_case_detail_lists_family_links_with_readable_references_only(
    alice, oscar, root, api_as
):
    ivan = submit(alice, family_name="Korolev", given_names="Ivan")
    anna = submit(alice, family_name="Koroleva", given_names="Anna", name_original="")
    far = submit(oscar, family_name="Orlov", given_names="Pyotr", name_original="")
    workflow.link_family(ivan, actor=alice, relative_reference=anna.reference, relation="child")
    workflow.link_family(ivan, actor=root, relative_reference=far.reference, relation="sibling")

    data = api_as(alice).get(reverse("api:case", args=[ivan.pk])).json()
    family = [(f["relation"], f["relation_label"], f["reference"]) for f in data["family"]]
    assert family == [("child", "Child", anna.reference), ("sibling", "Sibling", None)]
    assert "Orlov" not in str(data) and far.reference not in str(data)

    data = api_as(oscar).get(reverse("api:case", args=[far.pk])).json()
    assert [(f["relation"], f["reference"]) for f in data["family"]] == [("sibling", None)]
    assert ivan.reference not in str(data)


def test_the_intake_links_through_the_api_and_refuses_an_unreadable_reference(alice, oscar, api_as):
    mother = submit(alice, family_name="Ivanova", given_names="Maria", name_original="")
    far = submit(oscar, family_name="Orlov", given_names="Pyotr", name_original="")
    body = {
        "family_name": "Sokolov",
        "sex": "male",
        "procedure": "regular",
        "submitted_on": "2024-02-01",
        "submission_authority": "migration_department",
    }
    client = api_as(alice)
    refused = client.post(
        reverse("api:cases"), {**body, "relative_reference": far.reference, "relation": "parent"}
    )
    assert refused.status_code == 400
    assert "relative_reference" in refused.json()["errors"]
    made = client.post(
        reverse("api:cases"), {**body, "relative_reference": mother.reference, "relation": "parent"}
    )
    assert made.status_code == 201
    assert made.json()["family"][0]["reference"] == mother.reference
    assert made.json()["family"][0]["relation"] == "parent"
