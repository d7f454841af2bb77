"""Verbs of the personal interview: scheduling, rescheduling and cancelling an interview,
recording it held (with its record, a document of the case) or missed.

An `Interview` row is one appointment: its time, the interviewer (a caseworker or
decision-maker of the case's unit, so that reminders and "my interviews" can find it), the
interpreter and the language. The case keeps one summary of it, `interviewed_on`, which the
decide guard reads: it is set from the interview held (the latest one, when a further
interview was held), so that the case and its interviews never disagree. A missed interview
sets `interview_missed_on`, which opens the path to an implicit withdrawal
(`cases.workflow.withdrawal`).

The events point at the interview by id and copy its time and the interviewer's id, never
the interpreter's name or the language (personal data that retention redacts on the row).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..conflicts import retried
from ..models import Application, Document, Interview, Status
from ..validators import clean_language
from . import (
    ALREADY_SO,
    TransitionForbidden,
    _check_assignee,
    _not_in_future,
    _record_action,
    _require_reason,
)

NAME_LIMIT = 200
# How far ahead an interview may be scheduled: a later time is a slip of the keyboard.
SCHEDULE_HORIZON = dt.timedelta(days=366)
UNDECIDED = (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION)


def _check_undecided(case: Application) -> None:
    if case.status not in UNDECIDED:
        raise TransitionForbidden(_("Only a case not yet decided has a personal interview."))


def _check_interviewer(errors: dict[str, str], case: Application, value) -> User | None:
    """The interviewer named by `value` (a user or their id): an active caseworker or
    decision-maker of the case's unit, else an error on the field."""
    person = value if isinstance(value, User) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        person = User.objects.filter(pk=value).first()
    try:
        _check_assignee(case, person or value or "", "interviewer")
    except ValidationError as error:
        errors["interviewer"] = error.messages[0]
        return None
    return person


def _check_time(errors: dict[str, str], scheduled_at) -> None:
    """A time to come (not yet passed), within a year."""
    now = timezone.now()
    if not isinstance(scheduled_at, dt.datetime) or timezone.is_naive(scheduled_at):
        errors["scheduled_at"] = _("Give the date and time of the interview.")
    elif scheduled_at <= now:
        errors["scheduled_at"] = _("An interview is scheduled for a time still to come.")
    elif scheduled_at > now + SCHEDULE_HORIZON:
        errors["scheduled_at"] = _("Schedule the interview within a year.")


def _interpreter(value) -> str:
    return (value or "").replace("\x00", "").strip() if isinstance(value, str | None) else ""


def _details(
    case: Application, row: Interview | None, scheduled_at, interviewer, language, interpreter
) -> dict:
    """An interview's time, interviewer, language and interpreter, checked together (one
    error per field); moving a `row`, an empty interviewer, language or interpreter keeps
    the row's own."""
    errors: dict[str, str] = {}
    _check_time(errors, scheduled_at)
    if row is not None and interviewer is None:
        person = row.interviewer
    else:
        person = _check_interviewer(errors, case, interviewer)
    spoken = row.language if row is not None and not language else ""
    if not spoken:
        try:
            spoken = clean_language(language)
        except ValidationError as error:
            errors["language"] = error.messages[0]
    if len(interpreter) > NAME_LIMIT:
        errors["interpreter"] = _("Give the interpreter's name in up to 200 characters.")
    if errors:
        raise ValidationError(errors)
    return {
        "scheduled_at": scheduled_at,
        "interviewer": person,
        "language": spoken,
        "interpreter": interpreter or (row.interpreter if row is not None else ""),
    }


def _case_interview(case: Application, interview: Interview | int | None) -> Interview:
    """The case's interview named by `interview` (a row or its id), or a field error."""
    pk = interview.pk if isinstance(interview, Interview) else interview
    found = None
    if isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63:
        found = Interview.objects.filter(application=case, pk=pk).first()
    if found is None:
        raise ValidationError({"interview": _("Choose an interview of this case.")})
    return found


def _check_scheduled(interview: Interview) -> None:
    if not interview.is_scheduled:
        raise ValidationError(
            {
                "interview": _("This interview is no longer scheduled (%(status)s).")
                % {"status": interview.get_status_display()}
            }
        )


def _scheduled_day(interview: Interview) -> dt.date:
    return timezone.localdate(interview.scheduled_at)


@retried
def schedule_interview(
    application: Application | int,
    *,
    actor: User,
    scheduled_at: dt.datetime,
    interviewer: User | int,
    language: str,
    interpreter: str = "",
) -> Interview:
    """Schedule a personal interview: its date and time (still to come), the interviewer
    (an active caseworker or decision-maker of the case's unit), the language of the
    interview and the interpreter, if any."""
    interpreter = _interpreter(interpreter)
    holder: dict[str, Interview] = {}

    def apply(case: Application):
        _check_undecided(case)
        values = _details(case, None, scheduled_at, interviewer, language, interpreter)
        interview = Interview.objects.create(application=case, **values)
        holder["interview"] = interview
        return [], {
            "interview": interview.pk,
            "scheduled_at": scheduled_at.isoformat(),
            "interviewer": interview.interviewer_id,
        }

    _record_action(application, actor=actor, action="interview_scheduled", apply=apply)
    return holder["interview"]


