"""Verbs of detention in depth (issue 17; DOMAIN.md §3 rows 16–17 and §4).

- Court orders: the first order authorises the detention, each later one extends it; every
  order is its own `DetentionOrder` row (court, case number, the moment it was made, until
  when). An order meets the 48-hour limit, restarts the clock of its "until" date and
  counts as a review of the detention.
- Periodic reviews (`DetentionReview`): the review clock runs from the detention's start and
  again from each review or order (rule rows of the family `detention-periodic-review`); a
  review that ends the detention releases the person.
- The appeal against the detention (`DetentionAppeal`): lodged, then decided (detention
  ended, which releases the person, or upheld). It is the detainee's own remedy, kept apart
  from the appeal against the asylum decision.
- Alternatives to detention (a duty to report, residence in a designated place): a
  placement of regime `restricted` at the facility where the person lives, so that it
  counts in that facility's places; applied to a detainee it is a release onto the
  alternative. The cap on restrictions of liberty counted from entry (DOMAIN.md §3 row 17)
  runs on from detention into an alternative and back (`deadlines.follow_restriction_cap`).

Each verb locks the case (through `_record_action` or `_run_transition`), checks the actor's
role and unit, writes its timeline event (pointing at the record, never copying a court's
case number) and follows with the clocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import deadlines
from ..audit import record_event
from ..conflicts import retried
from ..models import (
    Application,
    CaseEvent,
    DeadlineRule,
    DetentionAppeal,
    DetentionOrder,
    DetentionReview,
    Facility,
    Placement,
    Status,
)
from ..validators import day_problem
from . import (
    ALREADY_SO,
    StaleCase,
    TransitionForbidden,
    _check_free_place,
    _end_placement,
    _record_action,
    _require_reason,
    _run_transition,
    _start_placement,
)
from .person import NAME_LIMIT, _text

VILNIUS = ZoneInfo("Europe/Vilnius")
NUMBER_LIMIT = 100
BASIS_LIMIT = 300


def _is_day(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _check_day(
    errors: dict[str, str], name: str, day: Any, *, missing: str, since: dt.date, early: str
) -> None:
    """A day of the detention's record: given, not before `since`, not in the future."""
    if problem := day_problem(day, missing=missing, since=since, early=early):
        errors[name] = problem


def _named(errors: dict[str, str], name: str, value: str, limit: int, message: str) -> None:
    if not value or len(value) > limit:
        errors[name] = message


def _detention_of(case: Application) -> Placement:
    placement = case.open_detention()
    if placement is None:
        raise TransitionForbidden(_("The applicant is not in detention."))
    return placement


def _reviewed(case: Application, placement: Placement, moment: dt.datetime, *, actor) -> None:
    """The detention was reviewed (by a review or a court order) at `moment`: the periodic
    review is met (or missed, if late) and runs again from that moment."""
    deadlines.meet_deadlines(case, DeadlineRule.StopEvent.DETENTION_REVIEWED, moment, actor=actor)
    deadlines.open_deadlines(
        case,
        DeadlineRule.StartEvent.DETENTION_REVIEW,
        moment,
        actor=actor,
        placement=placement,
        at=min(moment, timezone.now()),
    )


# ------------------------------------------------------------------------------------------
# Court orders and their extensions
# ------------------------------------------------------------------------------------------


def _order_moment(order_on: dt.date, order_time: Any, errors: dict[str, str]) -> dt.datetime:
    """When the order was made: its day and time in Vilnius, or a day alone as a fact known
    by its day (`deadlines.day_moment`)."""
    if order_time is None:
        return deadlines.day_moment(order_on, timezone.now())
    if not isinstance(order_time, dt.time):
        errors["order_time"] = _("Give the time of the order (24-hour, Vilnius time).")
        return deadlines.at_noon(order_on)
    moment = dt.datetime.combine(order_on, order_time.replace(tzinfo=None), tzinfo=VILNIUS)
    if moment > timezone.now():
        errors["order_time"] = _("This moment is in the future.")
    return moment


