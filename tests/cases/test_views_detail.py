"""The case page: what it shows, who may see it, and what it costs in queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import workflow
from cases.labels import person
from cases.models import CaseEvent, Document, Note
from tests.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def detail_url(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def get_page(client, user, case):
    client.force_login(user)
    return client.get(detail_url(case))


def test_it_requires_sign_in(client, case):
    response = client.get(detail_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_shows_the_case_to_a_caseworker_of_its_unit(client, alice, build_case):
    case = build_case("detention")
    response = get_page(client, alice, case)
    assert response.status_code == 200
    html = response.content.decode()
    assert case.reference in html
    assert "Иван Королёв" in html
    assert "Russia" in html  # the country's name, not its code
    assert "Foreigners&#x27;" in html or "Foreigners'" in html
    assert "Pabradė" in html
    assert "Law on the Legal Status of Aliens Art. 113" in html
    assert "In detention" in html  # the status label
    assert ">detention<" not in html  # never the raw code as text


def test_it_answers_404_for_a_case_of_another_unit(client, oscar, case):
    assert get_page(client, oscar, case).status_code == 404


def test_it_answers_404_for_a_missing_case(client, alice):
    client.force_login(alice)
    assert client.get(reverse("cases:detail", args=[999999])).status_code == 404


def test_it_lets_an_administrator_read_but_offers_no_step(client, adam, case):
    response = get_page(client, adam, case)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Only a caseworker or decision-maker" in html
    assert reverse("cases:transition", args=[case.pk, "start_examination"]) not in html
    assert reverse("cases:add_note", args=[case.pk]) not in html


def test_it_records_each_view_on_the_access_log(client, alice, case):
    before = CaseEvent.objects.filter(application=case, kind="access").count()
    get_page(client, alice, case)
    views = CaseEvent.objects.filter(application=case, kind="access")
    assert views.count() == before + 1
    assert views.order_by("-pk").first().actor == alice


def test_it_keeps_views_off_the_timeline(client, alice, case):
    get_page(client, alice, case)
    response = client.get(detail_url(case))
    timeline = response.context["timeline"]
    assert all(row["kind"] != "access" for row in timeline)
    assert timeline[-1]["title"] == "Application registered"


def test_it_shows_the_timeline_newest_first(client, alice, build_case):
    case = build_case("detention")
    rows = get_page(client, alice, case).context["timeline"]
    moments = [row["at"] for row in rows]
    assert moments == sorted(moments, reverse=True)
    titles = [row["title"] for row in rows]
    assert any(t.startswith("Placed at Foreigners") for t in titles)
    assert "Detain" in titles


def test_it_shows_the_current_note_text_not_a_copy(client, alice, case):
    note = workflow.add_note(case, actor=alice, text="First version")
    Note.objects.filter(pk=note.pk).update(text="Corrected text")
    rows = get_page(client, alice, case).context["timeline"]
    note_rows = [row for row in rows if row["kind"] == "note"]
    assert note_rows[0]["text"] == "Corrected text"


def test_it_shows_the_access_log_to_a_decision_maker_only(client, alice, dora, case):
    response = get_page(client, alice, case)
    assert response.context["access_log"] is None
    assert "Access log" not in response.content.decode()
    response = get_page(client, dora, case)
    log = response.context["access_log"]
    assert log and log[0]["actor"]
    assert "Access log" in response.content.decode()


def test_it_shows_blocked_steps_with_their_reason(client, alice, build_case):
    case = build_case("examination")
    response = get_page(client, alice, case)
    steps = {t["name"]: t for t in response.context["transitions"]}
    assert steps["detain"]["allowed"]
    assert not steps["decide"]["allowed"]
    assert steps["decide"]["blocked_reason"] == "Only a decision-maker may do this."
    assert "Only a decision-maker may do this." in response.content.decode()


def test_it_shows_deadlines_with_legal_source_and_days(client, alice, case):
    response = get_page(client, alice, case)
    deadlines = response.context["open_deadlines"]
    assert deadlines
    for row in deadlines:
        assert row["legal_source"]
        assert row["days_text"]
    # The sample dates are in 2023: the examination limit is long past.
    assert any(row["overdue"] and "overdue" in row["days_text"] for row in deadlines)


def test_it_shows_grounds_with_their_labels(client, alice):
    case = submit(alice, grounds=["political_opinion", "military_service"])
    html = get_page(client, alice, case).content.decode()
    assert "Political opinion" in html
    assert "political_opinion" not in html


# -- notes ------------------------------------------------------------------------------


def test_it_adds_a_note_and_redirects(client, alice, case):
    client.force_login(alice)
    response = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "Called lawyer"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(case) + "#notes"
    assert Note.objects.get(application=case).text == "Called lawyer"
    page = client.get(detail_url(case))
    assert "The note is added." in page.content.decode()
    assert "Called lawyer" in page.content.decode()


def test_it_refuses_an_empty_note_beside_the_field(client, alice, case):
    client.force_login(alice)
    response = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors["text"]
    assert not Note.objects.exists()


def test_it_refuses_a_note_on_another_units_case(client, oscar, case):
    client.force_login(oscar)
    response = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "x"})
    assert response.status_code == 404
    assert not Note.objects.exists()


def test_it_refuses_a_note_from_an_administrator(client, adam, case):
    client.force_login(adam)
    response = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "x"})
    assert response.status_code == 403
    assert not Note.objects.exists()


def test_it_refuses_a_get_to_add_a_note(client, alice, case):
    client.force_login(alice)
    assert client.get(reverse("cases:add_note", args=[case.pk])).status_code == 405


# -- documents --------------------------------------------------------------------------


def upload(name="letter.txt", content=b"A plain letter.\n", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_it_uploads_a_document_and_serves_it_as_an_attachment(client, alice, dora, case):
    client.force_login(alice)
    response = client.post(
        reverse("cases:add_document", args=[case.pk]),
        {"file": upload(), "description": "Letter"},
    )
    assert response.status_code == 302
    document = Document.objects.get(application=case)
    url = reverse("cases:document", args=[case.pk, document.pk])
    assert url in client.get(detail_url(case)).content.decode()
    assert "/documents-are-served" not in client.get(detail_url(case)).content.decode()

    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == document.content_type
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"A plain letter.\n"
    logged = CaseEvent.objects.filter(application=case, kind="access", action="document")
    assert logged.get().data["document"] == document.pk


def test_it_refuses_a_download_to_another_unit(client, alice, oscar, case):
    document = workflow.add_document(case, actor=alice, file=upload(), original_name="letter.txt")
    client.force_login(oscar)
    response = client.get(reverse("cases:document", args=[case.pk, document.pk]))
    assert response.status_code == 404


def test_it_refuses_a_document_of_another_case_through_this_case(client, alice, case):
    other = submit(alice, family_name="Other")
    document = workflow.add_document(other, actor=alice, file=upload(), original_name="letter.txt")
    client.force_login(alice)
    response = client.get(reverse("cases:document", args=[case.pk, document.pk]))
    assert response.status_code == 404


def test_it_refuses_an_html_upload_beside_the_field(client, alice, case):
    client.force_login(alice)
    response = client.post(
        reverse("cases:add_document", args=[case.pk]),
        {"file": upload("x.txt", b"<script>alert(1)</script>", "text/html")},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert not Document.objects.exists()


def test_it_refuses_an_upload_without_a_file(client, alice, case):
    client.force_login(alice)
    response = client.post(reverse("cases:add_document", args=[case.pk]), {"description": "x"})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


# -- assignment -------------------------------------------------------------------------


def test_a_decision_maker_assigns_the_case(client, alice, dora, case):
    client.force_login(dora)
    response = client.post(reverse("cases:assign", args=[case.pk]), {"assignee": alice.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == alice


def test_nobody_unassigns_but_saying_nothing_changes_nothing(client, alice, dora, case):
    workflow.assign(case, actor=dora, assignee=alice)
    client.force_login(dora)
    url = reverse("cases:assign", args=[case.pk])
    response = client.post(url, {})  # no field at all: not what the form sends
    assert response.status_code == 400
    assert "Choose whom to assign the case to" in response.content.decode()
    case.refresh_from_db()
    assert case.assigned_to == alice
    assert client.post(url, {"assignee": ""}).status_code == 302  # the "Nobody" option
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_caseworker_may_not_assign_to_others(client, alice, dora, case):
    # Taking an unassigned case oneself is allowed: tests/cases/test_views_assign_to_me.py.
    client.force_login(alice)
    response = client.post(reverse("cases:assign", args=[case.pk]), {"assignee": dora.pk})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assigned_to is None


def test_it_refuses_an_assignee_of_another_unit(client, dora, oscar, case):
    client.force_login(dora)
    response = client.post(reverse("cases:assign", args=[case.pk]), {"assignee": oscar.pk})
    assert response.status_code == 400
    assert response.context["form"].errors["assignee"]
    case.refresh_from_db()
    assert case.assigned_to is None


# -- query counts -----------------------------------------------------------------------


def _users_read(queries) -> list[set[int]]:
    """The ids each query of accounts' users by id list (the timeline's `in_bulk`) asked for."""
    asked = []
    for query in queries:
        found = re.search(r'"accounts_user"\."id" IN \(([\d, ]+)\)', query["sql"])
        if found:
            asked.append({int(pk) for pk in found.group(1).split(",")})
    return asked


def test_the_timeline_reads_its_people_in_one_query_without_joining_every_account(
    client, alice, dora, case
):
    """The events' and the notes' statements join no account (the events' hashed the whole
    user table on each view); their actors and authors and the people the events name are
    read in one query, which leaves out the case's assignee, read with the case."""
    workflow.assign(case, actor=dora, assignee=alice)  # by dora; names alice, the assignee
    workflow.add_note(case, actor=dora, text="Seen the file")
    client.force_login(dora)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(detail_url(case)).content.decode()
    assert f"Assigned to {person(alice)}" in html
    assert f'<span class="timeline__by">{person(dora)}' in html
    assert '<p class="note__meta">' in html and f" · {dora.get_full_name()}</p>" in html
    for marker in ("timeline_total", "notes_total"):
        statements = [q["sql"] for q in ctx.captured_queries if marker in q["sql"]]
        assert len(statements) == 1
        assert '"accounts_user"' not in statements[0]
    read = _users_read(ctx.captured_queries)
    assert len(read) == 1
    assert dora.pk in read[0]
    assert alice.pk not in read[0]


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_case_page_costs_the_same_queries_however_long_its_history(
    client, alice, dora, build_case, django_assert_num_queries
):
    case = build_case("detention")
    workflow.add_note(case, actor=alice, text="one")
    workflow.add_document(case, actor=alice, file=upload(), original_name="a.txt")
    client.force_login(dora)
    client.get(detail_url(case))  # the unit's staff list is read once into the shared cache
    baseline = count_queries(client, detail_url(case))

    for i in range(15):
        workflow.add_note(case, actor=alice, text=f"note {i}")
        workflow.add_document(
            case, actor=alice, file=upload(content=f"doc {i}\n".encode()), original_name="b.txt"
        )
    workflow.record_court_order(
        case,
        actor=alice,
        court="Utena District Court",
        case_number="e-1",
        order_on=timezone.localdate(),
        until=timezone.localdate() + dt.timedelta(days=60),
    )
    for _ in range(5):
        client.get(detail_url(case))  # more access-log rows
    with django_assert_num_queries(baseline):
        response = client.get(detail_url(case))
    # Deadlines Haven opened or met are grouped under the action that caused them.
    rows = response.context["timeline"]
    assert len(rows) + sum(len(row["system_rows"]) for row in rows) > 40


