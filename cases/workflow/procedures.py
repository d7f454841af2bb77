"""Verbs of the special procedures: Dublin (entry into the procedure, the request to another
Member State, its reply or acceptance by default, the Member State responsible, the transfer
and its extensions).

Each verb is one atomic change that locks the case, checks the actor's role and unit,
records a `CaseEvent` and opens or closes the clocks that run from it
(`cases.rule_defaults`: the rule of each family is chosen by the rule's own key date).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import User

from .. import deadlines
from ..conflicts import retried
from ..models import Application, DeadlineRule, Status
from ..validators import day_problem
from . import ALREADY_SO, TransitionForbidden, _record_action, _require_reason

# The Member State that runs Haven: responsibility found here starts the examination.
HOME_STATE = "LT"


@retried
def determine_responsibility(
    application: Application | int,
    *,
    actor: User,
    determined_on: dt.date,
    responsible_state: str,
    reason: str = "",
) -> Application:
    """Dublin: record which Member State is responsible for the application, and when that
    was determined (acceptance of a request, or acceptance by default).

    The examination of a Dublin case runs from the determination of responsibility (APD
    Art. 31(3)), not from the making of the application: when Lithuania is responsible,
    this opens the examination period of the Dublin rule; when another State is, the
    transfer period runs from this day. A case must be in the Dublin
    procedure; responsibility is recorded once.
    """
    state = (responsible_state or "").strip().upper()

    def apply(case: Application):
        if case.procedure != Application.Procedure.DUBLIN:
            raise TransitionForbidden(
                _("Only a case in the Dublin procedure has the Member State responsible.")
            )
        errors: dict[str, str] = {}
        if problem := day_problem(
            determined_on,
            missing=_("Give the date responsibility was determined."),
            since=case.submitted_on,
            early=_("Responsibility cannot be determined before the application was made."),
        ):
            errors["determined_on"] = problem
        if state not in dict(countries):
            errors["responsible_state"] = _("Choose the Member State responsible.")
        if errors:
            raise ValidationError(errors)
        if (case.responsible_state, case.responsibility_determined_on) == (state, determined_on):
            return ALREADY_SO
        if case.responsibility_determined_on:
            raise TransitionForbidden(_("Responsibility is already recorded for this case."))
        case.responsible_state = state
        case.responsibility_determined_on = determined_on
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.RESPONSIBILITY_DETERMINED
            if state == HOME_STATE
            else DeadlineRule.StartEvent.TRANSFER_ACCEPTED,
            deadlines.at_noon(determined_on),
            actor=actor,
        )
        return ["responsible_state", "responsibility_determined_on"], {
            "determined_on": determined_on.isoformat(),
            "responsible_state": state,
        }

    return _record_action(
        application,
        actor=actor,
        action="responsibility_determined",
        apply=apply,
        reason=(reason or "").strip()[:5000],
    )


# ------------------------------------------------------------------------------------------
# Dublin: request, reply (or acceptance by default), transfer and its extensions
# ------------------------------------------------------------------------------------------


def _dublin_case(case: Application) -> None:
    if case.procedure != Application.Procedure.DUBLIN:
        raise TransitionForbidden(_("The case is not in the Dublin procedure."))
    if not case.is_open:
        raise TransitionForbidden(_("The case has ended; it can no longer be changed."))


def _day(value, field: str, case: Application, *, after: dt.date | None = None) -> dt.date:
    """A date of a Dublin step: given, not before `after` (or the application), not future."""
    problem = day_problem(
        value,
        missing=_("Give the date."),
        since=after or case.submitted_on,
        early=_("This date is before the step it follows."),
    )
    if problem:
        raise ValidationError({field: problem})
    return value


def _state(value: str, field: str) -> str:
    code = (value or "").strip().upper()
    if code not in dict(countries) or code == HOME_STATE:
        raise ValidationError({field: _("Choose another Member State.")})
    return code


@retried
def start_dublin(application: Application | int, *, actor: User, reason: str) -> Application:
    """Channel the case into the Dublin procedure (for example after a Eurodac hit).

    The examination clock stops until responsibility is settled (its open deadline is
    cancelled; `determine_responsibility` opens the Dublin examination period when Lithuania
    is responsible), and the time limit for a take-charge request runs from lodging.
    """
    reason = _require_reason(reason)

    def apply(case: Application):
        if case.procedure == Application.Procedure.DUBLIN:
            return ALREADY_SO
        if case.status not in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
            raise TransitionForbidden(
                _("Only a case not yet decided can enter the Dublin procedure.")
            )
        previous = case.procedure
        case.procedure = Application.Procedure.DUBLIN
        moment = timezone.now()
        deadlines.cancel_family(case, "examination", moment, actor=actor)
        if case.lodged_on:
            deadlines.open_deadlines(
                case,
                DeadlineRule.StartEvent.LODGED,
                deadlines.at_noon(case.lodged_on),
                actor=actor,
                at=moment,
            )
        return ["procedure"], {"procedure": "dublin", "was": previous}

    return _record_action(
        application, actor=actor, action="dublin_started", apply=apply, reason=reason
    )


@retried
def send_dublin_request(
    application: Application | int,
    *,
    actor: User,
    kind: str,
    requested_state: str,
    sent_on: dt.date,
) -> Application:
    """A take-charge or take-back request went to another Member State: the time limit for
    the request is met (or missed) and the requested State's time to reply starts."""

    def apply(case: Application):
        _dublin_case(case)
        if kind not in Application.DublinRequest.values:
            raise ValidationError({"kind": _("Choose take charge or take back.")})
        state = _state(requested_state, "requested_state")
        day = _day(sent_on, "sent_on", case, after=case.lodged_on)
        if (case.dublin_request, case.dublin_requested_state, case.dublin_request_sent_on) == (
            kind,
            state,
            day,
        ):
            return ALREADY_SO
        if case.dublin_request_sent_on:
            raise TransitionForbidden(_("A Dublin request is already recorded for this case."))
        case.dublin_request = kind
        case.dublin_requested_state = state
        case.dublin_request_sent_on = day
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.DUBLIN_REQUEST,
            deadlines.day_moment(day, timezone.now()),
            actor=actor,
        )
        deadlines.open_deadlines(
            case, DeadlineRule.StartEvent.DUBLIN_REQUEST_SENT, deadlines.at_noon(day), actor=actor
        )
        return ["dublin_request", "dublin_requested_state", "dublin_request_sent_on"], {
            "kind": kind,
            "requested_state": state,
            "sent_on": day.isoformat(),
        }

    return _record_action(application, actor=actor, action="dublin_request", apply=apply)