@retried
def record_court_order(
    application: Application | int,
    *,
    actor: User,
    court: str,
    case_number: str,
    order_on: dt.date,
    until: dt.date,
    order_time: dt.time | None = None,
) -> Application:
    """A court authorised the detention until `until` (the first order) or extended it (a
    later order): each order is a `DetentionOrder`. The 48-hour limit is met (or missed) at
    the order's moment, the clock of the "until" date runs again, and the order counts as
    a review of the detention. The same court case number on the same day as the latest
    order corrects that order instead of adding one. Changes no state."""
    court = _text(court)
    case_number = _text(case_number)

    def apply(case: Application):
        placement = _detention_of(case)
        errors: dict[str, str] = {}
        _named(errors, "court", court, NAME_LIMIT, _("Name the court (under 200 characters)."))
        _named(
            errors,
            "case_number",
            case_number,
            NUMBER_LIMIT,
            _("Give the court's case number (under 100 characters)."),
        )
        if not _is_day(order_on):
            errors["order_on"] = _("Give the date of the order.")
        elif order_on < deadlines.local_date(placement.starts_at):
            errors["order_on"] = _("The order cannot precede the detention.")
        elif order_on > timezone.localdate():
            errors["order_on"] = _("This date is in the future.")
        if not _is_day(until):
            errors["until"] = _("Give the date until which detention is authorised.")
        elif _is_day(order_on) and until < order_on:
            errors["until"] = _("The 'until' date cannot precede the order.")
        if errors:
            raise ValidationError(errors)
        moment = _order_moment(order_on, order_time, errors)
        orders = list(DetentionOrder.objects.filter(placement=placement))
        latest = orders[-1] if orders else None
        correcting = (
            latest is not None
            and latest.case_number == case_number
            and deadlines.local_date(latest.ordered_at) == order_on
        )
        if correcting and order_time is None:
            moment = latest.ordered_at  # a day alone keeps the time on record
        if latest is not None and not correcting and moment < latest.ordered_at:
            errors["order_on"] = _(
                "An extension cannot precede the order it extends (%(date)s)."
            ) % {"date": deadlines.local_date(latest.ordered_at).isoformat()}
        if errors:
            raise ValidationError(errors)
        facts = (court, case_number, moment, until)
        if (
            latest is not None
            and (
                latest.court,
                latest.case_number,
                latest.ordered_at,
                latest.until,
            )
            == facts
        ):
            return ALREADY_SO
        if latest is None and (
            placement.court_name,
            placement.court_case_number,
            placement.court_order_on,
            placement.court_order_until,
        ) == (court, case_number, order_on, until):
            return ALREADY_SO  # recorded before orders had rows of their own
        if correcting:
            order = latest
            order.court, order.ordered_at, order.until = court, moment, until
            order.save(update_fields=["court", "ordered_at", "until"])
        else:
            order = DetentionOrder.objects.create(
                application=case,
                placement=placement,
                # An order on record before orders had rows counts as the first one.
                is_extension=latest is not None or placement.court_order_on is not None,
                court=court,
                case_number=case_number,
                ordered_at=moment,
                until=until,
            )
        placement.court_name = court
        placement.court_case_number = case_number
        placement.court_order_on = order_on
        placement.court_order_until = until
        placement.review_due = until
        placement.save(
            update_fields=[
                "court_name",
                "court_case_number",
                "court_order_on",
                "court_order_until",
                "review_due",
            ]
        )
        deadlines.meet_deadlines(case, DeadlineRule.StopEvent.COURT_ORDER, moment, actor=actor)
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.COURT_ORDER_UNTIL,
            deadlines.at_noon(until),
            actor=actor,
            placement=placement,
        )
        _reviewed(case, placement, moment, actor=actor)
        return [], {
            "placement": placement.pk,
            "order": order.pk,
            "order_on": order_on.isoformat(),
            "ordered_at": moment.isoformat(),
            "until": until.isoformat(),
            "extension": order.is_extension,
            "corrected": correcting,
        }

    return _record_action(application, actor=actor, action="court_order", apply=apply)


# ------------------------------------------------------------------------------------------
# Ending a detention by a review or a court: a release, or the placement alone
# ------------------------------------------------------------------------------------------