@retried
def reschedule_interview(
    application: Application | int,
    *,
    actor: User,
    interview: Interview | int,
    scheduled_at: dt.datetime,
    reason: str,
    interviewer: User | int | None = None,
    language: str = "",
    interpreter: str = "",
) -> Interview:
    """Move a scheduled interview to another time (still to come), with a reason; a new
    interviewer, language or interpreter replaces the old one, an empty one keeps it."""
    reason = _require_reason(reason)
    interpreter = _interpreter(interpreter)
    holder: dict[str, Interview] = {}

    def apply(case: Application):
        _check_undecided(case)
        row = _case_interview(case, interview)
        _check_scheduled(row)
        holder["interview"] = row
        values = _details(case, row, scheduled_at, interviewer, language, interpreter)
        if all(getattr(row, name) == value for name, value in values.items()):
            return ALREADY_SO
        was = row.scheduled_at
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=list(values))
        return [], {
            "interview": row.pk,
            "scheduled_at": scheduled_at.isoformat(),
            "was": was.isoformat(),
            "interviewer": row.interviewer_id,
        }

    _record_action(
        application, actor=actor, action="interview_rescheduled", apply=apply, reason=reason
    )
    return holder["interview"]


@retried
def cancel_interview(
    application: Application | int, *, actor: User, interview: Interview | int, reason: str
) -> Interview:
    """Cancel a scheduled interview, with a reason (on the timeline, which retention may
    redact)."""
    reason = _require_reason(reason)
    holder: dict[str, Interview] = {}

    def apply(case: Application):
        row = _case_interview(case, interview)
        holder["interview"] = row
        if row.status == Interview.Status.CANCELLED:
            return ALREADY_SO
        _check_scheduled(row)
        row.status = Interview.Status.CANCELLED
        row.save(update_fields=["status"])
        return [], {"interview": row.pk, "scheduled_at": row.scheduled_at.isoformat()}

    _record_action(
        application, actor=actor, action="interview_cancelled", apply=apply, reason=reason
    )
    return holder["interview"]


def _interview_record(case: Application, record: Document | int | None) -> Document | None:
    if record is None or record == "":
        return None
    pk = record.pk if isinstance(record, Document) else record
    found = None
    if isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63:
        found = Document.objects.filter(
            application=case, pk=pk, kind=Document.Kind.INTERVIEW_RECORD
        ).first()
    if found is None:
        raise ValidationError(
            {"record": _("Choose a document of this case of the type “Interview record”.")}
        )
    return found


def hold_interview(
    case: Application,
    interview: Interview | int,
    held_on: dt.date | None,
    record: Document | int | None,
) -> tuple[list[str], dict] | None:
    """Close the case's scheduled interview as held on `held_on` (its scheduled day when
    None), with its record, and set the case's summary from it (called with the case
    locked, by `record_interview`). A held interview may be recorded again to correct its
    day or add its record."""
    row = _case_interview(case, interview)
    if row.status not in (Interview.Status.SCHEDULED, Interview.Status.HELD):
        _check_scheduled(row)
    day = held_on or (row.held_on if row.status == Interview.Status.HELD else None)
    day = day or _scheduled_day(row)
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError({"interviewed_on": _("Give the interview's date.")})
    if row.scheduled_at > timezone.now():
        raise ValidationError(
            {"interview": _("This interview's time has not come yet: it cannot be held.")}
        )
    if day < _scheduled_day(row):
        raise ValidationError(
            {
                "interviewed_on": _(
                    "An interview cannot be held before the day it was scheduled for (%(date)s)."
                )
                % {"date": _scheduled_day(row).isoformat()}
            }
        )
    _not_in_future(day, "interviewed_on")
    document = _interview_record(case, record)
    if document is None and row.record_id:
        document = row.record  # recorded again without a record: it keeps the one it has
    if (row.status, row.held_on, row.record_id) == (
        Interview.Status.HELD,
        day,
        document.pk if document else None,
    ) and case.interviewed_on is not None:
        return ALREADY_SO
    row.status = Interview.Status.HELD
    row.held_on = day
    row.record = document
    row.save(update_fields=["status", "held_on", "record"])
    # The case's summary: the latest interview held.
    latest = case.interviews.filter(status=Interview.Status.HELD).aggregate(day=Max("held_on"))
    case.interviewed_on = latest["day"]
    case.interview_waiver_reason = ""
    return ["interviewed_on", "interview_waiver_reason"], {
        "interviewed_on": day.isoformat(),
        "interview": row.pk,
        "record": document.pk if document else None,
    }


def miss_interview(
    case: Application, interview: Interview | int, missed_on: dt.date | None
) -> tuple[dt.date, bool]:
    """Close the case's scheduled interview as missed (called with the case locked, by
    `record_missed_interview`); returns the day it was missed (its scheduled day when
    `missed_on` is None) and whether anything changed (not when it was already recorded
    missed on that day)."""
    row = _case_interview(case, interview)
    if row.status == Interview.Status.MISSED and missed_on in (None, row.missed_on):
        return row.missed_on, False
    _check_scheduled(row)
    if row.scheduled_at > timezone.now():
        raise ValidationError(
            {"interview": _("This interview's time has not come yet: it cannot be missed.")}
        )
    day = missed_on or _scheduled_day(row)
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError({"missed_on": _("Give the date of the missed interview.")})
    if day < _scheduled_day(row):
        raise ValidationError(
            {
                "missed_on": _(
                    "An interview cannot be missed before the day it was scheduled for (%(date)s)."
                )
                % {"date": _scheduled_day(row).isoformat()}
            }
        )
    row.status = Interview.Status.MISSED
    row.missed_on = day
    row.save(update_fields=["status", "missed_on"])
    return day, True


def has_held_interview(case: Application) -> bool:
    return case.interviews.filter(status=Interview.Status.HELD).exists()