def _accept(case: Application, *, actor: User, reply: str, day: dt.date, moment) -> None:
    """The requested State is responsible from `day`: the transfer period runs."""
    case.dublin_reply = reply
    case.dublin_reply_on = day
    case.responsible_state = case.dublin_requested_state
    case.responsibility_determined_on = day
    deadlines.open_deadlines(
        case,
        DeadlineRule.StartEvent.TRANSFER_ACCEPTED,
        deadlines.at_noon(day),
        actor=actor,
        at=moment,
    )


_REPLY_FIELDS = [
    "dublin_reply",
    "dublin_reply_on",
    "responsible_state",
    "responsibility_determined_on",
]


@retried
def record_dublin_reply(
    application: Application | int, *, actor: User, accepted: bool, replied_on: dt.date
) -> Application:
    """The requested Member State replied. Acceptance makes it responsible and starts the
    transfer period; a refusal leaves responsibility open (Lithuania may then find itself
    responsible: `determine_responsibility`)."""

    def apply(case: Application):
        _dublin_case(case)
        if not case.dublin_request_sent_on:
            raise TransitionForbidden(_("No Dublin request is recorded for this case."))
        day = _day(replied_on, "replied_on", case, after=case.dublin_request_sent_on)
        reply = Application.DublinReply.ACCEPTED if accepted else Application.DublinReply.REFUSED
        if (case.dublin_reply, case.dublin_reply_on) == (reply, day):
            return ALREADY_SO
        if case.dublin_reply:
            raise TransitionForbidden(_("The reply to the Dublin request is already recorded."))
        moment = timezone.now()
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.DUBLIN_REPLY,
            deadlines.day_moment(day, moment),
            actor=actor,
        )
        if accepted:
            _accept(case, actor=actor, reply=reply, day=day, moment=moment)
        else:
            case.dublin_reply = reply
            case.dublin_reply_on = day
        return _REPLY_FIELDS, {"reply": reply, "replied_on": day.isoformat()}

    return _record_action(application, actor=actor, action="dublin_reply", apply=apply)