def _end_detention(
    application: Application | int,
    *,
    actor: User,
    action: str,
    reason: str,
    day: dt.date,
    check: Callable[[Application], Placement],
    record: Callable[[Application, Placement], dict[str, Any]],
) -> Application:
    """A review or a court ended the detention on `day`: `check(case)` validates the inputs
    against the locked case and returns the detention; `record(case, placement)` writes the
    review or the appeal's result and returns the event's data.

    A case in detention is released (the `release` transition, back to examination). A case
    decided negatively whose detention stayed open keeps its status: the placement ends."""
    reason = _require_reason(reason)
    moment = deadlines.day_moment(day, timezone.now())
    pk = application.pk if isinstance(application, Application) else application
    status = Application.objects.filter(pk=pk).values_list("status", flat=True).first()

    def effects(case: Application, _kwargs: dict[str, Any], at: dt.datetime) -> None:
        placement = case.open_detention()
        data = record(case, placement)
        record_event(case, kind=CaseEvent.Kind.RECORD, action=action, actor=actor, at=at, data=data)
        _end_placement(case, placement, at, actor=actor, reason=reason)

    if status == Status.DETENTION:
        return _run_transition(
            pk,
            "release",
            actor=actor,
            expected_status=Status.DETENTION,
            reason=reason,
            at=moment,
            prepare=lambda case: check(case) and {},
            effects=effects,
        )

    def apply(case: Application):
        if case.status == Status.DETENTION:
            raise StaleCase(_("This case changed while you were looking at it."))
        placement = check(case)
        data = record(case, placement)
        _end_placement(case, placement, moment, actor=actor, reason=reason)
        return [], data

    return _record_action(pk, actor=actor, action=action, apply=apply, reason=reason, at=moment)


# ------------------------------------------------------------------------------------------
# Periodic reviews
# ------------------------------------------------------------------------------------------


@retried
def record_detention_review(
    application: Application | int,
    *,
    actor: User,
    reviewed_on: dt.date,
    reviewed_by: str,
    result: str,
    reason: str = "",
) -> Application:
    """A periodic review of the detention (RCD 2024/1346 Art. 11(3); RCD 2013/33 Art. 9(5))
    by a court or authority: the review clock is met and runs again from the review; a
    review that ends the detention releases the person (`reason` is then required)."""
    reviewed_by = _text(reviewed_by)

    def check(case: Application) -> Placement:
        placement = _detention_of(case)
        errors: dict[str, str] = {}
        last = DetentionReview.objects.filter(placement=placement).order_by("-reviewed_on").first()
        _check_day(
            errors,
            "reviewed_on",
            reviewed_on,
            missing=_("Give the date of the review."),
            since=last.reviewed_on if last else deadlines.local_date(placement.starts_at),
            early=_("A review cannot precede the detention or its last review (%(date)s)."),
        )
        _named(
            errors,
            "reviewed_by",
            reviewed_by,
            NAME_LIMIT,
            _("Name the court or authority that reviewed it (under 200 characters)."),
        )
        if result not in DetentionReview.Result.values:
            errors["result"] = _("Choose the result of the review.")
        if errors:
            raise ValidationError(errors)
        return placement

    def record(case: Application, placement: Placement) -> dict[str, Any]:
        review = DetentionReview.objects.create(
            application=case,
            placement=placement,
            reviewed_on=reviewed_on,
            reviewed_by=reviewed_by,
            result=result,
        )
        return {
            "placement": placement.pk,
            "review": review.pk,
            "reviewed_on": reviewed_on.isoformat(),
            "result": result,
        }

    if result == DetentionReview.Result.ENDED:
        return _end_detention(
            application,
            actor=actor,
            action="detention_reviewed",
            reason=reason,
            day=reviewed_on if _is_day(reviewed_on) else timezone.localdate(),
            check=check,
            record=record,
        )

    def apply(case: Application):
        placement = check(case)
        data = record(case, placement)
        _reviewed(case, placement, deadlines.day_moment(reviewed_on, timezone.now()), actor=actor)
        return [], data

    return _record_action(
        application,
        actor=actor,
        action="detention_reviewed",
        apply=apply,
        reason=(reason or "").strip()[:5000],
    )


# ------------------------------------------------------------------------------------------
# The appeal against detention
# ------------------------------------------------------------------------------------------


@retried
def lodge_detention_appeal(
    application: Application | int,
    *,
    actor: User,
    lodged_on: dt.date,
    court: str,
    case_number: str = "",
) -> Application:
    """The detainee appealed against the detention to `court` on `lodged_on`."""
    court = _text(court)
    case_number = _text(case_number)

    def apply(case: Application):
        placement = _detention_of(case)
        errors: dict[str, str] = {}
        _check_day(
            errors,
            "lodged_on",
            lodged_on,
            missing=_("Give the date the appeal was lodged."),
            since=deadlines.local_date(placement.starts_at),
            early=_("An appeal against detention cannot precede the detention (%(date)s)."),
        )
        _named(errors, "court", court, NAME_LIMIT, _("Name the court (under 200 characters)."))
        if len(case_number) > NUMBER_LIMIT:
            errors["case_number"] = _("Keep the court's case number under 100 characters.")
        if errors:
            raise ValidationError(errors)
        if DetentionAppeal.objects.filter(
            placement=placement, lodged_on=lodged_on, court=court, case_number=case_number
        ).exists():
            return ALREADY_SO
        appeal = DetentionAppeal.objects.create(
            application=case,
            placement=placement,
            lodged_on=lodged_on,
            court=court,
            case_number=case_number,
        )
        return [], {
            "placement": placement.pk,
            "appeal": appeal.pk,
            "lodged_on": lodged_on.isoformat(),
        }

    return _record_action(application, actor=actor, action="detention_appeal_lodged", apply=apply)


