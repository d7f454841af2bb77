"""Personal interviews (issue 17): scheduled with a time, interviewer, interpreter and
language; moved, cancelled, held with their record (the case's `interviewed_on` follows the
interview held) or missed (which opens the implicit-withdrawal path). Every date and time
expected here is written out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import workflow
from cases.models import Application, CaseEvent, Document, Interview
from cases.timeline import TimelineBuilder
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def examined(alice) -> Application:
    case = submit(alice, submitted_on=D(2024, 3, 4), lodged_on=D(2024, 3, 4))
    return workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")


def schedule(case, alice, when=None, **extra) -> Interview:
    values = {
        "scheduled_at": when or vilnius(2024, 4, 10, 10, 0),
        "interviewer": alice,
        "language": "Russian",
        "interpreter": "Olga Petrova",
        **extra,
    }
    return workflow.schedule_interview(case, actor=alice, **values)


def interview_record(case, alice, kind=Document.Kind.INTERVIEW_RECORD, content=b"") -> Document:
    return workflow.add_document(
        case,
        actor=alice,
        file=SimpleUploadedFile("record.pdf", PDF + content),
        original_name="record.pdf",
        kind=kind,
        title="Interview record 2024-04-10",
    )


def titles(case) -> list[str]:
    events = list(case.events.timeline().select_related("actor"))
    builder = TimelineBuilder(
        case,
        events,
        notes=[],
        documents=list(case.documents.all()),
        placements=[],
        document_url=lambda d: f"/doc/{d.pk}",
    )
    return [f"{row['title']} | {row['details']}" for row in builder.rows()]


def test_it_schedules_an_interview_with_its_interviewer_interpreter_and_language(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
    interview.refresh_from_db()
    assert interview.application == case
    assert interview.scheduled_at == dt.datetime(2024, 4, 10, 7, 0, tzinfo=dt.UTC)
    assert (interview.interviewer, interview.interpreter, interview.language) == (
        alice,
        "Olga Petrova",
        "Russian",
    )
    assert interview.status == Interview.Status.SCHEDULED
    event = case.events.get(action="interview_scheduled")
    assert event.data == {
        "interview": interview.pk,
        "scheduled_at": "2024-04-10T10:00:00+03:00",
        "interviewer": alice.pk,
    }
    assert "Personal interview scheduled for 2024-04-10 10:00 | Interviewer: Alice" in titles(case)
    # The event does not copy the interpreter or the language.
    assert "Olga" not in str(event.data) and "Russian" not in str(event.data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scheduled_at": vilnius(2024, 4, 2, 8, 59)}, "scheduled_at"),
        ({"scheduled_at": vilnius(2025, 4, 3, 10, 0)}, "scheduled_at"),
        ({"scheduled_at": dt.datetime(2024, 4, 10, 10, 0)}, "scheduled_at"),  # noqa: DTZ001
        ({"scheduled_at": "2024-04-10T10:00"}, "scheduled_at"),
        ({"language": ""}, "language"),
        ({"language": "12345"}, "language"),
        ({"language": "<script>alert(1)</script>"}, "language"),
        ({"language": "R" * 101}, "language"),
        ({"interpreter": "x" * 201}, "interpreter"),
        ({"interviewer": 10**6}, "interviewer"),
        ({"interviewer": "alice"}, "interviewer"),
        ({"interviewer": None}, "interviewer"),
    ],
)
def test_it_refuses_a_bad_schedule_and_writes_nothing(alice, changes, field):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        with pytest.raises(ValidationError) as error:
            schedule(case, alice, **changes)
    assert field in error.value.message_dict
    assert not Interview.objects.exists()
    assert not case.events.filter(action="interview_scheduled").exists()


def test_the_interviewer_is_an_active_worker_of_the_case_s_unit(alice, oscar, unit):
    gone = make_user("gone", "caseworker", unit, is_active=False)
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        for person in (oscar, gone, oscar.pk):
            with pytest.raises(ValidationError) as error:
                schedule(case, alice, interviewer=person)
            assert "interviewer" in error.value.message_dict
    assert not Interview.objects.exists()


def test_another_unit_may_not_schedule_and_a_decided_case_has_no_interview(
    alice, oscar, build_case
):
    decided = build_case("decided")
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        with pytest.raises(workflow.TransitionForbidden):
            workflow.schedule_interview(
                case,
                actor=oscar,
                scheduled_at=vilnius(2024, 4, 10, 10, 0),
                interviewer=alice,
                language="Russian",
            )
        with pytest.raises(workflow.TransitionForbidden):
            schedule(decided, alice)
    assert not Interview.objects.exists()


def test_an_interview_held_closes_it_with_its_record_and_sets_the_case_s_date(alice, dora):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
    with at(2024, 4, 10, 14, 0):
        record = interview_record(case, alice)
        workflow.record_interview(case, actor=alice, interview=interview.pk, record=record.pk)
        # The same again (a double-click) records nothing twice.
        workflow.record_interview(case, actor=alice, interview=interview.pk, record=record.pk)
    interview.refresh_from_db()
    case.refresh_from_db()
    assert interview.status == Interview.Status.HELD
    assert interview.held_on == D(2024, 4, 10)
    assert interview.record == record
    assert case.interviewed_on == D(2024, 4, 10)
    assert case.events.filter(action="interview_recorded").count() == 1
    assert "Personal interview recorded: held on 2024-04-10 | " in titles(case)
    # The decision is no longer blocked by a missing interview.
    assert workflow.blocked_reason(case, "decide", dora) is None


def test_an_interview_cannot_be_held_before_its_time_or_its_day(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
    with at(2024, 4, 10, 9, 30), pytest.raises(ValidationError) as early:
        workflow.record_interview(case, actor=alice, interview=interview.pk)
    assert "interview" in early.value.message_dict
    with at(2024, 4, 12, 9, 0):
        for day, field in ((D(2024, 4, 9), "interviewed_on"), (D(2024, 4, 13), "interviewed_on")):
            with pytest.raises(ValidationError) as error:
                workflow.record_interview(
                    case, actor=alice, interview=interview.pk, interviewed_on=day
                )
            assert field in error.value.message_dict
        with pytest.raises(ValidationError) as waived:
            workflow.record_interview(
                case, actor=alice, interview=interview.pk, waiver_reason="Ill"
            )
        assert "waiver_reason" in waived.value.message_dict
    interview.refresh_from_db()
    case.refresh_from_db()
    assert interview.status == Interview.Status.SCHEDULED
    assert case.interviewed_on is None


def test_the_record_is_an_interview_record_of_the_same_case(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        other = examined(alice)
        interview = schedule(case, alice)
    with at(2024, 4, 10, 14, 0):
        evidence = interview_record(case, alice, kind=Document.Kind.EVIDENCE, content=b"1")
        elsewhere = interview_record(other, alice, content=b"2")
        for bad in (evidence.pk, elsewhere.pk, 10**9, "1; DROP TABLE", -1):
            with pytest.raises(ValidationError) as error:
                workflow.record_interview(case, actor=alice, interview=interview.pk, record=bad)
            assert "record" in error.value.message_dict
        for bad in (10**9, "x", -5, True):
            with pytest.raises(ValidationError) as error:
                workflow.record_interview(case, actor=alice, interview=bad)
            assert "interview" in error.value.message_dict
    interview.refresh_from_db()
    assert interview.status == Interview.Status.SCHEDULED


def test_a_later_interview_held_moves_the_case_s_date_and_the_date_alone_is_refused(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        first = schedule(case, alice)
        second = schedule(case, alice, when=vilnius(2024, 4, 17, 9, 0))
    with at(2024, 4, 18, 9, 0):
        workflow.record_interview(case, actor=alice, interview=first.pk)
        workflow.record_interview(case, actor=alice, interview=second.pk)
        case.refresh_from_db()
        assert case.interviewed_on == D(2024, 4, 17)
        with pytest.raises(ValidationError) as error:
            workflow.record_interview(case, actor=alice, interviewed_on=D(2024, 4, 15))
        assert "interview" in error.value.message_dict
    case.refresh_from_db()
    assert case.interviewed_on == D(2024, 4, 17)


def test_an_interview_recorded_without_scheduling_still_works(alice):
    with at(2024, 4, 12, 9, 0):
        case = examined(alice)
        workflow.record_interview(case, actor=alice, interviewed_on=D(2024, 4, 10))
    case.refresh_from_db()
    assert case.interviewed_on == D(2024, 4, 10)
    assert not case.interviews.exists()


def test_a_missed_interview_closes_it_and_opens_the_implicit_withdrawal_path(alice, client):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
    with at(2024, 4, 10, 9, 30), pytest.raises(ValidationError):
        workflow.record_missed_interview(case, actor=alice, interview=interview.pk)
    with at(2024, 4, 11, 9, 0):
        workflow.record_missed_interview(case, actor=alice, interview=interview.pk)
        workflow.record_missed_interview(case, actor=alice, interview=interview.pk)
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        workflow.implicitly_withdraw(
            case, actor=alice, expected_status="examination", reason="Missed the interview"
        )
    interview.refresh_from_db()
    case.refresh_from_db()
    assert (interview.status, interview.missed_on) == (Interview.Status.MISSED, D(2024, 4, 10))
    assert case.interview_missed_on == D(2024, 4, 10)
    assert case.events.filter(action="interview_missed").count() == 1
    assert "may be treated as implicitly withdrawn" in page
    assert case.status == "withdrawn"
    assert case.withdrawal == Application.Withdrawal.IMPLICIT


def test_a_missed_interview_is_not_before_its_scheduled_day(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
    with at(2024, 4, 12, 9, 0), pytest.raises(ValidationError) as error:
        workflow.record_missed_interview(
            case, actor=alice, interview=interview.pk, missed_on=D(2024, 4, 9)
        )
    assert "missed_on" in error.value.message_dict
    interview.refresh_from_db()
    assert interview.status == Interview.Status.SCHEDULED


def test_an_interview_is_moved_with_a_reason_and_cancelled(alice, dora):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        interview = schedule(case, alice)
        with pytest.raises(ValidationError) as no_reason:
            workflow.reschedule_interview(
                case,
                actor=alice,
                interview=interview.pk,
                scheduled_at=vilnius(2024, 4, 12, 13, 30),
                reason=" ",
            )
        assert "reason" in no_reason.value.message_dict
        with pytest.raises(ValidationError) as past:
            workflow.reschedule_interview(
                case,
                actor=alice,
                interview=interview.pk,
                scheduled_at=vilnius(2024, 4, 1, 13, 30),
                reason="Interpreter ill",
            )
        assert "scheduled_at" in past.value.message_dict
        workflow.reschedule_interview(
            case,
            actor=alice,
            interview=interview.pk,
            scheduled_at=vilnius(2024, 4, 12, 13, 30),
            interviewer=dora,
            reason="Interpreter ill",
        )
        interview.refresh_from_db()
        assert interview.scheduled_at == vilnius(2024, 4, 12, 13, 30)
        assert (interview.interviewer, interview.language) == (dora, "Russian")
        assert interview.interpreter == "Olga Petrova"
        workflow.cancel_interview(case, actor=alice, interview=interview.pk, reason="Withdrawn")
        workflow.cancel_interview(case, actor=alice, interview=interview.pk, reason="Withdrawn")
        with pytest.raises(ValidationError):
            workflow.reschedule_interview(
                case,
                actor=alice,
                interview=interview.pk,
                scheduled_at=vilnius(2024, 4, 20, 9, 0),
                reason="Again",
            )
    with at(2024, 4, 13, 9, 0), pytest.raises(ValidationError):
        workflow.record_interview(case, actor=alice, interview=interview.pk)
    interview.refresh_from_db()
    assert interview.status == Interview.Status.CANCELLED
    shown = titles(case)
    assert (
        "Personal interview moved from 2024-04-10 10:00 to 2024-04-12 13:30 | Interviewer: Dora"
        in shown
    )
    assert "Personal interview of 2024-04-12 13:30 cancelled | " in shown
    assert case.events.filter(action="interview_cancelled").count() == 1
    assert case.events.get(action="interview_rescheduled").reason == "Interpreter ill"


def test_an_interview_of_another_case_cannot_be_touched(alice):
    with at(2024, 4, 2, 9, 0):
        case = examined(alice)
        other = examined(alice)
        interview = schedule(other, alice)
        with pytest.raises(ValidationError) as error:
            workflow.cancel_interview(case, actor=alice, interview=interview.pk, reason="x")
    assert "interview" in error.value.message_dict
    interview.refresh_from_db()
    assert interview.status == Interview.Status.SCHEDULED
    assert not CaseEvent.objects.filter(action="interview_cancelled").exists()