@retried
def accept_by_default(application: Application | int, *, actor: User) -> Application:
    """No reply came within the requested State's time limit: that is acceptance (Dublin III
    Arts. 22(7) and 25(2)). Recorded once the limit has passed; the transfer period runs
    from its last day."""

    def apply(case: Application):
        _dublin_case(case)
        if not case.dublin_request_sent_on:
            raise TransitionForbidden(_("No Dublin request is recorded for this case."))
        if case.dublin_reply:
            raise TransitionForbidden(_("The reply to the Dublin request is already recorded."))
        limit = (
            case.deadlines.filter(rule__start_event=DeadlineRule.StartEvent.DUBLIN_REQUEST_SENT)
            .order_by("-id")
            .first()
        )
        moment = timezone.now()
        if limit is None or limit.due_at >= moment:
            raise TransitionForbidden(
                _(
                    "The requested State's time to reply has not passed: there is no "
                    "acceptance by default yet."
                )
            )
        deadlines.meet_deadlines(case, DeadlineRule.StopEvent.DUBLIN_REPLY, moment, actor=actor)
        day = limit.due_on
        _accept(case, actor=actor, reply=Application.DublinReply.BY_DEFAULT, day=day, moment=moment)
        return _REPLY_FIELDS, {"reply": "accepted_by_default", "replied_on": day.isoformat()}

    return _record_action(application, actor=actor, action="dublin_reply", apply=apply)


@retried
def extend_transfer(
    application: Application | int, *, actor: User, ground: str, reason: str
) -> Application:
    """The transfer period is extended because the applicant is imprisoned or absconded
    (Dublin III Art. 29(2)): it runs again from the acceptance, with the longer limit."""
    reason = _require_reason(reason)
    starts = {
        Application.TransferExtension.IMPRISONMENT: DeadlineRule.StartEvent.TRANSFER_IMPRISONMENT,
        Application.TransferExtension.ABSCONDING: DeadlineRule.StartEvent.TRANSFER_ABSCONDING,
    }

    def apply(case: Application):
        _dublin_case(case)
        if ground not in starts:
            raise ValidationError({"ground": _("Choose imprisonment or absconding.")})
        if case.transfer_extension == ground:
            return ALREADY_SO
        if case.transfer_extension:
            raise TransitionForbidden(_("The transfer period is already extended."))
        running = (
            case.deadlines.open()
            .filter(rule__start_event=DeadlineRule.StartEvent.TRANSFER_ACCEPTED)
            .first()
        )
        if running is None:
            raise TransitionForbidden(_("No transfer period is running."))
        moment = timezone.now()
        deadlines.cancel_family(case, running.rule.family_name, moment, actor=actor)
        deadlines.open_deadlines(case, starts[ground], running.starts_at, actor=actor, at=moment)
        case.transfer_extension = ground
        return ["transfer_extension"], {"ground": ground}

    return _record_action(
        application, actor=actor, action="transfer_extended", apply=apply, reason=reason
    )


@retried
def record_transfer(
    application: Application | int, *, actor: User, transferred_on: dt.date
) -> Application:
    """The applicant was transferred to the Member State responsible: the transfer period
    is met (or missed)."""

    def apply(case: Application):
        _dublin_case(case)
        if not case.responsible_state or case.responsible_state == HOME_STATE:
            raise TransitionForbidden(_("No other Member State is responsible for this case."))
        day = _day(transferred_on, "transferred_on", case, after=case.responsibility_determined_on)
        if case.transferred_on == day:
            return ALREADY_SO
        if case.transferred_on:
            raise TransitionForbidden(_("The transfer is already recorded."))
        case.transferred_on = day
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.TRANSFERRED,
            deadlines.day_moment(day, timezone.now()),
            actor=actor,
        )
        return ["transferred_on"], {"transferred_on": day.isoformat()}

    return _record_action(application, actor=actor, action="transferred", apply=apply)