@retried
def record_detention_appeal_result(
    application: Application | int,
    *,
    actor: User,
    appeal: DetentionAppeal | int,
    result: str,
    decided_on: dt.date,
    reason: str = "",
) -> Application:
    """The court decided the appeal against detention: detention ended (the person is
    released, if still detained under it; `reason` is then required) or upheld."""
    appeal_pk = appeal.pk if isinstance(appeal, DetentionAppeal) else appeal
    pk = application.pk if isinstance(application, Application) else application

    def validated(case: Application) -> DetentionAppeal | None:
        found = (
            DetentionAppeal.objects.select_for_update()
            .filter(pk=appeal_pk, application=case)
            .first()
            if isinstance(appeal_pk, int) and 0 < appeal_pk < 2**63
            else None
        )
        if found is None:
            raise ValidationError({"appeal": _("Choose an appeal against detention of this case.")})
        if found.result:
            if (found.result, found.decided_on) == (result, decided_on):
                return None
            raise TransitionForbidden(_("The result of this appeal is already recorded."))
        errors: dict[str, str] = {}
        _check_day(
            errors,
            "decided_on",
            decided_on,
            missing=_("Give the date of the court's decision."),
            since=found.lodged_on,
            early=_("The decision cannot precede the appeal (%(date)s)."),
        )
        if result not in DetentionAppeal.Result.values:
            errors["result"] = _("Choose the court's result.")
        if errors:
            raise ValidationError(errors)
        return found

    def record(found: DetentionAppeal) -> dict[str, Any]:
        found.result, found.decided_on = result, decided_on
        found.save(update_fields=["result", "decided_on"])
        return {
            "placement": found.placement_id,
            "appeal": found.pk,
            "result": result,
            "decided_on": decided_on.isoformat(),
        }

    # Which way it goes (a release, or a record alone) is checked again under the lock.
    detained_under = (
        isinstance(appeal_pk, int)
        and 0 < appeal_pk < 2**63
        and DetentionAppeal.objects.filter(
            pk=appeal_pk,
            application_id=pk,
            placement__regime=Placement.Regime.DETENTION,
            placement__ends_at__isnull=True,
        ).exists()
    )
    if result == DetentionAppeal.Result.ENDED and detained_under:
        state: dict[str, DetentionAppeal] = {}

        def check(case: Application) -> Placement:
            found = validated(case)
            if found is None:
                raise TransitionForbidden(_("The result of this appeal is already recorded."))
            placement = _detention_of(case)
            if placement.pk != found.placement_id:
                raise StaleCase(_("This case changed while you were looking at it."))
            state["appeal"] = found
            return placement

        return _end_detention(
            pk,
            actor=actor,
            action="detention_appeal_decided",
            reason=reason,
            day=decided_on if _is_day(decided_on) else timezone.localdate(),
            check=check,
            record=lambda case, placement: record(state["appeal"]),
        )

    def apply(case: Application):
        found = validated(case)
        if found is None:
            return ALREADY_SO
        return [], record(found)

    return _record_action(
        pk,
        actor=actor,
        action="detention_appeal_decided",
        apply=apply,
        reason=(reason or "").strip()[:5000],
    )


# ------------------------------------------------------------------------------------------
# Alternatives to detention
# ------------------------------------------------------------------------------------------


def _alternative_facility(case: Application, facility: Facility | None) -> Facility:
    """The facility where the person lives under the alternative: in use, of open
    accommodation (reception or mixed), with a free place (its row locked, as `detain`)."""
    place = (
        Facility.objects.select_for_update(no_key=True)
        .filter(pk=getattr(facility, "pk", None))
        .first()
    )
    if place is None or not place.is_active or place.kind == Facility.Kind.DETENTION:
        raise ValidationError({"facility": _("Choose a reception facility in use.")})
    errors: dict[str, str] = {}
    _check_free_place(case, place, errors)
    if errors:
        raise ValidationError(errors)
    return place


