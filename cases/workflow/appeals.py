"""Verbs of the appeals to the administrative courts (issue 17): the appeal against the
decision on the application (the `appeal` transition), the further appeal to the Supreme
Administrative Court of Lithuania, the suspensive effect and the judgment at each level,
and the appeal against a Dublin transfer decision.

Each appeal is an `Appeal` row; each verb locks the case, checks the actor's role and unit,
records a `CaseEvent` that holds codes, dates and the row's id (never the court's case
number, which retention redacts on the row) and follows with the clocks: the appeal window
after service is met by the first appeal, a first-instance judgment opens the time for a
further appeal (DOMAIN.md §3 row 15), and an appeal against a transfer decision that
suspends it stops the transfer period, which runs again from the judgment that upholds the
decision (Dublin III Art. 29(1)).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import deadlines
from ..audit import record_event
from ..conflicts import retried
from ..models import Appeal, Application, CaseEvent, DeadlineRule, Status
from ..validators import day_problem
from . import (
    ALREADY_SO,
    TransitionForbidden,
    _record_action,
    _run_transition,
)
from .procedures import HOME_STATE

COURT_LIMIT = 200
CASE_NUMBER_LIMIT = 100
REASON_LIMIT = 5000

# The clocks of the transfer period (Dublin III Art. 29: from the acceptance, or extended).
TRANSFER_STARTS = (
    DeadlineRule.StartEvent.TRANSFER_ACCEPTED,
    DeadlineRule.StartEvent.TRANSFER_IMPRISONMENT,
    DeadlineRule.StartEvent.TRANSFER_ABSCONDING,
)


def _text(value: Any) -> str:
    return (value or "").replace("\x00", "").strip() if isinstance(value, str | None) else ""


def check_appeal(
    case: Application,
    *,
    court: str,
    court_case_number: str,
    suspensive_effect: str,
    lodged_on: Any,
    after: dt.date | None,
    after_message: str,
    window: str,
    late_reason: str,
) -> None:
    """The facts of an appeal as it is lodged, or `ValidationError` per field: the court,
    its case number (may follow later), the suspensive effect (may be recorded later) and
    the day, not before the decision or judgment appealed (`after`) and not in the future.
    An appeal lodged after its window (the latest deadline that runs from `window`) needs a
    reason, for example a request to restore the time limit."""
    errors: dict[str, str] = {}
    if not court:
        errors["court"] = _("Name the court.")
    elif len(court) > COURT_LIMIT:
        errors["court"] = _("Keep the court's name under 200 characters.")
    if len(court_case_number) > CASE_NUMBER_LIMIT:
        errors["court_case_number"] = _("Keep the court case number under 100 characters.")
    if suspensive_effect and suspensive_effect not in Appeal.Suspensive.values:
        errors["suspensive_effect"] = _("Choose the suspensive effect.")
    if len(late_reason) > REASON_LIMIT:
        errors["late_reason"] = _("Keep the reason under 5,000 characters.")
    if problem := day_problem(
        lodged_on,
        missing=_("Give the date the appeal was lodged."),
        since=after,
        early=after_message,
    ):
        errors["lodged_on"] = problem
    else:
        limit = case.deadlines.filter(rule__start_event=window).order_by("-due_at").first()
        if limit and lodged_on > limit.due_on and not late_reason:
            errors["late_reason"] = _(
                "The appeal window closed on %(date)s: say why a late appeal is recorded."
            ) % {"date": limit.due_on.isoformat()}
    if errors:
        raise ValidationError(errors)


def _new_appeal(case: Application, **fields: Any) -> Appeal:
    requested = fields.get("suspensive_effect") == Appeal.Suspensive.REQUESTED
    row = Appeal(
        application=case, suspension=Appeal.Suspension.PENDING if requested else "", **fields
    )
    row.full_clean(exclude=["application", "first_instance"])
    row.save()
    return row


def _appeal_data(row: Appeal) -> dict[str, Any]:
    """What an event about an appeal holds: its id, codes and dates (no case number)."""
    return {
        "appeal": row.pk,
        "level": row.level,
        "subject": row.subject,
        "lodged_on": row.lodged_on.isoformat(),
        **({"suspensive_effect": row.suspensive_effect} if row.suspensive_effect else {}),
    }


def _lodge(
    case: Application,
    *,
    actor: User,
    facts: dict[str, Any],
    after: dt.date | None,
    after_message: str,
    window: str,
    stop: str,
    late_reason: str,
    **row: Any,
) -> Appeal:
    """Check an appeal's facts (`check_appeal`), write its row, meet its window (`stop`),
    and stop the transfer period when it suspends a transfer decision."""
    check_appeal(
        case,
        **facts,
        after=after,
        after_message=after_message,
        window=window,
        late_reason=late_reason,
    )
    appeal = _new_appeal(case, **facts, **row)
    deadlines.meet_deadlines(case, stop, deadlines.at_noon(facts["lodged_on"]), actor=actor)
    if appeal.subject == Appeal.Subject.TRANSFER_DECISION and appeal.suspends:
        _suspend_transfer(case, timezone.now(), actor=actor)
    return appeal


# ------------------------------------------------------------------------------------------
# The transfer period and a suspensive appeal (Dublin III Art. 29(1))
# ------------------------------------------------------------------------------------------


def _suspend_transfer(case: Application, moment: dt.datetime, *, actor: User) -> None:
    """An appeal that suspends the transfer decision stops the transfer period."""
    running = case.deadlines.running().filter(rule__start_event__in=TRANSFER_STARTS)
    for family in {d.rule.family_name for d in running.select_related("rule")}:
        deadlines.cancel_family(case, family, moment, actor=actor)


def _resume_transfer(case: Application, day: dt.date, moment: dt.datetime, *, actor: User):
    """The transfer decision stands after a suspensive appeal: the transfer period runs
    again, in full, from the judgment (the extended period if it was extended)."""
    start = {
        Application.TransferExtension.IMPRISONMENT: DeadlineRule.StartEvent.TRANSFER_IMPRISONMENT,
        Application.TransferExtension.ABSCONDING: DeadlineRule.StartEvent.TRANSFER_ABSCONDING,
    }.get(case.transfer_extension, DeadlineRule.StartEvent.TRANSFER_ACCEPTED)
    deadlines.open_deadlines(case, start, deadlines.at_noon(day), actor=actor, at=moment)


# ------------------------------------------------------------------------------------------
# The appeal against the decision on the application (first instance): a transition
# ------------------------------------------------------------------------------------------


@retried
def appeal(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    court: str,
    lodged_on: dt.date,
    court_case_number: str = "",
    suspensive_effect: str = "",
    late_reason: str = "",
    at: dt.datetime | None = None,
) -> Application:
    """Record an appeal against the decision to a regional administrative court (first
    instance), with the court's case number and the suspensive effect when known (both may
    be recorded later). Meets the appeal window; an appeal lodged after it needs a reason
    (for example a request to restore the time limit)."""
    court = _text(court)
    number = _text(court_case_number)
    late_reason = _text(late_reason)

    def prepare(case: Application) -> dict[str, Any]:
        check_appeal(
            case,
            court=court,
            court_case_number=number,
            suspensive_effect=suspensive_effect,
            lodged_on=lodged_on,
            after=case.decided_on,
            after_message=_("An appeal cannot precede the decision."),
            window=DeadlineRule.StartEvent.SERVED,
            late_reason=late_reason,
        )
        return {"lodged_on": lodged_on, "suspensive_effect": suspensive_effect}

    def effects(case: Application, kwargs: dict[str, Any], moment: dt.datetime) -> None:
        _new_appeal(
            case,
            subject=Appeal.Subject.ASYLUM_DECISION,
            level=Appeal.Level.FIRST,
            court=court,
            court_case_number=number,
            lodged_on=lodged_on,
            suspensive_effect=suspensive_effect,
        )
        deadlines.meet_deadlines(
            case, DeadlineRule.StopEvent.APPEAL_LODGED, deadlines.at_noon(lodged_on), actor=actor
        )
        if late_reason:
            record_event(
                case,
                kind=CaseEvent.Kind.RECORD,
                action="late_appeal",
                actor=actor,
                at=moment,
                reason=late_reason,
            )

    return _run_transition(
        application,
        "appeal",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
    )


# ------------------------------------------------------------------------------------------
# Records that change no state: further appeal, suspensive effect, judgment
# ------------------------------------------------------------------------------------------


def _subject(value: str) -> str:
    if value not in Appeal.Subject.values:
        raise ValidationError({"subject": _("Choose the decision appealed.")})
    return value


def _asylum_appeal_open(case: Application, subject: str) -> None:
    """An appeal against the decision on the application is followed while the case is
    appealed (a remitted or closed case has left the court); one against a transfer
    decision while the case is open."""
    if subject == Appeal.Subject.ASYLUM_DECISION and case.status != Status.APPEALED:
        raise TransitionForbidden(_("Only an appealed case has an appeal before the court."))
    if subject == Appeal.Subject.TRANSFER_DECISION and not case.is_open:
        raise TransitionForbidden(_("The case has ended; it can no longer be changed."))


def _latest(case: Application, subject: str) -> Appeal | None:
    return case.appeals.filter(subject=subject).order_by("-lodged_on", "-id").first()


@retried
def appeal_further(
    application: Application | int,
    *,
    actor: User,
    court: str,
    lodged_on: dt.date,
    court_case_number: str = "",
    suspensive_effect: str = "",
    late_reason: str = "",
    subject: str = Appeal.Subject.ASYLUM_DECISION,
) -> Application:
    """Record a further appeal to the Supreme Administrative Court of Lithuania against the
    first-instance judgment (by the applicant or by the authority). Only after that
    judgment is recorded, once, and within the time for it (30 days from the
    pronouncement by default, DOMAIN.md §3 row 15) or with a reason for the late appeal.
    Meets that time limit; an appeal against a transfer decision that suspends it stops the
    transfer period again."""
    court = _text(court)
    number = _text(court_case_number)
    late_reason = _text(late_reason)
    facts = {
        "court": court,
        "court_case_number": number,
        "suspensive_effect": suspensive_effect,
        "lodged_on": lodged_on,
    }

    def apply(case: Application):
        _subject(subject)
        _asylum_appeal_open(case, subject)
        latest = _latest(case, subject)
        if latest is not None and latest.level == Appeal.Level.SECOND:
            if (latest.court, latest.court_case_number, latest.lodged_on) == (
                court,
                number,
                lodged_on,
            ):
                return ALREADY_SO
            raise TransitionForbidden(_("A further appeal is already recorded."))
        if latest is None or latest.judgment_on is None:
            raise TransitionForbidden(
                _("A further appeal follows a first-instance judgment: record the judgment first.")
            )
        row = _lodge(
            case,
            actor=actor,
            facts=facts,
            after=latest.judgment_on,
            after_message=_("A further appeal cannot precede the judgment it appeals."),
            window=DeadlineRule.StartEvent.JUDGMENT_PRONOUNCED,
            stop=DeadlineRule.StopEvent.FURTHER_APPEAL_LODGED,
            late_reason=late_reason,
            subject=subject,
            level=Appeal.Level.SECOND,
            first_instance=latest,
        )
        return [], _appeal_data(row)

    return _record_action(
        application, actor=actor, action="further_appeal", apply=apply, reason=late_reason
    )


@retried
def record_suspensive_effect(
    application: Application | int,
    *,
    actor: User,
    appeal: Appeal | int,
    effect: str,
    granted: bool | None = None,
    decided_on: dt.date | None = None,
) -> Application:
    """Record whether an appeal suspends the decision: by law (automatic), not at all, or
    on request, with the court's answer (granted or refused, and when) once it comes. An
    appeal against a transfer decision that comes to suspend it stops the transfer
    period."""
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal

    def apply(case: Application):
        row = case.appeals.filter(pk=pk).first() if isinstance(pk, int) else None
        if row is None:
            raise ValidationError({"appeal": _("Choose an appeal of this case.")})
        _asylum_appeal_open(case, row.subject)
        errors: dict[str, str] = {}
        requested = effect == Appeal.Suspensive.REQUESTED
        if effect not in Appeal.Suspensive.values:
            errors["effect"] = _("Choose the suspensive effect.")
        elif granted is not None and not requested:
            errors["granted"] = _("Only a requested suspension has the court's answer.")
        elif granted is not None:
            if problem := day_problem(
                decided_on,
                missing=_("Give the date of the court's answer."),
                since=row.lodged_on,
                early=_("The court's answer cannot precede the appeal."),
            ):
                errors["decided_on"] = problem
        elif decided_on is not None:
            errors["granted"] = _("Say whether the court granted the suspension.")
        if errors:
            raise ValidationError(errors)
        if not requested:
            answer = ""
        elif granted is None:
            answer = Appeal.Suspension.PENDING
        else:
            answer = Appeal.Suspension.GRANTED if granted else Appeal.Suspension.REFUSED
        day = decided_on if granted is not None else None
        if (row.suspensive_effect, row.suspension, row.suspension_decided_on) == (
            effect,
            answer,
            day,
        ):
            return ALREADY_SO
        suspended_before = row.suspends
        row.suspensive_effect = effect
        row.suspension = answer
        row.suspension_decided_on = day
        row.save(update_fields=["suspensive_effect", "suspension", "suspension_decided_on"])
        if (
            row.subject == Appeal.Subject.TRANSFER_DECISION
            and row.suspends
            and not suspended_before
            and row.judgment_on is None
        ):
            _suspend_transfer(case, timezone.now(), actor=actor)
        return [], {
            "appeal": row.pk,
            "level": row.level,
            "subject": row.subject,
            "effect": effect,
            **({"suspension": answer} if answer else {}),
            **({"decided_on": day.isoformat()} if day else {}),
        }

    return _record_action(application, actor=actor, action="suspensive_effect", apply=apply)


@retried
def record_judgment(
    application: Application | int,
    *,
    actor: User,
    judgment_on: dt.date,
    outcome: str,
    subject: str = Appeal.Subject.ASYLUM_DECISION,
) -> Application:
    """The court's judgment on the appeal that awaits one (first instance, or the further
    appeal), with its outcome: the decision upheld, annulled and the case remitted,
    protection granted by the court (the decision on the application only), or the appeal
    withdrawn or left unexamined.

    A first-instance judgment opens the time for a further appeal (30 days from the
    pronouncement by default); the case may be closed once the judgment is final, and is
    remitted (`remit`, a decision-maker) when the final judgment annuls the decision. A
    judgment that upholds a transfer decision after a suspensive appeal starts the
    transfer period again; one that annuls it ends the transfer period.
    """

    def apply(case: Application):
        _subject(subject)
        _asylum_appeal_open(case, subject)
        row = _latest(case, subject)
        if row is None:
            raise TransitionForbidden(_("No appeal is recorded for this decision."))
        if row.judgment_on is not None:
            if (row.judgment_on, row.outcome) == (judgment_on, outcome):
                return ALREADY_SO
            raise TransitionForbidden(_("The judgment on this appeal is already recorded."))
        errors: dict[str, str] = {}
        if outcome not in Appeal.Outcome.values or (
            outcome == Appeal.Outcome.PROTECTION_GRANTED
            and subject != Appeal.Subject.ASYLUM_DECISION
        ):
            errors["outcome"] = _("Choose the judgment's outcome.")
        if problem := day_problem(
            judgment_on,
            missing=_("Give the date of the judgment."),
            since=row.lodged_on,
            early=_("A judgment cannot precede the appeal."),
        ):
            errors["judgment_on"] = problem
        if errors:
            raise ValidationError(errors)
        row.judgment_on = judgment_on
        row.outcome = outcome
        row.save(update_fields=["judgment_on", "outcome"])
        moment = timezone.now()
        pronounced = deadlines.day_moment(judgment_on, moment)
        if subject == Appeal.Subject.ASYLUM_DECISION:
            # The judgment ends a border procedure that counts the appeal in (APR Art. 51(2)).
            deadlines.meet_deadlines(
                case, DeadlineRule.StopEvent.BORDER_ENDED, pronounced, actor=actor
            )
        if row.level == Appeal.Level.FIRST:
            deadlines.open_deadlines(
                case,
                DeadlineRule.StartEvent.JUDGMENT_PRONOUNCED,
                deadlines.at_noon(judgment_on),
                actor=actor,
                at=moment,
            )
        if subject == Appeal.Subject.TRANSFER_DECISION:
            if outcome == Appeal.Outcome.ANNULLED:
                _suspend_transfer(case, moment, actor=actor)
            elif row.suspends:
                _resume_transfer(case, judgment_on, moment, actor=actor)
        return [], {
            "appeal": row.pk,
            "level": row.level,
            "subject": row.subject,
            "judgment_on": judgment_on.isoformat(),
            "outcome": outcome,
        }

    return _record_action(application, actor=actor, action="judgment", apply=apply)


# ------------------------------------------------------------------------------------------
# The Dublin transfer decision: its service and the appeal against it (DOMAIN.md §3 row 8)
# ------------------------------------------------------------------------------------------


def _transfer_pending(case: Application) -> None:
    """A transfer decision concerns an open Dublin case that another Member State took
    over and that is not transferred yet."""
    if case.procedure != Application.Procedure.DUBLIN or not case.is_open:
        raise TransitionForbidden(_("The case is not in the Dublin procedure."))
    if not case.responsible_state or case.responsible_state == HOME_STATE:
        raise TransitionForbidden(_("No other Member State is responsible for this case."))
    if case.transferred_on:
        raise TransitionForbidden(_("The transfer is already recorded."))


@retried
def record_transfer_decision(
    application: Application | int, *, actor: User, served_on: dt.date
) -> Application:
    """The decision to transfer the applicant to the Member State responsible was served
    on them: the time to appeal against it runs (14 days from service under the national
    practice for Dublin III; within 1 to 3 weeks under the AMMR, 2 weeks by default)."""

    def apply(case: Application):
        _transfer_pending(case)
        if not isinstance(served_on, dt.date) or isinstance(served_on, dt.datetime):
            raise ValidationError({"served_on": _("Give the date of service.")})
        if case.responsibility_determined_on and served_on < case.responsibility_determined_on:
            raise ValidationError(
                {"served_on": _("The transfer decision cannot precede the acceptance.")}
            )
        if served_on > timezone.localdate():
            raise ValidationError({"served_on": _("This date is in the future.")})
        if case.transfer_decision_served_on == served_on:
            return ALREADY_SO
        if case.transfer_decision_served_on:
            raise TransitionForbidden(
                _("The service of the transfer decision is already recorded.")
            )
        case.transfer_decision_served_on = served_on
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.TRANSFER_DECISION_SERVED,
            deadlines.at_noon(served_on),
            actor=actor,
            at=timezone.now(),
        )
        return ["transfer_decision_served_on"], {"served_on": served_on.isoformat()}

    return _record_action(application, actor=actor, action="transfer_decision", apply=apply)


@retried
def appeal_transfer_decision(
    application: Application | int,
    *,
    actor: User,
    court: str,
    lodged_on: dt.date,
    court_case_number: str = "",
    suspensive_effect: str = "",
    late_reason: str = "",
) -> Application:
    """Record the appeal against the transfer decision to the regional administrative
    court, once, after its service (a late appeal with a reason). Meets the time to
    appeal; an appeal that suspends the transfer (by law, or when the court grants it:
    `record_suspensive_effect`) stops the transfer period, which runs again in full from
    the judgment that upholds the decision (Dublin III Art. 29(1): "the final decision on
    an appeal or review where there is a suspensive effect")."""
    court = _text(court)
    number = _text(court_case_number)
    late_reason = _text(late_reason)
    facts = {
        "court": court,
        "court_case_number": number,
        "suspensive_effect": suspensive_effect,
        "lodged_on": lodged_on,
    }
    subject = Appeal.Subject.TRANSFER_DECISION

    def apply(case: Application):
        _transfer_pending(case)
        if not case.transfer_decision_served_on:
            raise TransitionForbidden(_("Record the service of the transfer decision first."))
        first = case.appeals.filter(subject=subject, level=Appeal.Level.FIRST).first()
        if first is not None:
            if (first.court, first.court_case_number, first.lodged_on) == (
                court,
                number,
                lodged_on,
            ):
                return ALREADY_SO
            raise TransitionForbidden(
                _("An appeal against the transfer decision is already recorded.")
            )
        row = _lodge(
            case,
            actor=actor,
            facts=facts,
            after=case.transfer_decision_served_on,
            after_message=_("An appeal cannot precede the service of the decision."),
            window=DeadlineRule.StartEvent.TRANSFER_DECISION_SERVED,
            stop=DeadlineRule.StopEvent.TRANSFER_APPEAL_LODGED,
            late_reason=late_reason,
            subject=subject,
            level=Appeal.Level.FIRST,
        )
        return [], _appeal_data(row)

    return _record_action(
        application, actor=actor, action="transfer_appeal", apply=apply, reason=late_reason
    )
