"""Everything that changes a case goes through here.

One function per verb. A transition function takes the case, the actor, the status the actor
saw, a reason and the transition's own data, and then, in one database transaction:

1. locks the case row (`SELECT ... FOR NO KEY UPDATE`: the lock order is in `cases.audit`);
2. refuses if the case is no longer in the status the actor saw (`StaleCase`, HTTP 409),
   even where the transition would also be allowed from the new status;
3. refuses if the transition does not start from this status, the actor may not run it, or a
   condition on the case is not met (`TransitionForbidden`, HTTP 403, with the reason);
4. checks the transition's inputs (`django.core.exceptions.ValidationError`, per field);
5. runs the django-fsm transition and saves with the concurrent-transition guard;
6. writes the `CaseEvent`, opens, meets or cancels deadlines, and notifies the assignee.

Views, the admin, management commands, tasks and the seed import call these functions and
nothing else. No function here knows about requests. Each verb is one unit of work: when its
transaction loses a lock conflict to another, it runs again as a whole (`conflicts.retried`).

This is a package so that it can grow by area (house style 16): a new area's verbs go into a
submodule (`cases/workflow/<area>.py`) that takes the shared steps from here, and are
re-exported at the end of this module, so callers keep writing `workflow.<verb>(...)`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from accounts import roles
from accounts.models import User

from .. import deadlines, notifications, predicates, uploads
from ..audit import caused_by, record_event
from ..conflicts import retried
from ..models import (
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    DeadlineRule,
    Document,
    Facility,
    Note,
    Placement,
    ReferenceCounter,
    Status,
)
from ..validators import clean_language, day_problem, validate_past_date

__all__ = [
    "StaleCase",
    "TransitionForbidden",
    "WorkflowError",
    "add_document",
    "add_note",
    "appeal",
    "assign",
    "bring_up_to_date",
    "available_transitions",
    "close",
    "correct_record",
    "decide",
    "detain",
    "intake",
    "record_court_order",
    "record_interview",
    "record_judgment",
    "record_service",
    "release",
    "remit",
    "start_examination",
    "submit_application",
    "waive_deadline",
    "withdraw",
]


class WorkflowError(Exception):
    """A refused change. `status_code` says how HTTP callers answer it."""

    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionForbidden(WorkflowError):
    """This actor may not do this to the case now (role, unit, state or a condition)."""

    status_code = 403


class StaleCase(WorkflowError):
    """The case changed since the actor looked at it."""

    status_code = 409


# ------------------------------------------------------------------------------------------
# Which transitions a user may run, and why the others are blocked
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TransitionOption:
    name: str
    label: str
    help_text: str
    target: str
    blocked_reason: str | None  # None: the user may run it now

    @property
    def allowed(self) -> bool:
        return self.blocked_reason is None


def _transition_meta(name: str):
    if name not in TRANSITION_NAMES_SET:
        raise TransitionForbidden(_("There is no such transition."))
    return getattr(Application, name)._django_fsm


TRANSITION_NAMES_SET = frozenset(
    t.name for t in Application._meta.get_field("status").get_all_transitions(Application)
)


def blocked_reason(application: Application, name: str, user: User) -> str | None:
    """Why `user` may not run transition `name` on the case as it is; None if they may."""
    meta = _transition_meta(name)
    transition = meta.get_transition(application.status)
    if transition is None:
        return _("Not possible while the case is “%(status)s”.") % {
            "status": application.get_status_display()
        }
    if transition.permission is not None:
        refusal = predicates.refusal(user, transition.permission, application)
        if refusal:
            return refusal
    extra = EXTRA_PERMISSIONS.get(name)
    if extra is not None and extra[0](application):
        refusal = predicates.refusal(user, extra[1], application)
        if refusal:
            return refusal
    for condition in transition.conditions:
        if not condition(application):
            return str(getattr(condition, "message", _("A condition is not met.")))
    return None


# Transitions that need a further permission on some cases: (when, permission). Detaining
# an unaccompanied minor is for a decision-maker, who records why it is a last resort
# (RCD 2013/33 Art. 11(2)-(3); issue 17).
EXTRA_PERMISSIONS: dict[str, tuple[Callable[[Application], bool], str]] = {
    "detain": (Application.is_unaccompanied_minor, "cases.detain_minor"),
}


def available_transitions(application: Application, user: User) -> list[TransitionOption]:
    """The transitions that start from the case's status, each allowed or with its reason.

    Transitions this user could never run on this case (another role's) are listed with the
    reason too, so the page can say "only a decision-maker may decide" instead of hiding it.
    """
    options = []
    seen: set[str] = set()
    for t in Application._meta.get_field("status").get_all_transitions(Application):
        if t.name in seen or t.source != application.status:
            continue
        if t.name == "reopen" and application.withdrawal != Application.Withdrawal.IMPLICIT:
            continue  # only an implicit withdrawal has a reopening window to speak of
        seen.add(t.name)
        options.append(
            TransitionOption(
                name=t.name,
                label=str(t.custom.get("label", t.name)),
                help_text=str(t.custom.get("help_text", "")),
                target=str(t.target),
                blocked_reason=blocked_reason(application, t.name, user),
            )
        )
    order = {name: i for i, name in enumerate(TRANSITION_ORDER)}
    return sorted(options, key=lambda o: order.get(o.name, 99))


TRANSITION_ORDER = (
    "start_examination",
    "detain",
    "intake",
    "release",
    "decide",
    "appeal",
    "remit",
    "close",
    "withdraw",
    "reopen",
)


# ------------------------------------------------------------------------------------------
# The shared skeleton
# ------------------------------------------------------------------------------------------


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _fold_for_reports(application_id: int) -> None:
    """Fold the case's new events into the report rows, in the change's own transaction
    (`reports.folding`): the rows commit or roll back with the change, like the stored
    counts, so a report never counts a change that did not happen nor misses one that did."""
    from reports.folding import fold_case

    fold_case(application_id)


def _lock(application: Application | int) -> Application:
    """Lock the case row for a change: step 1 of the lock order (`cases.audit`).

    `FOR NO KEY UPDATE` of the case row alone (not the applicant or unit joined in): a
    change never alters the keys that other rows point at, and this mode lets the foreign-key
    checks of concurrent access records through instead of deadlocking with them.
    """
    pk = application.pk if isinstance(application, Application) else application
    return (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("applicant", "unit")
        .get(pk=pk)
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why (this is recorded on the case's timeline).")})
    if len(reason) > 5000:
        raise ValidationError({"reason": _("Keep the reason under 5,000 characters.")})
    return reason


def _run_transition(
    application: Application | int,
    name: str,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    at: dt.datetime | None,
    prepare: Callable[[Application], dict[str, Any]] | None = None,
    effects: Callable[[Application, dict[str, Any], dt.datetime], dict[str, Any]] | None = None,
    update_fields: tuple[str, ...] = (),
) -> Application:
    """Lock, check, transition, save, record, and run the transition's effects.

    `prepare(case)` validates the inputs against the locked case and returns the keyword
    arguments of the model's transition method; `effects(case, kwargs, at)` creates and ends
    placements and deadlines and returns extra event data.
    """
    reason = _require_reason(reason)
    moment = _now(at)
    with transaction.atomic():
        case = _lock(application)
        if case.status != expected_status:
            raise StaleCase(
                _(
                    "This case changed while you were looking at it: it is now “%(now)s”, "
                    "not “%(seen)s”. Nothing was changed; reload the case and try again."
                )
                % {
                    "now": case.get_status_display(),
                    "seen": Status(expected_status).label
                    if expected_status in Status.values
                    else expected_status,
                }
            )
        refusal = blocked_reason(case, name, actor)
        if refusal:
            raise TransitionForbidden(refusal)
        kwargs = prepare(case) if prepare else {}
        from_status = case.status
        getattr(case, name)(**kwargs)
        case.status_changed_at = moment
        try:
            case.save(update_fields=["status", "status_changed_at", "updated_at", *update_fields])
        except ConcurrentTransition as exc:  # pragma: no cover - the row lock prevents it
            raise StaleCase(_("This case changed while you were looking at it.")) from exc
        data = {"transition": name}
        data.update({k: _plain(v) for k, v in kwargs.items() if k in _EVENT_FIELDS})
        event = record_event(
            case,
            kind=CaseEvent.Kind.TRANSITION,
            action=name,
            actor=actor,
            at=moment,
            from_status=from_status,
            to_status=case.status,
            reason=reason,
            data=data,
        )
        if effects:
            with caused_by(name):
                effects(case, kwargs, moment)
        _fold_for_reports(case.pk)
        notifications.case_changed(case, event, actor=actor)
    return case


# Transition inputs that are safe to copy into an event (codes, dates, ids; no free text).
_EVENT_FIELDS = {
    "outcome",
    "decided_on",
    "served_on",
    "lodged_on",
    "suspensive_effect",
    "kind",
    "assignee",
    "inadmissibility_ground",
}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _check_worker_action(
    case: Application, actor: User, permission: str = "cases.work_on_case"
) -> None:
    refusal = predicates.refusal(actor, permission, case)
    if refusal:
        raise TransitionForbidden(refusal)


_INTAKE_DATES = ("submitted_on", "lodged_on", "apprehended_on", "entered_on")


def _check_past_dates(dates: dict[str, Any]) -> None:
    """Dates of what has happened: none before 1900 or after today (`validate_past_date`)."""
    errors: dict[str, list[ValidationError]] = {}
    for name, value in dates.items():
        if isinstance(value, dt.date):
            try:
                validate_past_date(value)
            except ValidationError as error:
                errors[name] = [error]
    if errors:
        raise ValidationError(errors)


def _not_in_future(value: dt.date | None, field: str) -> None:
    if value and value > timezone.localdate():
        raise ValidationError({field: _("This date is in the future.")})


# ------------------------------------------------------------------------------------------
# Creating a case
# ------------------------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"LT-{year}-{counter.last:06d}"


@retried
def submit_application(
    *,
    actor: User,
    applicant: Applicant | None = None,
    applicant_data: dict[str, Any] | None = None,
    unit=None,
    at: dt.datetime | None = None,
    reason: str = "",
    source: str = "",
    **fields: Any,
) -> Application:
    """Create a case in status `submitted`, with a new applicant or an existing one.

    `source` names where the case came from when it was not typed in (for example the key of
    a sample case file); it is kept on the submission event.

    Opens the clocks that run from the making of the application (registration,
    examination, right to work); a `lodged_on` date meets the registration limit.
    """
    unit = unit or actor.unit
    if unit is None:
        raise ValidationError({"unit": _("Choose the unit responsible for the case.")})
    if not actor.is_superuser and (
        actor.unit_id != unit.pk
        or not (actor.has_role(roles.CASEWORKER) or actor.has_role(roles.DECISION_MAKER))
    ):
        raise TransitionForbidden(
            _("Only a caseworker or decision-maker of the unit may open a case.")
        )
    submitted_on = fields.get("submitted_on")
    if not isinstance(submitted_on, dt.date):
        raise ValidationError({"submitted_on": _("Give the date the application was made.")})
    _check_past_dates(
        {
            **{name: fields.get(name) for name in _INTAKE_DATES},
            "date_of_birth": (applicant_data or {}).get("date_of_birth"),
        }
    )
    apprehended_at = fields.get("apprehended_at")
    if apprehended_at is not None:
        if not isinstance(apprehended_at, dt.datetime) or timezone.is_naive(apprehended_at):
            raise ValidationError({"apprehended_at": _("Give the date and time of apprehension.")})
        if apprehended_at > timezone.now():
            raise ValidationError({"apprehended_at": _("This moment is in the future.")})
        fields.setdefault("apprehended_on", None)
        fields["apprehended_on"] = fields["apprehended_on"] or deadlines.local_date(apprehended_at)
    _check_previous_application(fields, applicant)
    moment = at or deadlines.at_noon(submitted_on)
    with transaction.atomic():
        if applicant is None:
            applicant = Applicant(**(applicant_data or {}))
            applicant.full_clean()
            applicant.save()
        case = Application(applicant=applicant, unit=unit, status_changed_at=moment, **fields)
        case.reference = "pending"
        case.full_clean(exclude=["status", "reference"])
        case.reference = _next_reference(submitted_on.year)
        case.save(force_insert=True)
        record_event(
            case,
            kind=CaseEvent.Kind.TRANSITION,
            action="submit",
            actor=actor,
            at=moment,
            to_status=case.status,
            reason=reason or _("Application registered."),
            data={
                "applicant": applicant.pk,
                "submitted_on": submitted_on.isoformat(),
                **({"seed": source} if source else {}),
                **(
                    {"previous_application": case.previous_application_id}
                    if case.previous_application_id
                    else {}
                ),
            },
        )
        with caused_by("submit"):
            deadlines.open_deadlines(case, DeadlineRule.StartEvent.SUBMITTED, moment, actor=actor)
            if case.lodged_on:
                lodged = max(deadlines.at_noon(case.lodged_on), moment)
                deadlines.meet_deadlines(case, DeadlineRule.StopEvent.LODGED, lodged, actor=actor)
                deadlines.open_deadlines(
                    case,
                    DeadlineRule.StartEvent.LODGED,
                    deadlines.at_noon(case.lodged_on),
                    actor=actor,
                )
        _fold_for_reports(case.pk)
    return case


def _check_previous_application(fields: dict[str, Any], applicant: Applicant | None) -> None:
    """A subsequent application names the applicant's earlier case, made before it; only a
    subsequent application names one."""
    previous = fields.get("previous_application")
    subsequent = fields.get("procedure") == Application.Procedure.SUBSEQUENT
    if subsequent and previous is None:
        raise ValidationError(
            {"procedure": _("A subsequent application names the applicant's earlier case.")}
        )
    if previous is None:
        return
    if not subsequent:
        raise ValidationError(
            {"procedure": _("Only a subsequent application names an earlier case.")}
        )
    if (
        not isinstance(previous, Application)
        or applicant is None
        or previous.applicant_id != applicant.pk
        or previous.submitted_on > fields["submitted_on"]
    ):
        raise ValidationError(
            {"procedure": _("The earlier case must be the same applicant's, made before.")}
        )


@retried
def intake(
    *,
    actor: User,
    assign_to_author: bool = False,
    relative_reference: str = "",
    relation: str = "",
    **kwargs: Any,
) -> Application:
    """Intake, as the page and the API do it: `submit_application(**kwargs)` and, with
    `assign_to_author`, the new case's assignment to its author; with `relative_reference`
    and `relation`, the new applicant's family link to the applicant of that case
    (`link_family`). All or nothing: a wrong reference leaves no case behind."""
    if bool((relative_reference or "").strip()) != bool(relation):
        missing = "relation" if not relation else "relative_reference"
        raise ValidationError(
            {missing: _("Give both the family member's case reference and the relation.")}
        )
    with transaction.atomic():
        case = submit_application(actor=actor, **kwargs)
        if assign_to_author:
            case = assign(case, actor=actor, assignee=actor)
        if relation:
            link_family(case, actor=actor, relative_reference=relative_reference, relation=relation)
    return case


# ------------------------------------------------------------------------------------------
# Transitions
# ------------------------------------------------------------------------------------------


def _check_assignee(case: Application, assignee: User | None, field: str = "assignee") -> None:
    """`assignee` (or the person named in `field`) must be an active caseworker or
    decision-maker of the case's unit."""
    if assignee is None:
        return
    if not (
        isinstance(assignee, User)
        and assignee.is_active
        and assignee.unit_id == case.unit_id
        and (assignee.has_role(roles.CASEWORKER) or assignee.has_role(roles.DECISION_MAKER))
    ):
        raise ValidationError(
            {field: _("Choose an active caseworker or decision-maker of the case's unit.")}
        )


@retried
def start_examination(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    assignee: User | None = None,
    self_assign: bool = True,
    at: dt.datetime | None = None,
) -> Application:
    """Begin the examination and assign a caseworker (the acting one by default, unless
    `self_assign` is off).

    The examination clock already runs from the making of the application. A case cannot be
    examined before it is lodged: if no lodging date is on record, the day examination starts
    is recorded as the lodging date and the registration limit is met (or missed) then.
    """

    def prepare(case: Application) -> dict[str, Any]:
        chosen = assignee
        if (
            chosen is None
            and self_assign
            and case.assigned_to_id is None
            and actor.unit_id == case.unit_id
        ):
            chosen = actor
        _check_assignee(case, chosen)
        return {"assignee": chosen}

    def effects(case: Application, _kwargs: dict[str, Any], moment: dt.datetime) -> None:
        if case.lodged_on is None:
            case.lodged_on = max(deadlines.local_date(moment), case.submitted_on)
            case.save(update_fields=["lodged_on"])
            deadlines.meet_deadlines(case, DeadlineRule.StopEvent.LODGED, moment, actor=actor)
            deadlines.open_deadlines(case, DeadlineRule.StartEvent.LODGED, moment, actor=actor)
            # An unaccompanied minor found before the lodging: the representative's clock.
            follow_representative_clock(case, actor=actor, at=moment)

    return _run_transition(
        application,
        "start_examination",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
        update_fields=("assigned_to",),
    )


def _check_free_place(case: Application, place: Facility, errors: dict[str, str]) -> None:
    """`place` (its row locked by the caller) has a free place for the case's person; the
    place the person holds there now counts as free."""
    current = case.current_placement()
    taken = place.occupancy() - (1 if current and current.facility_id == place.pk else 0)
    if taken >= place.capacity:
        errors["facility"] = _("%(name)s is full (%(taken)s of %(capacity)s places).") % {
            "name": place.name,
            "taken": taken,
            "capacity": place.capacity,
        }


@retried
def detain(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    facility: Facility,
    legal_basis: str,
    order_reference: str,
    ordering_authority: str = "",
    last_resort_reason: str = "",
    at: dt.datetime | None = None,
) -> Application:
    """Place the applicant in detention at `facility`.

    Checks that the facility takes detainees and has a free place (the facility row is
    locked, so two detentions cannot take the last place at once); ends any current
    open placement (an alternative to detention hands its cap clock over); opens the
    48-hour court-order limit, the periodic review and the cap on restrictions of liberty
    counted from entry. An unaccompanied minor is detained only by a decision-maker
    (`EXTRA_PERMISSIONS`) who says why it is a last resort (`last_resort_reason`, shown on
    the timeline and the case page).
    """
    legal_basis = (legal_basis or "").strip()
    order_reference = (order_reference or "").strip()
    last_resort_reason = (last_resort_reason or "").replace("\x00", "").strip()
    state: dict[str, Any] = {}

    def prepare(case: Application) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if not legal_basis:
            errors["legal_basis"] = _("Give the legal basis of the detention.")
        if case.is_unaccompanied_minor():
            if not last_resort_reason:
                errors["last_resort_reason"] = _(
                    "The applicant is an unaccompanied minor: say why detention is a last "
                    "resort (no less coercive measure can be applied)."
                )
            elif len(last_resort_reason) > 5000:
                errors["last_resort_reason"] = _("Keep the reason under 5,000 characters.")
        # A case recorded after the fact (`recorded_as_of`) may not know the order's number.
        if not order_reference and case.recorded_as_of is None:
            errors["order_reference"] = _("Give the reference of the detention order.")
        locked = Facility.objects.select_for_update(no_key=True).filter(
            pk=getattr(facility, "pk", None)
        )
        place = locked.first()
        if place is None or not place.is_active:
            errors["facility"] = _("Choose a facility in use.")
        elif place.kind == Facility.Kind.RECEPTION:
            errors["facility"] = _(
                "%(name)s is a reception centre; it does not hold detainees."
            ) % {"name": place.name}
        else:
            _check_free_place(case, place, errors)
        if errors:
            raise ValidationError(errors)
        state["facility"] = place
        return {}

    def effects(case: Application, _kwargs: dict[str, Any], moment: dt.datetime) -> None:
        current = case.current_placement()
        if current is not None:
            if current.regime == Placement.Regime.RESTRICTED:
                deadlines.hold_restriction_cap(case, current)
            _end_placement(case, current, moment, actor=actor, reason=_("Moved to detention."))
        placement = _start_placement(
            case,
            actor=actor,
            moment=moment,
            facility=state["facility"],
            regime=Placement.Regime.DETENTION,
            legal_basis=legal_basis[:300],
            ordering_authority=(ordering_authority or "").strip()[:200],
            order_reference=order_reference[:100],
            last_resort_reason=last_resort_reason if case.is_unaccompanied_minor() else "",
        )
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.DETAINED,
            deadlines.deprived_of_liberty_at(case, placement),
            actor=actor,
            placement=placement,
            at=moment,
        )
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.DETENTION_REVIEW,
            placement.starts_at,
            actor=actor,
            placement=placement,
            at=moment,
        )
        deadlines.follow_restriction_cap(case, placement, actor=actor, at=moment)

    if len(legal_basis) > 300 or len(order_reference) > 100 or len(ordering_authority or "") > 200:
        raise ValidationError(_("One of the fields is too long."))
    return _run_transition(
        application,
        "detain",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
    )