def test_the_notes_panel_lists_the_latest_notes_and_offers_them_all(client, alice, case):
    from cases.views.detail import NOTES_SHOWN

    for i in range(NOTES_SHOWN + 5):
        workflow.add_note(case, actor=alice, text=f"Note number {i:02d}")
    client.force_login(alice)
    response = client.get(detail_url(case))
    shown = [n.text for n in response.context["notes"]]
    assert shown == [f"Note number {i:02d}" for i in reversed(range(5, NOTES_SHOWN + 5))]
    page = response.content.decode()
    assert f"The {NOTES_SHOWN} most recent notes of {NOTES_SHOWN + 5} are shown." in page
    assert "?notes=all#notes" in page

    everything = client.get(detail_url(case), {"notes": "all"})
    assert len(everything.context["notes"]) == NOTES_SHOWN + 5
    assert "most recent notes of" not in everything.content.decode()
    # The timeline's note events still show their own notes, listed in the panel or not.
    timeline = client.get(detail_url(case), {"kind": "note", "all": "1"}).context["timeline"]
    texts = {row["text"] for row in timeline}
    assert {f"Note number {i:02d}" for i in range(NOTES_SHOWN + 5)} <= texts


def test_the_notes_hint_is_in_lithuanian_too(client, alice, case):
    from cases.views.detail import NOTES_SHOWN

    for i in range(NOTES_SHOWN + 1):
        workflow.add_note(case, actor=alice, text=f"Pastaba {i}")
    client.force_login(alice)
    page = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="lt").content.decode()
    assert f"Rodoma {NOTES_SHOWN} naujausių pastabų iš {NOTES_SHOWN + 1}." in page
    assert "Rodyti visas pastabas" in page
