"""The person behind the case in the API's case detail (issue 17): the vulnerability and age
assessments, the minor's representative and the legal representative, read-only, under the
case page's sensitive-field rules: the vulnerability categories (special-category data) are
hidden by default and the API never reveals them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import workflow
from cases.models import CaseEvent, SensitiveField
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
ADAPT = (
    "Special procedural guarantees: adapt the interview and weigh the needs found in any "
    "decision on detention."
)


@pytest.fixture
def assessed(alice):
    with time_machine.travel(dt.datetime(2023, 9, 4, 10, 0, tzinfo=VILNIUS), tick=False):
        case = submit(alice)
        workflow.record_vulnerability_assessment(
            case,
            actor=alice,
            assessed_on=dt.date(2023, 9, 1),
            categories=["serious_violence", "unaccompanied_minor"],
            assessor="Dr. R. Jonaitė",
        )
        workflow.record_age_assessment(
            case,
            actor=alice,
            method="medical",
            assessed_on=dt.date(2023, 9, 2),
            result="undetermined",
            benefit_of_doubt=True,
            unaccompanied=True,
        )
        workflow.appoint_representative(
            case,
            actor=alice,
            name="Ona Petraitienė",
            organisation="Red Cross",
            appointed_on=dt.date(2023, 9, 4),
            appointed_by="Švenčionys municipality",
        )
        workflow.record_legal_representative(
            case, actor=alice, name="Jonas Jonaitis", organisation="Legal aid", contact="+370 600"
        )
    return case


def test_a_new_case_has_no_person_records(alice, case, api_as):
    person = api_as(alice).get(reverse("api:case", args=[case.pk])).json()["person"]
    assert person == {
        "vulnerability": None,
        "age_assessment": None,
        "representative": None,
        "legal_representative": None,
        "unaccompanied_minor": False,
        "needs_representative": False,
        "special_guarantees": [],
    }


def test_the_case_detail_carries_the_person_with_the_categories_hidden(alice, assessed, api_as):
    response = api_as(alice).get(reverse("api:case", args=[assessed.pk]))
    person = response.json()["person"]
    assert person["vulnerability"] == {
        "assessed_on": "2023-09-01",
        "assessor": "Dr. R. Jonaitė",
        "categories": [],
        "category_labels": [],
        "categories_hidden": True,
    }
    assert person["age_assessment"] == {
        "assessed_on": "2023-09-02",
        "assessed_by": "Alice",
        "method": "medical",
        "method_label": "Medical examination",
        "result": "undetermined",
        "result_label": "Age could not be determined",
        "benefit_of_doubt": True,
        "unaccompanied": True,
    }
    assert person["representative"] == {
        "name": "Ona Petraitienė",
        "organisation": "Red Cross",
        "appointed_on": "2023-09-04",
        "appointed_by": "Švenčionys municipality",
    }
    assert person["legal_representative"] == {
        "name": "Jonas Jonaitis",
        "organisation": "Legal aid",
        "contact": "+370 600",
    }
    assert person["unaccompanied_minor"] is True
    assert person["needs_representative"] is False
    assert "No border procedure for an unaccompanied minor." in person["special_guarantees"]
    assert ADAPT in person["special_guarantees"]
    body = response.content.decode()
    assert "serious_violence" not in body and "torture" not in body
    # Nothing was revealed, so no reveal is on record.
    assert not assessed.events.filter(kind=CaseEvent.Kind.ACCESS, action="reveal").exists()


def test_the_categories_show_when_administrators_stop_hiding_them(alice, assessed, api_as):
    SensitiveField.objects.filter(fact="application.vulnerabilities").update(hidden=False)
    vulnerability = (
        api_as(alice).get(reverse("api:case", args=[assessed.pk])).json()["person"]["vulnerability"]
    )
    assert vulnerability["categories"] == ["serious_violence", "unaccompanied_minor"]
    assert vulnerability["category_labels"] == [
        "Victim of torture, rape or other serious violence",
        "Unaccompanied minor",
    ]
    assert vulnerability["categories_hidden"] is False


def test_an_outsider_gets_nothing(oscar, assessed, api_as):
    response = api_as(oscar).get(reverse("api:case", args=[assessed.pk]))
    assert response.status_code == 404
    assert "Petraitien" not in response.content.decode()


def test_the_schema_describes_the_person(alice, api_as):
    schema = api_as(alice).get(reverse("api:schema"), {"format": "json"}).json()
    detail = schema["components"]["schemas"]["CaseDetail"]["properties"]
    assert {"person", "family"} <= set(detail)
    person = schema["components"]["schemas"]["Person"]["properties"]
    assert set(person) == {
        "vulnerability",
        "age_assessment",
        "representative",
        "legal_representative",
        "unaccompanied_minor",
        "needs_representative",
        "special_guarantees",
    }
    assert "FamilyLink" in schema["components"]["schemas"]


def test_the_case_page_hides_the_categories_until_revealed(client, alice, assessed):
    client.force_login(alice)
    url = reverse("cases:detail", args=[assessed.pk])
    page = client.get(url).content.decode()
    assert "Victim of torture" not in page
    # Correcting the assessment needs the categories shown (a blank form would erase them).
    assert 'id="vulnerability-heading"' not in page
    client.post(reverse("cases:reveal", args=[assessed.pk]))
    page = client.get(url).content.decode()
    assert "Victim of torture, rape or other serious violence" in page
    assert 'id="vulnerability-heading"' in page
    reveal = assessed.events.get(kind=CaseEvent.Kind.ACCESS, action="reveal")
    assert "application.vulnerabilities" in reveal.data["facts"]