def _start_placement(
    case: Application,
    *,
    actor: User,
    moment: dt.datetime,
    facility: Facility,
    regime: str,
    **facts: Any,
) -> Placement:
    """A placement of `regime` at `facility` starts at `moment`, on the timeline (the event
    names the regime and, for an alternative to detention, the alternative)."""
    placement = Placement.objects.create(
        application=case, facility=facility, regime=regime, starts_at=moment, **facts
    )
    data = {"placement": placement.pk, "facility": facility.pk, "regime": regime}
    if placement.alternative:
        data["alternative"] = placement.alternative
    if placement.last_resort_reason:
        data["last_resort"] = True
    record_event(
        case, kind=CaseEvent.Kind.PLACEMENT, action="placed", actor=actor, at=moment, data=data
    )
    return placement


def _end_placement(
    case: Application, placement: Placement, moment: dt.datetime, *, actor: User, reason: str
) -> None:
    placement.ends_at = max(moment, placement.starts_at)
    placement.end_reason = reason
    placement.save(update_fields=["ends_at", "end_reason"])
    record_event(
        case,
        kind=CaseEvent.Kind.PLACEMENT,
        action="ended",
        actor=actor,
        at=moment,
        data={"placement": placement.pk, "facility": placement.facility_id},
    )
    deadlines.end_placement_deadlines(case, placement, moment, actor=actor)