# ------------------------------------------------------------------------------------------
# Channelling: the regular, accelerated and border procedures and the examination of
# admissibility (DOMAIN.md §3 rows 5, 9, 10 and 11)
# ------------------------------------------------------------------------------------------

# The procedures a case may be channelled into here. Dublin has its own entry
# (`start_dublin`); a subsequent application is one from its intake.
CHANNELS = (
    Application.Procedure.REGULAR,
    Application.Procedure.ACCELERATED,
    Application.Procedure.BORDER,
    Application.Procedure.ADMISSIBILITY,
)


@retried
def channel_procedure(
    application: Application | int, *, actor: User, procedure: str, reason: str
) -> Application:
    """Channel the case into the regular, accelerated or border procedure or the
    examination of admissibility, with the reason on the timeline.

    The clocks follow the procedure (`deadlines.change_procedure`): the accelerated
    examination period (3 months from lodging under the APR) replaces the regular one; the
    border procedure's limit (4 weeks under the APD, 12 weeks from registration under the
    APR) and the examination of admissibility (2 months from lodging under the APR) run beside
    it, and are met when the case leaves them. An unaccompanied minor is never channelled
    into the border procedure (a special procedural guarantee that follows from the
    vulnerability or the age assessment: `Application.is_unaccompanied_minor`).
    """
    reason = _require_reason(reason)

    def apply(case: Application):
        if procedure not in CHANNELS:
            raise ValidationError({"procedure": _("Choose the procedure.")})
        if case.procedure == procedure:
            return ALREADY_SO
        if case.status not in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
            raise TransitionForbidden(
                _("Only a case not yet decided can be channelled into another procedure.")
            )
        if case.procedure == Application.Procedure.DUBLIN:
            raise TransitionForbidden(
                _(
                    "A Dublin case leaves the Dublin procedure when responsibility is "
                    "determined, not by channelling."
                )
            )
        if case.procedure == Application.Procedure.SUBSEQUENT:
            raise TransitionForbidden(
                _("A subsequent application is examined as such; it cannot be channelled.")
            )
        if procedure == Application.Procedure.BORDER and case.is_unaccompanied_minor():
            raise TransitionForbidden(
                _(
                    "The applicant is treated as an unaccompanied minor (vulnerability or age "
                    "assessment): the border procedure does not apply (special procedural "
                    "guarantee)."
                )
            )
        previous = case.procedure
        deadlines.change_procedure(case, procedure, timezone.now(), actor=actor)
        return ["procedure"], {"procedure": procedure, "was": previous}

    return _record_action(
        application, actor=actor, action="procedure_channelled", apply=apply, reason=reason
    )


@retried
def extend_admissibility_examination(
    application: Application | int, *, actor: User, reason: str
) -> Application:
    """Extend the examination of admissibility (APR Art. 35(1): by up to 2 months): its
    limit runs again from the lodging with the extended length of the rule in force. Once."""
    reason = _require_reason(reason)
    extended = DeadlineRule.StartEvent.INADMISSIBILITY_EXTENDED

    def apply(case: Application):
        if case.procedure != Application.Procedure.ADMISSIBILITY or not case.is_open:
            raise TransitionForbidden(_("The case is not in the examination of admissibility."))
        if case.deadlines.filter(rule__start_event=extended).exists():
            raise TransitionForbidden(_("The examination of admissibility is already extended."))
        running = [
            d
            for d in case.deadlines.open().select_related("rule")
            if Application.Procedure.ADMISSIBILITY in d.rule.procedure_list()
            and d.rule.start_event == DeadlineRule.StartEvent.LODGED
        ]
        if not running:
            raise TransitionForbidden(_("No examination of admissibility is running."))
        if not deadlines.applicable_rules(case, extended):
            raise TransitionForbidden(
                _("No extension of this time limit is in force for this case.")
            )
        moment = timezone.now()
        for limit in running:
            deadlines.cancel_family(case, limit.rule.family_name, moment, actor=actor)
        opened = deadlines.open_deadlines(
            case, extended, running[0].starts_at, actor=actor, at=moment
        )
        return [], {"due_on": opened[0].due_on.isoformat() if opened else None}

    return _record_action(
        application, actor=actor, action="admissibility_extended", apply=apply, reason=reason
    )
