"""The case page's interviews (issue 17): the list of interviews to come and earlier ones,
and the forms to schedule, move, cancel, hold and miss them, offered only to those who may
work on the case and refused with a clear message on bad input."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Interview
from tests.api.conftest import Api, token_for
from tests.cases.test_views_procedures import action, at, page
from tests.conftest import submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date
FORMS = ("interview_schedule", "interview_reschedule", "interview_cancel", "interview")


def examined(alice) -> Application:
    case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def scheduled(case, alice) -> Interview:
    return workflow.schedule_interview(
        case,
        actor=alice,
        scheduled_at=dt.datetime(2024, 4, 10, 10, 0, tzinfo=VILNIUS),
        interviewer=alice,
        language="Russian",
        interpreter="Olga Petrova",
    )


def test_a_caseworker_schedules_an_interview_through_the_form(client, alice, dora):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        client.force_login(alice)
        assert action(case, "interview_schedule") in page(client, case)
        response = client.post(
            action(case, "interview_schedule"),
            {
                "on": "2024-04-10",
                "time": "10:00",
                "interviewer": str(dora.pk),
                "language": "Russian",
                "interpreter": "Olga Petrova",
            },
        )
        assert response.status_code == 302
        html = page(client, case)
    interview = case.interviews.get()
    assert interview.scheduled_at == dt.datetime(2024, 4, 10, 7, 0, tzinfo=dt.UTC)
    assert interview.interviewer == dora
    assert 'id="interviews-upcoming"' in html
    assert "2024-04-10 10:00" in html and "Olga Petrova" in html
    assert action(case, "interview_reschedule") in html
    assert action(case, "interview_cancel") in html


@pytest.mark.parametrize(
    "changes",
    [
        {"on": "2024-04-01"},
        {"on": "20240-04-10"},
        {"time": "25:99"},
        {"time": "10:00' OR 1=1"},
        {"interviewer": "999999"},
        {"interviewer": "x"},
        {"language": ""},
        {"language": "{{ 7*7 }}"},
        {"language": "\x00Russian"},
        {"interpreter": "x" * 201},
    ],
)
def test_a_bad_schedule_is_a_form_error_and_writes_nothing(client, alice, changes):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        client.force_login(alice)
        data = {
            "on": "2024-04-10",
            "time": "10:00",
            "interviewer": str(alice.pk),
            "language": "Russian",
            **changes,
        }
        response = client.post(action(case, "interview_schedule"), data)
    assert response.status_code == 400
    assert not Interview.objects.exists()
    assert not CaseEvent.objects.filter(action="interview_scheduled").exists()


def test_a_worker_of_another_unit_is_offered_nothing_and_refused(client, alice, oscar):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        client.force_login(oscar)
        for name in FORMS:
            assert client.get(action(case, name)).status_code == 404
        response = client.post(
            action(case, "interview_schedule"),
            {"on": "2024-04-10", "time": "10:00", "interviewer": str(oscar.pk), "language": "ru"},
        )
    assert response.status_code == 404
    assert not Interview.objects.exists()


def test_an_administrator_reads_the_interviews_but_gets_no_forms(client, alice, adam):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        scheduled(case, alice)
        client.force_login(adam)
        html = page(client, case)
    assert "Olga Petrova" in html
    for name in FORMS:
        assert action(case, name) not in html


def test_the_interview_is_held_with_its_record_and_missed_through_the_forms(client, alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        first = scheduled(case, alice)
        second = workflow.schedule_interview(
            case,
            actor=alice,
            scheduled_at=dt.datetime(2024, 4, 3, 9, 0, tzinfo=VILNIUS),
            interviewer=alice,
            language="Russian",
        )
    with at(2024, 4, 10, 15, 0):
        client.force_login(alice)
        missed = client.post(action(case, "interview_missed"), {"interview": str(second.pk)})
        assert missed.status_code == 302
        record = workflow.add_document(
            case,
            actor=alice,
            file=SimpleUploadedFile("r.txt", b"record of the interview\n"),
            original_name="r.txt",
            kind="interview_record",
            title="Record of 2024-04-10",
        )
        held = client.post(
            action(case, "interview"), {"interview": str(first.pk), "record": str(record.pk)}
        )
        assert held.status_code == 302
        html = page(client, case)
    first.refresh_from_db()
    second.refresh_from_db()
    case.refresh_from_db()
    assert (first.status, first.held_on, first.record) == ("held", D(2024, 4, 10), record)
    assert (second.status, second.missed_on) == ("missed", D(2024, 4, 3))
    assert case.interviewed_on == D(2024, 4, 10)
    assert case.interview_missed_on == D(2024, 4, 3)
    assert 'id="interviews-past"' in html and "Record of 2024-04-10" in html


def test_moving_and_cancelling_need_an_interview_of_the_case_and_a_reason(client, alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        other = examined(alice)
        interview = scheduled(case, alice)
        elsewhere = scheduled(other, alice)
        client.force_login(alice)
        for data in (
            {"interview": str(elsewhere.pk), "reason": "Ill"},
            {"interview": str(interview.pk), "reason": ""},
            {"interview": "1 OR 1=1", "reason": "Ill"},
        ):
            assert client.post(action(case, "interview_cancel"), data).status_code == 400
        moved = client.post(
            action(case, "interview_reschedule"),
            {"interview": str(interview.pk), "on": "2024-04-11", "time": "13:30", "reason": "Ill"},
        )
        assert moved.status_code == 302
        cancelled = client.post(
            action(case, "interview_cancel"), {"interview": str(interview.pk), "reason": "Left"}
        )
        assert cancelled.status_code == 302
    interview.refresh_from_db()
    elsewhere.refresh_from_db()
    assert interview.scheduled_at == dt.datetime(2024, 4, 11, 10, 30, tzinfo=dt.UTC)
    assert interview.status == "cancelled"
    assert elsewhere.status == "scheduled"


def test_the_api_case_shows_the_interviews_and_the_service(alice, dora):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = scheduled(case, alice)
    answer = Api(token_for(alice)).get(reverse("api:case", args=[case.pk])).json()
    assert answer["interviews"] == [
        {
            "id": interview.pk,
            "scheduled_at": "2024-04-10T07:00:00Z",
            "interviewer": alice.pk,
            "interviewer_name": "Alice",
            "interpreter": "Olga Petrova",
            "language": "Russian",
            "status": "scheduled",
            "status_label": "Scheduled",
            "held_on": None,
            "missed_on": None,
            "record": None,
        }
    ]
    assert (answer["service_method"], answer["service_language"]) == (None, "")


def test_the_admin_shows_the_case_s_interviews_read_only(client, alice, root):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        scheduled(case, alice)
    client.force_login(root)
    html = client.get(reverse("admin:cases_application_change", args=[case.pk])).content.decode()
    assert "2024-04-10 10:00 — Alice (Russian): Scheduled" in html
    assert 'name="interviews-TOTAL_FORMS"' not in html


def test_the_case_page_s_queries_do_not_grow_with_its_interviews(client, alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        scheduled(case, alice)
        client.force_login(alice)
        url = reverse("cases:detail", args=[case.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        for day in range(11, 16):
            workflow.schedule_interview(
                case,
                actor=alice,
                scheduled_at=dt.datetime(2024, 4, day, 10, 0, tzinfo=VILNIUS),
                interviewer=alice,
                language="Russian",
            )
        with CaptureQueriesContext(connection) as six:
            client.get(url)
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_interview_form_offers_the_cases_interview_records_latest_first(client, alice):
    """The record to attach is chosen among the case's documents of that type only, newest
    first; the case page takes them from the documents it lists (no query of its own)."""
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        for title, kind in (("Older record", "interview_record"), ("Passport", "other")):
            workflow.add_document(
                case,
                actor=alice,
                file=SimpleUploadedFile("r.txt", title.encode() + b"\n"),
                original_name="r.txt",
                kind=kind,
                title=title,
            )
    with at(2024, 4, 3, 9, 0):
        workflow.add_document(
            case,
            actor=alice,
            file=SimpleUploadedFile("r.txt", b"newer\n"),
            original_name="r.txt",
            kind="interview_record",
            title="Newer record",
        )
        client.force_login(alice)
        page(client, case)
        with CaptureQueriesContext(connection) as queries:
            html = page(client, case)
    select = html.split('name="record"', 1)[1].split("</select>", 1)[0]
    assert select.index("Newer record") < select.index("Older record")
    assert "Passport" not in select
    documents = [q for q in queries if 'FROM "cases_document"' in q["sql"]]
    assert len(documents) == 1, [q["sql"] for q in documents]