@retried
def release(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    released_on: dt.date | None = None,
    facility: Facility | None = None,
    at: dt.datetime | None = None,
) -> Application:
    """End detention on `released_on` (default: now); the case returns to examination
    (assigned or not, as it was). With `facility` (a reception or mixed facility with a free
    place), the person goes to open accommodation there: a placement of regime
    accommodation starts when the detention ends; without it, the person leaves with no
    placement."""
    if released_on is not None and at is None:
        if not isinstance(released_on, dt.date):
            raise ValidationError({"released_on": _("Give the date of release.")})
        _not_in_future(released_on, "released_on")
        at = deadlines.day_moment(released_on, timezone.now())

    def prepare(case: Application) -> dict[str, Any]:
        errors: dict[str, str] = {}
        detention = case.open_detention()
        if (
            released_on is not None
            and detention is not None
            and released_on < deadlines.local_date(detention.starts_at)
        ):
            errors["released_on"] = _("A release cannot precede the detention.")
        if facility is not None:
            place = Facility.objects.filter(pk=facility.pk, is_active=True).first()
            if place is None or place.kind not in (Facility.Kind.RECEPTION, Facility.Kind.MIXED):
                errors["facility"] = _("Choose a reception facility in use.")
            elif (
                place.occupancy() - (1 if detention and detention.facility_id == place.pk else 0)
                >= place.capacity
            ):
                errors["facility"] = _("%(name)s is full (%(capacity)s places).") % {
                    "name": place.name,
                    "capacity": place.capacity,
                }
        if errors:
            raise ValidationError(errors)
        return {}

    def effects(case: Application, _kwargs: dict[str, Any], moment: dt.datetime) -> None:
        placement = case.open_detention()
        if placement is not None:
            _end_placement(case, placement, moment, actor=actor, reason=reason.strip())
        if facility is not None:
            _start_placement(
                case,
                actor=actor,
                moment=moment,
                facility=facility,
                regime=Placement.Regime.ACCOMMODATION,
            )

    return _run_transition(
        application,
        "release",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
    )


