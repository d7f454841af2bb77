"""The case page's detention records (issue 17): court orders and their history, reviews,
the appeal against detention, alternatives to detention, and the unaccompanied minor whom
only a decision-maker detains, each through its form to its workflow verb."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import forms, workflow
from cases.models import Application, Facility, Placement
from tests.api.conftest import Api, token_for
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def action(case: Application, name: str) -> str:
    return reverse("cases:action", args=[case.pk, name])


def page(client, case: Application) -> str:
    return client.get(reverse("cases:detail", args=[case.pk])).content.decode()


@pytest.fixture
def rukla(db) -> Facility:
    return Facility.objects.create(
        name="Reception centre, Rukla", code="rukla", kind=Facility.Kind.RECEPTION, capacity=5
    )


def detained(alice, pabrade) -> Application:
    case = submit(alice)
    case = workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    return workflow.detain(
        case,
        actor=alice,
        expected_status="examination",
        reason="Risk of absconding",
        facility=pabrade,
        legal_basis="Law on the Legal Status of Aliens Art. 113",
        order_reference="SBGS-1",
    )


def test_a_detained_case_offers_orders_reviews_appeal_and_alternative(client, alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        client.force_login(alice)
        html = page(client, case)
    for name in ("court_order", "detention_review", "detention_appeal", "alternative"):
        assert action(case, name) in html
    for name in ("detention_appeal_result", "end_alternative"):
        assert action(case, name) not in html


def test_the_page_lists_the_orders_and_their_extension(client, alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        client.force_login(alice)
        response = client.post(
            action(case, "court_order"),
            {
                "court": "Utena District Court",
                "case_number": "e2-1/2023",
                "order_on": "2023-08-11",
                "order_time": "14:20",
                "until": "2023-10-11",
            },
        )
        assert response.status_code == 302
    with at(2023, 10, 10, 9, 0):
        client.force_login(alice)  # a new day's session
        client.post(
            action(case, "court_order"),
            {
                "court": "Utena District Court",
                "case_number": "e2-8/2023",
                "order_on": "2023-10-10",
                "until": "2023-12-10",
            },
        )
        html = page(client, case)
    assert 'id="detention-history"' in html
    assert "2023-08-11 14:20" in html
    assert "Extension" in html and "First order" in html
    assert "Detention extended by the court: order of 2023-10-10, until 2023-12-10" in html


def test_a_review_that_ends_detention_needs_a_reason_on_the_form(client, alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
    with at(2023, 9, 1, 10, 0):
        client.force_login(alice)
        data = {"reviewed_on": "2023-09-01", "reviewed_by": "Utena District Court"}
        response = client.post(action(case, "detention_review"), {**data, "result": "ended"})
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.status == "detention"
        response = client.post(
            action(case, "detention_review"),
            {**data, "result": "ended", "reason": "Grounds no longer met"},
        )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "examination"


def test_an_alternative_through_the_form_releases_onto_it(client, alice, pabrade, rukla):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
    with at(2023, 8, 20, 10, 0):
        client.force_login(alice)
        response = client.post(
            action(case, "alternative"),
            {
                "expected_status": "detention",
                "measure": "designated_residence",
                "facility": rukla.pk,
                "legal_basis": "Law on the Legal Status of Aliens Art. 115",
                "reason": "Residence at Rukla is enough",
            },
        )
        assert response.status_code == 302
        html = page(client, case)
    case.refresh_from_db()
    assert case.status == "examination"
    assert case.open_alternative().alternative == "designated_residence"
    assert "Residence in a designated place" in html
    assert action(case, "end_alternative") in html


def test_the_alternative_form_shows_the_places_free_now_and_is_rendered_once_for_them(
    client, alice, pabrade, rukla
):
    """The case page keeps the alternative's empty form while the facilities read the same,
    and shows a place taken at once."""
    with at(2023, 8, 11, 15, 0):
        first, second = detained(alice, pabrade), detained(alice, pabrade)
    client.force_login(alice)
    rendered = mock.patch.object(
        forms.AlternativeForm, "render", autospec=True, side_effect=forms.AlternativeForm.render
    )
    with at(2023, 8, 20, 10, 0), rendered as render:
        before = page(client, first)
        again = page(client, second)
        # The whole form (its labels are rendered through the same method, with a template).
        whole = [call for call in render.call_args_list if len(call.args) == 1]
        assert len(whole) <= 1  # none when another test left the same form in the process
        assert "Reception centre, Rukla — 5 of 5 places free" in before
        assert "Reception centre, Rukla — 5 of 5 places free" in again
        workflow.apply_alternative(
            second,
            actor=alice,
            expected_status="detention",
            measure="designated_residence",
            facility=rukla,
            legal_basis="Art. 115",
            reason="Residence at Rukla",
        )
        after = page(client, first)
    assert "Reception centre, Rukla — 4 of 5 places free" in after
    assert "5 of 5 places free" not in after


def test_a_stale_alternative_form_is_refused(client, alice, pabrade, rukla):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        client.force_login(alice)
        response = client.post(
            action(case, "alternative"),
            {
                "expected_status": "examination",
                "measure": "reporting_duty",
                "facility": rukla.pk,
                "legal_basis": "Art. 115",
                "reason": "x",
            },
        )
    assert response.status_code == 409
    assert not Placement.objects.filter(application=case, regime="restricted").exists()


def test_an_outsider_cannot_record_on_detention(client, alice, oscar, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        client.force_login(oscar)
        response = client.post(
            action(case, "detention_appeal"),
            {"lodged_on": "2023-08-11", "court": "Regional Administrative Court"},
        )
    assert response.status_code == 404


def test_hostile_input_answers_with_form_errors(client, alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        client.force_login(alice)
        for data in (
            {"lodged_on": "2023-08-12", "court": "Court"},  # future
            {"lodged_on": "2023-13-01", "court": "Court"},
            {"lodged_on": "2023-08-11", "court": "<script>marker</script>" * 20},
            {"lodged_on": "2023-08-11\x00", "court": "Court"},
        ):
            response = client.post(action(case, "detention_appeal"), data)
            assert response.status_code == 400, data
        response = client.post(
            action(case, "court_order"),
            {"court": "C", "case_number": "1", "order_on": "2023-08-11", "order_time": "25:99"},
        )
        assert response.status_code == 400
    assert b"<script>marker" not in response.content


def test_a_caseworker_is_refused_and_a_decision_maker_detains_a_minor(client, alice, dora, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = submit(alice)
        workflow.record_vulnerability_assessment(
            case,
            actor=alice,
            assessed_on=D(2023, 8, 11),
            categories=["unaccompanied_minor"],
            assessor="Dr Jonaitė",
        )
        url = reverse("cases:transition", args=[case.pk, "detain"])
        data = {
            "expected_status": "submitted",
            "facility": pabrade.pk,
            "legal_basis": "Art. 113",
            "order_reference": "SBGS-2",
            "reason": "Absconding",
            "last_resort_reason": "Ran away twice; no other measure holds",
        }
        client.force_login(alice)
        response = client.post(url, data)
        assert response.status_code == 403
        assert "only a decision-maker may detain them" in response.content.decode()
        client.force_login(dora)
        assert 'name="last_resort_reason"' in client.get(url).content.decode()
        response = client.post(url, data)
        assert response.status_code == 302
        html = page(client, case)
    assert 'id="last-resort"' in html
    assert "Ran away twice; no other measure holds" in html


def test_the_api_case_carries_the_detention_records(alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        workflow.record_court_order(
            case,
            actor=alice,
            court="Utena District Court",
            case_number="e2-1/2023",
            order_on=D(2023, 8, 11),
            until=D(2023, 10, 11),
            order_time=dt.time(13, 5),
        )
        workflow.lodge_detention_appeal(
            case, actor=alice, lodged_on=D(2023, 8, 11), court="Regional Administrative Court"
        )
        body = Api(token_for(alice)).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["placement"]["regime"] == "detention"
    assert [(o["case_number"], o["until"], o["ordered_at"]) for o in body["detention_orders"]] == [
        ("e2-1/2023", "2023-10-11", "2023-08-11T10:05:00Z")
    ]
    assert body["detention_appeals"][0]["result"] == ""
    assert body["detention_reviews"] == []


def test_the_admin_case_page_lists_the_detention_in_court(client, root, alice, pabrade):
    with at(2023, 8, 11, 15, 0):
        case = detained(alice, pabrade)
        workflow.record_court_order(
            case,
            actor=alice,
            court="Utena District Court",
            case_number="e2-1/2023",
            order_on=D(2023, 8, 11),
            until=D(2023, 10, 11),
            order_time=dt.time(13, 5),
        )
        client.force_login(root)
        html = client.get(reverse("admin:cases_application_change", args=[case.pk])).content
    assert "First order: Utena District Court, e2-1/2023: 2023-08-11 13:05 – 2023-10-11" in (
        html.decode()
    )


def test_only_a_case_ever_detained_reads_its_detention_records(client, alice, pabrade):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    never = submit(alice, family_name="Free")
    with CaptureQueriesContext(connection) as queries:
        page(client, never)
    assert not [q for q in queries if "cases_detention" in q["sql"]]
    case = detained(alice, pabrade)
    with CaptureQueriesContext(connection) as queries:
        assert "Pabrad" in page(client, case)
    assert len([q for q in queries if "cases_detention" in q["sql"]]) == 3
