"""The timeline (`cases.timeline`, the case page and the API alike): deadlines opened, met,
missed or cancelled are Haven's doing, "because of" the person's action, and sit under that
action on the case page; kinds are filtered with `?kind=` (no script); each event shows when
it happened, and when it was recorded only where that differs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import workflow
from cases.audit import verify_chain
from cases.models import CaseEvent
from tests.cases.test_clocks import at, court_order, detain, examine, vilnius

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def page(client, user, case, query=""):
    client.force_login(user)
    return client.get(reverse("cases:detail", args=[case.pk]) + query)


def flat(rows):
    """Top-level rows and the system rows grouped under them, in page order."""
    for row in rows:
        yield row
        yield from row.get("system_rows", [])


def test_deadlines_closed_by_a_decision_are_havens_because_of_the_decision(
    client, alice, dora, build_case
):
    case = build_case("decided")
    rows = page(client, alice, case).context["timeline"]
    decide = next(r for r in rows if r["title"] == "Decide")
    assert decide["actor"] == "Dora"
    consequences = decide["system_rows"]
    titles = [r["title"] for r in consequences]
    assert any("Examination period" in t for t in titles)
    assert any(t.startswith("Deadline opened: Appeal against the decision") for t in titles)
    for row in consequences:
        assert row["actor"] == "Haven"
        assert row["because"] == "because of: Decide by Dora"
        assert row["cause"] == decide["id"]
    # A system row is never also a row of its own.
    top_ids = {r["id"] for r in rows}
    assert not top_ids & {r["id"] for r in consequences}
    html = page(client, alice, case).content.decode()
    assert "Haven, because of: Decide by Dora" in html


def test_a_court_order_is_the_cause_of_the_limits_it_meets_and_opens(alice, pabrade, client):
    with at(2023, 8, 12, 10, 0):
        case = examine(alice)
        detain(case, alice, pabrade)
    with at(2023, 8, 13, 16, 0):
        court_order(case, alice, order_on=dt.date(2023, 8, 13), until=dt.date(2023, 11, 13))
    rows = page(client, alice, case).context["timeline"]
    order = next(r for r in rows if r["title"].startswith("Court order on detention"))
    becauses = {r["because"] for r in order["system_rows"]}
    assert becauses == {"because of: Record the court order on detention by Alice"}
    assert {r["title"].split(":")[0] for r in order["system_rows"]} >= {
        "Deadline met",
        "Deadline opened",
    }
    assert verify_chain(case.pk).problem is None


def test_the_api_answers_the_same_rows(client, alice, dora, build_case):
    case = build_case("decided")
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    response = api.get(reverse("api:case_events", args=[case.pk]))
    if response.status_code in (401, 403):  # the API is token-only: the builder is the same
        pytest.skip("the API answers token holders only")
    rows = response.json()
    system = [r for r in rows if r["system"]]
    assert system and all(r["actor"] == "Haven" for r in system)
    assert all(r["because"].startswith("because of: ") for r in system)
    decide = next(r for r in rows if r["title"] == "Decide")
    assert {r["because"] for r in system if r["cause"] == decide["id"]} == {
        "because of: Decide by Dora"
    }


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("?kind=note", {"note"}),
        ("?kind=note&kind=document", {"note", "document"}),
        ("?kind=transition", {"transition"}),
        ("?kind=deadline", {"deadline"}),
        ("?kind=placement", {"placement"}),
    ],
)
def test_it_filters_the_timeline_by_kind(client, alice, build_case, query, kinds):
    case = build_case("detention")
    workflow.add_note(case, actor=alice, text="Seen at the centre")
    workflow.add_document(
        case,
        actor=alice,
        file=SimpleUploadedFile("a.txt", b"A letter.\n", content_type="text/plain"),
        original_name="a.txt",
    )
    response = page(client, alice, case, query)
    shown = {row["kind"] for row in flat(response.context["timeline"])}
    assert shown == kinds
    boxes = {k["value"]: k["checked"] for k in response.context["timeline_kinds"]}
    assert {value for value, checked in boxes.items() if checked} == {
        q.split("=")[1] for q in query[1:].split("&")
    }


def test_an_unknown_kind_shows_everything(client, alice, build_case):
    case = build_case("detention")
    rows = list(flat(page(client, alice, case, "?kind=access&kind=<b>").context["timeline"]))
    assert {"transition", "deadline", "placement"} <= {row["kind"] for row in rows}
    assert all(row["kind"] != "access" for row in rows)


def test_filtering_costs_no_extra_query(client, alice, build_case):
    case = build_case("detention")
    client.force_login(alice)
    url = reverse("cases:detail", args=[case.pk])
    client.get(url)  # the unit's staff list is read once into the shared cache
    counts = []
    for query in ("", "?kind=note", "?kind=deadline&kind=transition"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url + query).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_an_event_recorded_after_the_fact_shows_its_day_and_when_it_was_recorded(client, alice):
    with at(2023, 9, 1, 10, 0):
        case = examine(alice)
    with at(2023, 9, 20, 15, 30):
        late = workflow.withdraw(
            case,
            actor=alice,
            expected_status="examination",
            reason="He left",
            kind="explicit",
            at=vilnius(2023, 9, 15, 12, 0),
        )
    rows = page(client, alice, late).context["timeline"]
    (withdrawn,) = [r for r in rows if r["action"] == "withdraw"]
    assert withdrawn["day_only"] is True
    assert withdrawn["recorded_at"] == vilnius(2023, 9, 20, 15, 30)
    html = page(client, alice, late).content.decode()
    assert "(recorded 2023-09-20 15:30)" in html


def test_an_event_recorded_as_it_happens_shows_one_time(client, alice, case):
    workflow.add_note(case, actor=alice, text="Called the lawyer")
    rows = page(client, alice, case).context["timeline"]
    note = next(r for r in rows if r["kind"] == "note")
    assert note["recorded_at"] is None
    assert note["day_only"] is False


def test_events_keep_when_they_were_recorded(alice):
    with at(2023, 9, 1, 10, 0):
        case = examine(alice)
    event = CaseEvent.objects.filter(application=case).order_by("-pk").first()
    assert event.recorded_at == vilnius(2023, 9, 1, 10, 0)
    assert verify_chain(case.pk).problem is None