@retried
def decide(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    outcome: str,
    decided_on: dt.date,
    served_on: dt.date | None = None,
    inadmissibility_ground: str = "",
    return_decision_reference: str = "",
    at: dt.datetime | None = None,
) -> Application:
    """Record the first-instance decision (decision-makers only; an interview or its
    reasoned waiver must be on record). Meets the examination limit; a positive decision
    ends detention; a served decision opens the appeal window of the decision's outcome
    and the case's procedure.

    An inadmissibility decision names its ground; a negative decision may carry the
    reference of the return decision that follows it.
    """
    ground = (inadmissibility_ground or "").strip()
    return_reference = (return_decision_reference or "").replace("\x00", "").strip()

    def prepare(case: Application) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if outcome not in Application.Outcome.values:
            errors["outcome"] = _("Choose the decision.")
        elif outcome == Application.Outcome.INADMISSIBLE:
            if ground not in Application.InadmissibilityGround.values:
                errors["inadmissibility_ground"] = _("Choose the ground of inadmissibility.")
        elif ground:
            errors["inadmissibility_ground"] = _(
                "Only an inadmissibility decision has a ground of inadmissibility."
            )
        if return_reference and outcome not in Application.NEGATIVE_OUTCOMES:
            errors["return_decision_reference"] = _(
                "A return decision follows only a negative decision."
            )
        elif len(return_reference) > 100:
            errors["return_decision_reference"] = _("Keep the reference under 100 characters.")
        if problem := day_problem(
            decided_on,
            missing=_("Give the date of the decision."),
            since=case.submitted_on,
            early=_("A decision cannot precede the application."),
        ):
            errors["decided_on"] = problem
        if served_on is not None and isinstance(decided_on, dt.date):
            if served_on < decided_on:
                errors["served_on"] = _("A decision cannot be served before it is taken.")
            elif served_on > timezone.localdate():
                errors["served_on"] = _("This date is in the future.")
        if errors:
            raise ValidationError(errors)
        return {
            "outcome": outcome,
            "decided_on": decided_on,
            "served_on": served_on,
            "inadmissibility_ground": ground,
            "return_decision_reference": return_reference,
        }

    def effects(case: Application, kwargs: dict[str, Any], moment: dt.datetime) -> None:
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.DECIDED,
            deadlines.day_moment(decided_on, moment),
            actor=actor,
        )
        if outcome in Application.POSITIVE_OUTCOMES:
            # Protection granted: a border procedure (appeal included, APR) ends here.
            deadlines.meet_deadlines(
                case,
                DeadlineRule.StopEvent.BORDER_ENDED,
                deadlines.day_moment(decided_on, moment),
                actor=actor,
            )
            # Protection ends detention and any alternative to it.
            placement = case.open_detention() or case.open_alternative()
            if placement is not None:
                _end_placement(
                    case, placement, moment, actor=actor, reason=_("Protection granted.")
                )
        if served_on:
            deadlines.open_deadlines(
                case, DeadlineRule.StartEvent.SERVED, deadlines.at_noon(served_on), actor=actor
            )

    return _run_transition(
        application,
        "decide",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
        update_fields=(
            "decision_outcome",
            "decided_on",
            "served_on",
            "inadmissibility_ground",
            "return_decision_reference",
        ),
    )


