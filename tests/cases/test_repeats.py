"""Idempotent repeats: recording what the case already says (a double-click, a form sent
twice) changes nothing and writes no second event; a different fact is still recorded."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import workflow
from cases.models import CaseEvent, Document, Note, Notification
from tests.conftest import decide, stored_files

from .test_uploads import TINY_PDF


def events(case, action: str) -> int:
    return CaseEvent.objects.filter(application=case, action=action).count()


def test_assigning_the_same_person_twice_writes_one_event_and_one_notification(
    case, alice, dora, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.assign(case, actor=dora, assignee=alice)

    assert events(case, "assigned") == 1
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_assigning_someone_else_is_still_recorded(case, alice, dora):
    workflow.assign(case, actor=dora, assignee=alice)
    workflow.assign(case, actor=dora, assignee=dora)

    case.refresh_from_db()
    assert case.assigned_to == dora
    assert events(case, "assigned") == 2


def test_the_same_interview_recorded_twice_is_one_event(case, alice):
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 2))

    assert events(case, "interview_recorded") == 2


def test_the_same_court_order_recorded_twice_is_one_event(build_case, alice):
    case = build_case("detention")
    order = {
        "court": "Vilnius Regional Administrative Court",
        "case_number": "eI-1234-2023",
        "order_on": dt.date.today(),
        "until": dt.date.today() + dt.timedelta(days=90),
    }
    workflow.record_court_order(case, actor=alice, **order)
    deadlines_after_first = case.deadlines.count()
    workflow.record_court_order(case, actor=alice, **order)

    assert events(case, "court_order") == 1
    assert case.deadlines.count() == deadlines_after_first


def test_service_recorded_twice_on_the_same_day_is_one_event_but_another_day_is_refused(
    build_case, alice, dora
):
    case = build_case("examination")
    case = decide(case, alice, dora, decided_on=dt.date(2024, 1, 10))
    workflow.record_service(case, actor=alice, served_on=dt.date(2024, 1, 12))
    workflow.record_service(case, actor=alice, served_on=dt.date(2024, 1, 12))

    assert events(case, "served") == 1
    with pytest.raises(workflow.TransitionForbidden):
        workflow.record_service(case, actor=alice, served_on=dt.date(2024, 1, 13))


def test_the_same_judgment_recorded_twice_is_one_event(build_case, alice):
    case = build_case("appealed")
    workflow.record_judgment(case, actor=alice, judgment_on=dt.date(2024, 6, 1), outcome="upheld")
    workflow.record_judgment(case, actor=alice, judgment_on=dt.date(2024, 6, 1), outcome="upheld")

    assert events(case, "judgment") == 1


def test_a_note_sent_twice_is_kept_once(case, alice):
    first = workflow.add_note(case, actor=alice, text="Called the lawyer.")
    second = workflow.add_note(case, actor=alice, text="Called the lawyer.")

    assert first.pk == second.pk
    assert Note.objects.filter(application=case).count() == 1
    assert events(case, "note_added") == 1


def test_the_same_note_written_again_later_or_by_someone_else_is_kept(case, alice, dora):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        workflow.add_note(case, actor=alice, text="Called the lawyer.")
        workflow.add_note(case, actor=dora, text="Called the lawyer.")
    with time_machine.travel(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC), tick=False):
        workflow.add_note(case, actor=alice, text="Called the lawyer.")

    assert Note.objects.filter(application=case).count() == 3
    assert events(case, "note_added") == 3


def test_a_document_uploaded_twice_at_once_is_kept_once(case, alice, media):
    def upload():
        return workflow.add_document(
            case,
            actor=alice,
            file=SimpleUploadedFile("order.pdf", TINY_PDF),
            original_name="order.pdf",
        )

    first, second = upload(), upload()

    assert first.pk == second.pk
    assert Document.objects.filter(application=case).count() == 1
    assert events(case, "document_added") == 1
    assert len(stored_files(media)) == 1


def test_the_same_file_from_someone_else_is_refused_as_already_on_the_case(
    case, alice, dora, media
):
    workflow.add_document(
        case, actor=alice, file=SimpleUploadedFile("a.pdf", TINY_PDF), original_name="a.pdf"
    )
    with pytest.raises(ValidationError, match="already on the case"):
        workflow.add_document(
            case, actor=dora, file=SimpleUploadedFile("a.pdf", TINY_PDF), original_name="a.pdf"
        )
    assert len(stored_files(media)) == 1


def test_a_double_click_on_add_note_answers_both_requests_and_keeps_one_note(client, case, alice):
    client.force_login(alice)
    url = f"/cases/{case.pk}/notes/"

    responses = [client.post(url, {"text": "Lawyer informed."}) for _ in range(2)]

    assert [r.status_code for r in responses] == [302, 302]
    assert Note.objects.filter(application=case).count() == 1
    assert events(case, "note_added") == 1