@retried
def apply_alternative(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    measure: str,
    facility: Facility,
    legal_basis: str,
    order_reference: str = "",
    ordering_authority: str = "",
    at: dt.datetime | None = None,
) -> Application:
    """Apply an alternative to detention (`measure`: a duty to report, residence in a
    designated place) at `facility`, where the person lives: a placement of regime
    restricted, which ends the current placement. A detainee is released onto it (the
    `release` transition); otherwise the case keeps its status. The cap on restrictions of
    liberty counted from entry runs on (or opens) with it."""
    legal_basis = _text(legal_basis)
    order_reference = _text(order_reference)
    ordering_authority = _text(ordering_authority)
    state: dict[str, Any] = {}

    def check(case: Application) -> None:
        errors: dict[str, str] = {}
        if measure not in Placement.Alternative.values:
            errors["measure"] = _("Choose the alternative to detention.")
        _named(
            errors,
            "legal_basis",
            legal_basis,
            BASIS_LIMIT,
            _("Give the legal basis of the alternative (under 300 characters)."),
        )
        if len(order_reference) > NUMBER_LIMIT or len(ordering_authority) > NAME_LIMIT:
            errors["order_reference"] = _("One of the fields is too long.")
        if errors:
            raise ValidationError(errors)
        state["facility"] = _alternative_facility(case, facility)

    def place(case: Application, moment: dt.datetime) -> Placement:
        current = case.current_placement()
        if current is not None:
            if current.regime in (Placement.Regime.DETENTION, Placement.Regime.RESTRICTED):
                deadlines.hold_restriction_cap(case, current)
            _end_placement(
                case, current, moment, actor=actor, reason=_("An alternative to detention applies.")
            )
        placement = _start_placement(
            case,
            actor=actor,
            moment=moment,
            facility=state["facility"],
            regime=Placement.Regime.RESTRICTED,
            alternative=measure,
            legal_basis=legal_basis,
            ordering_authority=ordering_authority,
            order_reference=order_reference,
        )
        deadlines.follow_restriction_cap(case, placement, actor=actor, at=moment)
        return placement

    if expected_status == Status.DETENTION:
        return _run_transition(
            application,
            "release",
            actor=actor,
            expected_status=expected_status,
            reason=reason,
            at=at,
            prepare=lambda case: check(case) or {},
            effects=lambda case, _kwargs, moment: place(case, moment) and None,
        )
    reason = _require_reason(reason)

    def apply(case: Application):
        if case.status != expected_status:
            raise StaleCase(
                _(
                    "This case changed while you were looking at it: it is now “%(now)s”. "
                    "Nothing was changed; reload the case and try again."
                )
                % {"now": case.get_status_display()}
            )
        if case.status == Status.DETENTION:
            raise TransitionForbidden(_("The applicant is in detention."))
        check(case)
        placement = place(case, at or timezone.now())
        return [], {"placement": placement.pk, "alternative": measure}

    return _record_action(
        application,
        actor=actor,
        action="alternative_applied",
        apply=apply,
        reason=reason,
        at=at,
    )


@retried
def end_alternative(
    application: Application | int,
    *,
    actor: User,
    reason: str,
    ended_on: dt.date | None = None,
) -> Application:
    """End the alternative to detention on `ended_on` (default: now): its placement ends and
    with it the cap clock it holds (met)."""
    reason = _require_reason(reason)

    def apply(case: Application):
        placement = case.open_alternative()
        if placement is None:
            raise TransitionForbidden(_("No alternative to detention applies to this case."))
        moment = timezone.now()
        if ended_on is not None:
            errors: dict[str, str] = {}
            _check_day(
                errors,
                "ended_on",
                ended_on,
                missing=_("Give the date the alternative ended."),
                since=deadlines.local_date(placement.starts_at),
                early=_("The alternative cannot end before it started (%(date)s)."),
            )
            if errors:
                raise ValidationError(errors)
            moment = deadlines.day_moment(ended_on, moment)
        _end_placement(case, placement, moment, actor=actor, reason=reason)
        return [], {"placement": placement.pk, "alternative": placement.alternative}

    return _record_action(
        application, actor=actor, action="alternative_ended", apply=apply, reason=reason
    )