@retried
def remit(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    judgment_final_on: dt.date,
    at: dt.datetime | None = None,
) -> Application:
    """The court sent the case back: examination again, within 3 months of the judgment
    becoming final (re-examination limit)."""

    def prepare(case: Application) -> dict[str, Any]:
        if not isinstance(judgment_final_on, dt.date):
            raise ValidationError(
                {"judgment_final_on": _("Give the date the judgment became final.")}
            )
        latest = case.latest_appeal()
        if latest and judgment_final_on < (latest.judgment_on or latest.lodged_on):
            raise ValidationError(
                {
                    "judgment_final_on": _(
                        "A judgment cannot become final before it is given or the appeal lodged."
                    )
                }
            )
        _not_in_future(judgment_final_on, "judgment_final_on")
        return {}

    def effects(case: Application, kwargs: dict[str, Any], moment: dt.datetime) -> None:
        deadlines.cancel_open_deadlines(case, moment, actor=actor, keep_detention=True)
        deadlines.open_deadlines(
            case,
            DeadlineRule.StartEvent.REMITTED,
            deadlines.at_noon(judgment_final_on),
            actor=actor,
        )

    return _run_transition(
        application,
        "remit",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
        update_fields=("decision_outcome", "inadmissibility_ground"),
    )


@retried
def close(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    at: dt.datetime | None = None,
) -> Application:
    """Close a decided case whose decision is final (judgment recorded or window passed)."""

    def effects(case: Application, kwargs: dict[str, Any], moment: dt.datetime) -> None:
        # The decision is final: a border procedure that counts the appeal in ends now.
        deadlines.meet_deadlines(case, DeadlineRule.StopEvent.BORDER_ENDED, moment, actor=actor)
        deadlines.cancel_open_deadlines(case, moment, actor=actor)

    return _run_transition(
        application,
        "close",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        effects=effects,
    )


@retried
def withdraw(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    kind: str,
    at: dt.datetime | None = None,
) -> Application:
    """Explicit or implicit withdrawal: ends any placement and cancels open deadlines."""

    def prepare(case: Application) -> dict[str, Any]:
        if kind not in Application.Withdrawal.values:
            raise ValidationError({"kind": _("Choose explicit or implicit withdrawal.")})
        return {"kind": kind}

    def effects(case: Application, kwargs: dict[str, Any], moment: dt.datetime) -> None:
        current = case.current_placement()
        if current is not None:
            _end_placement(case, current, moment, actor=actor, reason=_("Application withdrawn."))
        deadlines.cancel_open_deadlines(case, moment, actor=actor)
        if kind == Application.Withdrawal.IMPLICIT:
            _open_reopening_window(case, moment, actor=actor)

    return _run_transition(
        application,
        "withdraw",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        prepare=prepare,
        effects=effects,
        update_fields=("withdrawal",),
    )


def _open_reopening_window(case: Application, moment: dt.datetime, *, actor: User) -> None:
    """An implicit withdrawal discontinues the examination; the applicant may have it
    reopened until the last day of the reopening window of the rule in force (APD
    Art. 28(2): at least 9 months). The day is kept on the case (it is the applicant's
    window, not a limit on the authority: nothing is due or overdue when it passes)."""
    rules = deadlines.applicable_rules(case, DeadlineRule.StartEvent.IMPLICITLY_WITHDRAWN)
    if not rules:
        return
    rule = rules[0]
    case.reopen_until, _due_at = deadlines.rule_due(rule, moment)
    case.save(update_fields=["reopen_until"])
    record_event(
        case,
        kind=CaseEvent.Kind.RECORD,
        action="reopening_window",
        actor=actor,
        at=moment,
        data={"reopen_until": case.reopen_until.isoformat(), "rule": rule.code},
    )


TRANSITIONS: dict[str, Callable[..., Application]] = {
    "start_examination": start_examination,
    "detain": detain,
    "release": release,
    "decide": decide,
    "remit": remit,
    "close": close,
    "withdraw": withdraw,
}


# ------------------------------------------------------------------------------------------
# Actions that change no state
# ------------------------------------------------------------------------------------------


def _record_action(
    application: Application | int,
    *,
    actor: User,
    action: str,
    apply: Callable[[Application], tuple[list[str], dict[str, Any]] | None],
    reason: str = "",
    kind: str = CaseEvent.Kind.RECORD,
    permission: str = "cases.work_on_case",
    at: dt.datetime | None = None,
) -> Application:
    """Lock, check the actor's role and unit, apply the change, save, record the event.

    `apply(case)` returns the fields it changed and the event's data, or `ALREADY_SO` when
    the case already says what the actor records (a double-click, a repeated request): then
    nothing is saved and no second event is written.
    """
    moment = _now(at)
    with transaction.atomic():
        case = _lock(application)
        _check_worker_action(case, actor, permission)
        if case.status in (Status.CLOSED, Status.WITHDRAWN) and action not in _ALLOWED_WHEN_ENDED:
            raise TransitionForbidden(_("The case has ended; it can no longer be changed."))
        with caused_by(action):
            outcome = apply(case)
        if outcome is ALREADY_SO:
            return case
        fields, data = outcome
        if fields:
            case.save(update_fields=[*fields, "updated_at"])
        record_event(
            case, kind=kind, action=action, actor=actor, at=moment, reason=reason, data=data
        )
        if kind == CaseEvent.Kind.RECORD:
            _fold_for_reports(case.pk)
    return case


_ALLOWED_WHEN_ENDED = {"note_added", "document_added"}

# What `apply` returns when the case already records the fact: nothing to save or record.
ALREADY_SO = None
# A note or document the same person added to the same case this recently, with the same
# text or bytes, is the same submission arriving twice (a double-click, a resent form).
REPEAT_WINDOW = dt.timedelta(minutes=2)


