"""The legal representative (issue 17): recorded and changed through
`workflow.record_legal_representative`, shown on the case page, and blanked with the minor's
representative and the age assessment when retention anonymises the case."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from cases import workflow
from cases.audit import REDACTED_TEXT
from cases.models import CaseEvent
from cases.retention import APPLICATION_TEXT
from tests.cases.test_retention import traces
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date
VILNIUS = ZoneInfo("Europe/Vilnius")


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def record(case, actor, **overrides):
    values = {
        "name": "Advokatė Eglė Kazlauskienė",
        "organisation": "Lithuanian Red Cross",
        "contact": "+370 600 00000",
    }
    return workflow.record_legal_representative(case, actor=actor, **{**values, **overrides})


def test_it_records_and_changes_the_legal_representative_without_copying_names(alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        record(case, alice)
        record(case, alice)  # the same again: nothing new
        record(case, alice, name="Tomas Tomaitis", contact="")
    case.refresh_from_db()
    assert (case.legal_representative_name, case.legal_representative_contact) == (
        "Tomas Tomaitis",
        "",
    )
    events = CaseEvent.objects.filter(application=case, action="legal_representative_recorded")
    assert [e.data for e in events.order_by("pk")] == [{"changed": False}, {"changed": True}]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"contact": "x" * 301}, "contact")],
)
def test_it_refuses_bad_input_and_saves_nothing(alice, overrides, field):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(ValidationError) as refused:
            record(case, alice, **overrides)
    assert field in refused.value.message_dict
    case.refresh_from_db()
    assert case.legal_representative_name == ""


def test_it_refuses_an_outsider(alice, oscar):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        with pytest.raises(workflow.TransitionForbidden):
            record(case, oscar)


def test_the_case_page_records_and_shows_it(client, alice):
    with at(2023, 9, 1, 10, 0):
        case = submit(alice)
        client.force_login(alice)
        url = reverse("cases:action", args=[case.pk, "legal_representative"])
        response = client.post(
            url, {"name": "Eglė K.", "organisation": "Red Cross", "contact": "e@example.lt"}
        )
        assert response.status_code == 302
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        empty = client.post(url, {"name": "", "organisation": "", "contact": ""})
    assert "Eglė K. (Red Cross), e@example.lt" in page
    assert "Legal representative recorded" in page
    assert empty.status_code == 400


def test_retention_blanks_every_new_personal_field(alice):
    assert {
        "age_assessment_method",
        "age_assessment_result",
        "representative_name",
        "representative_organisation",
        "representative_appointed_by",
        "legal_representative_name",
        "legal_representative_organisation",
        "legal_representative_contact",
    } <= set(APPLICATION_TEXT)
    markers = ("zq-guardian", "zq-guardorg", "zq-authority", "zq-lawyer", "zq-laworg", "zq-phone")
    with at(2024, 6, 3, 10, 0):
        case = submit(alice, submitted_on=D(2024, 6, 1))
        workflow.record_age_assessment(
            case,
            actor=alice,
            method="medical",
            assessed_on=D(2024, 6, 3),
            result="minor",
            unaccompanied=True,
        )
        workflow.appoint_representative(
            case,
            actor=alice,
            name="zq-guardian",
            organisation="zq-guardorg",
            appointed_on=D(2024, 6, 3),
            appointed_by="zq-authority",
        )
        record(case, alice, name="zq-lawyer", organisation="zq-laworg", contact="zq-phone")
        workflow.withdraw(
            case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
        )
    assert len(traces(markers)) >= len(markers)

    call_command("anonymise", "--closed-before", "2025-01-01", stdout=io.StringIO())

    assert traces(markers) == []
    case.refresh_from_db()
    assert (case.age_assessment_result, case.age_assessment_method) == (REDACTED_TEXT,) * 2
    assert case.representative_name == case.legal_representative_contact == REDACTED_TEXT
    # The statistics stay: when the representative was appointed.
    assert case.representative_appointed_on == D(2024, 6, 3)