@retried
def assign(
    application: Application | int, *, actor: User, assignee: User | None, reason: str = ""
) -> Application:
    """Assign the case to a caseworker of its unit, or unassign it (decision-makers). A
    caseworker may assign an unassigned case of their unit to themselves (`cases.take_case`).
    """

    changed: list[bool] = []

    def apply(case: Application):
        if case.assigned_to_id == (assignee.pk if assignee else None):
            return ALREADY_SO
        _check_assignee(case, assignee)
        case.assigned_to = assignee
        changed.append(True)
        return ["assigned_to"], {"assignee": assignee.pk if assignee else None}

    case = _record_action(
        application,
        actor=actor,
        action="assigned",
        apply=apply,
        reason=reason,
        permission=(
            "cases.take_case"
            if assignee is not None and assignee.pk == actor.pk
            else "cases.decide_case"
        ),
    )
    if changed and assignee is not None and assignee.pk != actor.pk:
        transaction.on_commit(
            lambda: notifications.notify(
                assignee,
                # Built in the assignee's language, not the actor's.
                lambda: _("Case %(ref)s was assigned to you.") % {"ref": case.reference},
                case,
            )
        )
    return case


@retried
def bring_up_to_date(application: Application | int, *, actor: User, reason: str) -> Application:
    """Take over a case recorded after the fact: the caseworker has recorded the current
    facts (corrections, transitions, notes) and says so. The record stops being history
    (`recorded_as_of` cleared): its open clocks become live, count as due or overdue and
    remind from now on. On the timeline with the reason and the date the record reflected."""
    reason = _require_reason(reason)

    def apply(case: Application):
        if case.recorded_as_of is None:
            return ALREADY_SO
        as_of = case.recorded_as_of
        case.recorded_as_of = None
        deadlines.refresh_next_deadline(case)
        # Its clocks are live now: check them at once, as after any change.
        transaction.on_commit(
            partial(notifications.enqueue_task, notifications.CHECK_CASE_TASK, case.pk),
            robust=True,
        )
        return ["recorded_as_of"], {"recorded_as_of": as_of.isoformat()}

    return _record_action(
        application, actor=actor, action="brought_up_to_date", apply=apply, reason=reason
    )


@retried
def record_interview(
    application: Application | int,
    *,
    actor: User,
    interviewed_on: dt.date | None = None,
    waiver_reason: str = "",
    interview: Any = None,
    record: Any = None,
) -> Application:
    """Record the personal interview held, or the reason it was waived.

    With `interview` (a scheduled interview of the case, or its id) the interview is closed
    as held, on `interviewed_on` or else its scheduled day, with its `record` (a document of
    the case of the kind "interview record"), and the case's `interviewed_on` is set from
    it (`interviews.hold_interview`). Without one, the date is recorded on the case alone:
    an interview held before Haven scheduled interviews, or not scheduled in it; once an
    interview is recorded held, its date comes from the interviews only.
    """
    from .interviews import has_held_interview, hold_interview

    waiver_reason = (waiver_reason or "").strip()

    def apply(case: Application):
        if interview not in (None, ""):
            if waiver_reason:
                raise ValidationError(
                    {"waiver_reason": _("An interview held is not waived: leave the reason empty.")}
                )
            return hold_interview(case, interview, interviewed_on, record)
        if record not in (None, ""):
            raise ValidationError({"record": _("Choose the interview the record belongs to.")})
        if not interviewed_on and not waiver_reason:
            raise ValidationError(
                {"interviewed_on": _("Give the interview's date or the reason it was waived.")}
            )
        if interviewed_on:
            if interviewed_on < case.submitted_on:
                raise ValidationError(
                    {"interviewed_on": _("An interview cannot precede the application.")}
                )
            _not_in_future(interviewed_on, "interviewed_on")
        waiver = "" if interviewed_on else waiver_reason
        if (case.interviewed_on, case.interview_waiver_reason) == (interviewed_on, waiver):
            return ALREADY_SO
        if has_held_interview(case):
            raise ValidationError(
                {
                    "interview": _(
                        "An interview scheduled on this case was held: record or correct it "
                        "as that interview."
                    )
                }
            )
        case.interviewed_on = interviewed_on
        case.interview_waiver_reason = waiver
        data = {"interviewed_on": interviewed_on.isoformat() if interviewed_on else None}
        return ["interviewed_on", "interview_waiver_reason"], data

    return _record_action(
        application,
        actor=actor,
        action="interview_recorded",
        apply=apply,
        reason=waiver_reason,
    )


@retried
def record_service(
    application: Application | int,
    *,
    actor: User,
    served_on: dt.date,
    method: str = "",
    language: str = "",
) -> Application:
    """The decision was served on the applicant: on which day, how (`Application.
    ServiceMethod`) and in which language it was translated or explained. The appeal window
    opens from the day of service (its rules are chosen as before). A service recorded
    without its method (by `decide`, or before the method was kept) may have the method and
    language added for the same day; another day is refused."""
    method = (method or "").strip() if isinstance(method, str) else method

    def apply(case: Application):
        if case.status != Status.DECIDED:
            raise TransitionForbidden(_("Only a decided case can have its decision served."))
        errors: dict[str, str] = {}
        if not isinstance(served_on, dt.date) or isinstance(served_on, dt.datetime):
            errors["served_on"] = _("Give the date of service.")
        if method and method not in Application.ServiceMethod.values:
            errors["method"] = _("Choose how the decision was served.")
        try:
            spoken = clean_language(language, required=False)
        except ValidationError as error:
            errors["language"] = error.messages[0]
        if errors:
            raise ValidationError(errors)
        details = (method or case.service_method, spoken or case.service_language)
        if case.served_on and case.served_on == served_on:
            if details == (case.service_method, case.service_language):
                return ALREADY_SO
        elif case.served_on:
            raise TransitionForbidden(_("The service of the decision is already recorded."))
        if case.decided_on and served_on < case.decided_on:
            raise ValidationError(
                {"served_on": _("A decision cannot be served before it is taken.")}
            )
        _not_in_future(served_on, "served_on")
        first = case.served_on is None
        case.served_on = served_on
        case.service_method, case.service_language = details
        if first:
            deadlines.open_deadlines(
                case, DeadlineRule.StartEvent.SERVED, deadlines.at_noon(served_on), actor=actor
            )
        data = {"served_on": served_on.isoformat(), "method": case.service_method}
        return ["served_on", "service_method", "service_language"], data

    return _record_action(application, actor=actor, action="served", apply=apply)


@retried
def waive_deadline(deadline: Deadline, *, actor: User, reason: str) -> Deadline:
    """A decision-maker waives an open deadline, with a reason."""
    reason = _require_reason(reason)
    with transaction.atomic():
        case = _lock(deadline.application_id)
        _check_worker_action(case, actor, "cases.decide_case")
        locked = Deadline.objects.select_for_update(no_key=True).get(pk=deadline.pk)
        if locked.status != Deadline.Status.OPEN:
            raise StaleCase(_("This deadline is no longer open."))
        locked.application = case
        deadlines.waive_deadline(locked, actor=actor, reason=reason)
        _fold_for_reports(case.pk)
    return locked


@retried
def add_note(application: Application | int, *, actor: User, text: str) -> Note:
    """Add a note. The timeline points at the note; it does not copy its text."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    if len(text) > 20_000:
        raise ValidationError({"text": _("Keep a note under 20,000 characters.")})
    holder: dict[str, Note] = {}

    def apply(case: Application):
        repeat = Note.objects.filter(
            application=case,
            author=actor,
            text=text,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        ).first()
        if repeat is not None:
            holder["note"] = repeat
            return ALREADY_SO
        holder["note"] = Note.objects.create(application=case, author=actor, text=text)
        return [], {"note": holder["note"].pk}

    _record_action(
        application, actor=actor, action="note_added", apply=apply, kind=CaseEvent.Kind.NOTE
    )
    return holder["note"]


@retried
def add_document(
    application: Application | int,
    *,
    actor: User,
    file: File,
    original_name: str,
    content_type: str = "",
    description: str = "",
    kind: str = Document.Kind.OTHER,
    title: str = "",
    at: dt.datetime | None = None,
) -> Document:
    """Store a document with its checksum; the same file twice on one case is refused.

    `kind` is its type (`Document.Kind`), `title` the name a reader knows it by (the file's
    name when empty).

    The file is checked by `cases.uploads.check_upload` before anything is written: its size,
    its type judged by its bytes (the stored content type is the sniffed one; the
    `content_type` a browser claimed is ignored), and an extension that does not match the
    content. A refused file raises `ValidationError({"file": ...})` and leaves nothing behind.
    The bytes go to the document store (`haven.storage`: MEDIA_ROOT or S3), which must then
    report the same SHA-256; a store that does not answer or holds other bytes is a
    `ValidationError` too, with no row and no stored file.
    """
    from haven import storage  # boto3 is imported only by processes that store documents

    original_name = uploads.clean_original_name(original_name)
    description = (description or "").replace("\x00", "").strip()
    if len(description) > 300:
        raise ValidationError({"description": _("Keep the description under 300 characters.")})
    title = " ".join((title or "").replace("\x00", "").split())
    if len(title) > 200:
        raise ValidationError({"title": _("Keep the title under 200 characters.")})
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": _("Choose the type of document.")})
    checked = uploads.check_upload(file, original_name=original_name)
    size = checked.size
    content_type = checked.content_type
    holder: dict[str, Document] = {}

    def apply(case: Application):
        sha = checked.sha256
        existing = Document.objects.filter(application=case, sha256=sha).first()
        if existing is not None:
            if (
                existing.uploaded_by_id == actor.pk
                and existing.original_name == original_name
                and existing.uploaded_at >= timezone.now() - REPEAT_WINDOW
            ):
                holder["document"] = existing  # the same upload sent twice
                return ALREADY_SO
            raise ValidationError({"file": _("This file is already on the case.")})
        document = Document(
            application=case,
            original_name=original_name,
            content_type=content_type,
            size=size,
            sha256=sha,
            description=description,
            kind=kind,
            title=title,
            uploaded_by=actor,
        )
        if at:
            document.uploaded_at = at
        try:
            storage.store_document(document.file, original_name, file, sha256=sha)
        except storage.DocumentStoreError as exc:
            raise ValidationError(
                {
                    "file": _(
                        "The document store is not answering, so the document was not saved. "
                        "Nothing was added to the case: try again in a few minutes."
                    )
                }
            ) from exc
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError as exc:
            storage.delete_quietly(document.file.storage, document.file.name)
            raise ValidationError({"file": _("This file is already on the case.")}) from exc
        holder["document"] = document
        return [], {"document": document.pk, "sha256": sha, "size": size}

    try:
        _record_action(
            application,
            actor=actor,
            action="document_added",
            apply=apply,
            kind=CaseEvent.Kind.DOCUMENT,
            at=at,
        )
    except Exception:
        stored = holder.get("document")
        if stored is not None and stored.file:
            storage.delete_quietly(stored.file.storage, stored.file.name)
        raise
    return holder["document"]


# ------------------------------------------------------------------------------------------
# Corrections of the record
# ------------------------------------------------------------------------------------------

# The application's facts recorded at intake (the intake form asks for exactly these).
INTAKE_FIELDS = (
    "procedure",
    "submitted_on",
    "lodged_on",
    "apprehended_on",
    "apprehension_place",
    "entered_on",
    "submission_place",
    "submission_authority",
    "grounds",
    "claim_summary",
)
# What a superuser may correct: the intake's facts and whose case it is (the admin's change
# form edits exactly these).
CORRECTABLE_FIELDS = ("applicant", *INTAKE_FIELDS, "apprehended_at")
# Dates recorded by later steps: correctable once recorded, never set or removed here (the
# step that records them also moves the case and its clocks).
CORRECTABLE_STEP_DATES = ("interviewed_on", "decided_on", "served_on")
# Free text is personal data: the correction event names the field, never copies the text.
_TEXT_FACTS = {"apprehension_place", "submission_place", "claim_summary"}
_DATE_FACTS = {"apprehended_on", "entered_on", "submitted_on", "lodged_on", *CORRECTABLE_STEP_DATES}


def _fact(case: Application, name: str) -> Any:
    return case.applicant_id if name == "applicant" else getattr(case, name)


def apply_correction(case: Application, changes: dict[str, Any]) -> dict[str, Any]:
    """Check `changes` and set them on `case` (in memory; nothing is saved); return those
    that differ from the record. Raises `ValidationError` per field.

    A form calls it on a fresh copy of the row to show errors before it offers to save;
    `correct_record` calls it again on the locked row.
    """
    errors: dict[str, str] = {}
    allowed = {*CORRECTABLE_FIELDS, *CORRECTABLE_STEP_DATES}
    for name in changes:
        if name not in allowed:
            errors[name] = _("This fact cannot be corrected; it changes only through a step.")
    if errors:
        raise ValidationError(errors)
    changed = {
        name: value
        for name, value in changes.items()
        if _fact(case, name) != (value.pk if name == "applicant" and value else value)
    }
    for name, value in changed.items():
        if name in CORRECTABLE_STEP_DATES and _fact(case, name) is None:
            errors[name] = _("Not recorded yet: record it through its step.")
        elif (
            name in _DATE_FACTS
            and value is None
            and _fact(case, name) is not None
            and (name in CORRECTABLE_STEP_DATES or name in ("submitted_on", "lodged_on"))
        ):
            errors[name] = _("A recorded date can be corrected, not removed.")
        elif (
            name == "apprehended_at"
            and value is not None
            and (not isinstance(value, dt.datetime) or timezone.is_naive(value))
        ):
            errors[name] = _("Give the date and time of apprehension.")
        elif name == "apprehended_at" and value is not None and value > timezone.now():
            errors[name] = _("This moment is in the future.")
        elif name in _DATE_FACTS and value is not None and not isinstance(value, dt.date):
            errors[name] = _("Enter a valid date.")
        elif name in _DATE_FACTS and value:
            try:
                validate_past_date(value)
            except ValidationError as error:
                errors[name] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    for name, value in changed.items():
        setattr(case, name, value)
    if changed:
        case.full_clean(exclude=["status"])
    return changed


def _plain_fact(name: str, value: Any) -> Any:
    if name == "applicant":
        return value.pk if value else None
    return _plain(value)


@retried
def correct_record(
    application: Application | int, *, actor: User, reason: str, **changes: Any
) -> Application:
    """Correct facts recorded wrongly on a case (superusers only, with a reason).

    One timeline event lists the fields with their old and new values (free text by name
    only), and every clock that runs from a corrected fact, or was met by one, is computed
    again: open deadlines are re-dated, met and missed ones judged again, each change a
    deadline event. Changing nothing records nothing.
    """
    reason = _require_reason(reason)
    if not (actor.is_authenticated and actor.is_active and actor.is_superuser):
        raise TransitionForbidden(_("Only a superuser may correct a case's record."))
    moment = timezone.now()
    with transaction.atomic():
        case = _lock(application)
        before = {name: _fact(case, name) for name in changes if hasattr(case, name)}
        changed = apply_correction(case, changes)
        if not changed:
            return case
        fields = [case._meta.get_field(name).attname for name in changed]
        case.save(update_fields=[*fields, "updated_at"])
        if "applicant" in changed:
            # The case's former applicant left without a case was this person recorded
            # twice: their family links pass to the applicant now on record.
            carry_links(before["applicant"], case.applicant_id)
        record_event(
            case,
            kind=CaseEvent.Kind.RECORD,
            action="corrected",
            actor=actor,
            at=moment,
            reason=reason,
            data={
                "fields": sorted(changed),
                "changes": {
                    name: {
                        "from": before[name] if name == "applicant" else _plain(before[name]),
                        "to": _plain_fact(name, value),
                    }
                    for name, value in changed.items()
                    if name not in _TEXT_FACTS
                },
            },
        )
        with caused_by("corrected"):
            _recompute_clocks(case, set(changed), actor=actor, at=moment)
        _fold_for_reports(case.pk)
    return case


def _recompute_clocks(case: Application, changed: set[str], *, actor: User, at: dt.datetime):
    """Every clock that starts from, or is met by, a corrected fact (DESIGN: clocks)."""
    start, stop = DeadlineRule.StartEvent, DeadlineRule.StopEvent
    noon = deadlines.at_noon
    if "submitted_on" in changed:
        deadlines.restart_clocks(case, start.SUBMITTED, noon(case.submitted_on), actor=actor, at=at)
    if changed & {"entered_on", "apprehended_on", "submitted_on"}:
        deadlines.restart_clocks(
            case, start.ENTERED, deadlines.entry_moment(case), actor=actor, at=at
        )
    if "lodged_on" in changed and case.lodged_on:
        lodged = noon(case.lodged_on)
        if case.deadlines.filter(rule__start_event=start.LODGED).exists():
            deadlines.restart_clocks(case, start.LODGED, lodged, actor=actor, at=at)
        else:
            deadlines.open_deadlines(case, start.LODGED, lodged, actor=actor, at=at)
        # The representative's clock of an unaccompanied minor runs from the lodging too.
        deadlines.restart_clocks(case, start.UNACCOMPANIED_MINOR, lodged, actor=actor, at=at)
        follow_representative_clock(case, actor=actor, at=at)
    if changed & {"apprehended_on", "apprehended_at"}:
        deadlines.restart_clocks(
            case,
            start.DETAINED,
            lambda d: (
                deadlines.deprived_of_liberty_at(case, d.placement) if d.placement else d.starts_at
            ),
            actor=actor,
            at=at,
        )
    if "served_on" in changed:
        deadlines.restart_clocks(case, start.SERVED, noon(case.served_on), actor=actor, at=at)
    met_by = {"lodged_on": stop.LODGED, "decided_on": stop.DECIDED}
    for name, stop_event in met_by.items():
        if name in changed and getattr(case, name):
            met_at = max(noon(getattr(case, name)), noon(case.submitted_on))
            deadlines.rejudge_stop(case, stop_event, met_at, actor=actor, at=at)


from .procedures import (  # noqa: E402
    accept_by_default,
    channel_procedure,
    determine_responsibility,
    extend_admissibility_examination,
    extend_transfer,
    record_dublin_reply,
    record_transfer,
    send_dublin_request,
    start_dublin,
)

__all__ += [
    "accept_by_default",
    "channel_procedure",
    "determine_responsibility",
    "extend_admissibility_examination",
    "extend_transfer",
    "record_dublin_reply",
    "record_transfer",
    "send_dublin_request",
    "start_dublin",
]

from .person import (  # noqa: E402
    appoint_representative,
    follow_representative_clock,
    record_age_assessment,
    record_legal_representative,
    record_vulnerability_assessment,
)

__all__ += [
    "appoint_representative",
    "record_age_assessment",
    "record_legal_representative",
    "record_vulnerability_assessment",
]

from .interviews import cancel_interview, reschedule_interview, schedule_interview  # noqa: E402

__all__ += ["cancel_interview", "reschedule_interview", "schedule_interview"]

from .withdrawal import implicitly_withdraw, record_missed_interview, reopen  # noqa: E402

TRANSITIONS["reopen"] = reopen
__all__ += ["implicitly_withdraw", "record_missed_interview", "reopen"]

# Areas' verbs, re-exported so that callers write `workflow.<verb>(...)` (house style 16).
from .breakglass import extend_break_glass, open_break_glass, revoke_break_glass  # noqa: E402

__all__ += ["extend_break_glass", "open_break_glass", "revoke_break_glass"]

from .family import carry_links, link_family, unlink_family  # noqa: E402

__all__ += ["link_family", "unlink_family"]

from .appeals import (  # noqa: E402
    appeal,
    appeal_further,
    appeal_transfer_decision,
    record_judgment,
    record_suspensive_effect,
    record_transfer_decision,
)

TRANSITIONS["appeal"] = appeal
__all__ += [
    "appeal_further",
    "appeal_transfer_decision",
    "record_suspensive_effect",
    "record_transfer_decision",
]

from .detention import (  # noqa: E402
    apply_alternative,
    end_alternative,
    lodge_detention_appeal,
    record_court_order,
    record_detention_appeal_result,
    record_detention_review,
)

__all__ += [
    "apply_alternative",
    "end_alternative",
    "lodge_detention_appeal",
    "record_detention_appeal_result",
    "record_detention_review",
]
