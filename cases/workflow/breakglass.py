"""Emergency ("break-glass") access: a caseworker of another unit opens a case now.

A caseworker or decision-maker of one unit who must act on another unit's case at once (the
applicant stands at their border post at night) asks for access with a reason. The grant
lasts `settings.BREAK_GLASS_HOURS` and lets them read the case; the case's unit's
decision-maker may extend it to work (caseworker steps, notes, documents) until it ends.
The unit's decision-maker (or an administrator) may end a grant before its time, with a
reason. Each grant, extension and early end is an event on the case's timeline; the unit's
decision-makers are told of a grant at once, each in their own language, and the holder of an
extension or an early end.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import User

from .. import notifications, predicates
from ..audit import record_event
from ..conflicts import retried
from ..labels import person
from ..models import Application, BreakGlassGrant, CaseEvent
from . import TransitionForbidden, _lock, _now, _require_reason

__all__ = ["extend_break_glass", "open_break_glass", "revoke_break_glass"]


def _decision_makers(unit_id: int) -> list[User]:
    return list(
        User.objects.filter(unit_id=unit_id, is_active=True, groups__name=roles.DECISION_MAKER)
        .distinct()
        .order_by("pk")
    )


@retried
def open_break_glass(
    application: Application | int, *, actor: User, reason: str, at: dt.datetime | None = None
) -> BreakGlassGrant:
    """Grant `actor`, a caseworker or decision-maker of another unit, read access to the case
    for BREAK_GLASS_HOURS, with a reason (required; on the timeline and the grant).

    Refused (`TransitionForbidden`) for people of the case's own unit, administrators and
    superusers (who read it already) and anyone without a caseworker's role in a unit. While
    the actor already holds a grant in force for the case, that grant is returned and nothing
    is recorded twice (a double-click, a resent form). The case's unit's active
    decision-makers get an in-app notification in the same transaction, in their language;
    it names the case and the person, not the reason (which stays behind the case page).
    """
    reason = _require_reason(reason)
    moment = _now(at)
    with transaction.atomic():
        case = _lock(application)
        if not (actor.is_authenticated and actor.is_active):
            raise TransitionForbidden(_("You are not signed in."))
        if actor.is_superuser or predicates.is_administrator(actor):
            raise TransitionForbidden(_("You may read every case already."))
        if not (actor.unit_id and predicates.works_on_cases(actor)):
            raise TransitionForbidden(
                _("Only a caseworker or decision-maker of a unit may ask for emergency access.")
            )
        if actor.unit_id == case.unit_id:
            raise TransitionForbidden(_("This case is of your own unit: open it directly."))
        existing = (
            BreakGlassGrant.objects.live(moment)
            .filter(user=actor, application=case)
            .order_by("-ends_at")
            .first()
        )
        if existing is not None:
            return existing
        grant = BreakGlassGrant(
            user=actor,
            application=case,
            reason=reason,
            starts_at=moment,
            ends_at=moment + dt.timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        grant.full_clean()
        grant.save(force_insert=True)
        record_event(
            case,
            kind=CaseEvent.Kind.RECORD,
            action="break_glass",
            actor=actor,
            at=moment,
            reason=reason,
            data={
                "grant": grant.pk,
                "unit": actor.unit_id,
                "until": grant.ends_at.isoformat(),
            },
        )
        who = person(actor)
        unit = str(actor.unit)
        for decider in _decision_makers(case.unit_id):
            notifications.notify(
                decider,
                # Built in each decision-maker's language, not the actor's.
                lambda: (
                    _(
                        "Emergency access to %(ref)s: %(who)s (%(unit)s) opened it for "
                        "%(hours)s hours, read-only. The reason is on the case's timeline."
                    )
                    % {
                        "ref": case.reference,
                        "who": who,
                        "unit": unit,
                        "hours": settings.BREAK_GLASS_HOURS,
                    }
                ),
                case,
            )
    predicates.forget_grants(actor)
    return grant


def _lock_grant(
    grant: BreakGlassGrant | int, actor: User, *, administrators_too: bool = False
) -> tuple[Application, BreakGlassGrant]:
    """The grant's case locked (as every change of the case locks it), then the grant, for
    one of the case's unit's decision-makers (`cases.decide_case`), and with
    `administrators_too` for administrators as well (`cases.end_break_glass`); refused
    otherwise."""
    grant_pk = grant.pk if isinstance(grant, BreakGlassGrant) else grant
    application_id = (
        BreakGlassGrant.objects.filter(pk=grant_pk).values_list("application_id", flat=True)
    ).first()
    if application_id is None:
        raise TransitionForbidden(_("There is no such emergency access."))
    case = _lock(application_id)
    if not (actor.is_authenticated and actor.is_active):
        raise TransitionForbidden(_("You are not signed in."))
    perm = "cases.end_break_glass" if administrators_too else "cases.decide_case"
    if not actor.has_perm(perm, case):
        # Why not, in the words of the decision-makers' checks (administrators pass above).
        raise TransitionForbidden(
            predicates.refusal(actor, "cases.decide_case", case) or _("You may not do this.")
        )
    return case, BreakGlassGrant.objects.select_for_update().select_related("user").get(pk=grant_pk)


@retried
def extend_break_glass(
    grant: BreakGlassGrant | int, *, actor: User, reason: str = "", at: dt.datetime | None = None
) -> BreakGlassGrant:
    """Extend a grant in force from reading to working on the case, until it ends (the
    case's unit's decision-makers; `cases.decide_case`). Extending an extended grant changes
    nothing; an ended grant cannot be extended. On the timeline, and the holder is told."""
    moment = _now(at)
    with transaction.atomic():
        case, grant = _lock_grant(grant, actor)
        if grant.extended:
            return grant
        if not grant.is_live(moment):
            raise TransitionForbidden(_("This emergency access has ended; it cannot be extended."))
        grant.extended_by = actor
        grant.extended_at = moment
        grant.save(update_fields=["extended_by", "extended_at"])
        record_event(
            case,
            kind=CaseEvent.Kind.RECORD,
            action="break_glass_extended",
            actor=actor,
            at=moment,
            reason=(reason or "").strip()[:5000],
            data={"grant": grant.pk, "holder": grant.user_id, "until": grant.ends_at.isoformat()},
        )
        holder = grant.user
        if holder.is_active:
            notifications.notify(
                holder,
                lambda: (
                    _(
                        "Your emergency access to %(ref)s was extended to work by %(who)s, "
                        "until it ends."
                    )
                    % {"ref": case.reference, "who": person(actor)}
                ),
                case,
            )
    return grant


@retried
def revoke_break_glass(
    grant: BreakGlassGrant | int, *, actor: User, reason: str, at: dt.datetime | None = None
) -> BreakGlassGrant:
    """End a grant in force before its time, with a reason (required): the case's unit's
    decision-makers (`cases.decide_case`) and administrators. The grant then ends at this
    moment (`ends_at`; the planned end is kept on the timeline event), records who ended it,
    when and why, and its holder is told. Ending an ended grant is refused."""
    reason = _require_reason(reason)
    moment = _now(at)
    with transaction.atomic():
        case, grant = _lock_grant(grant, actor, administrators_too=True)
        if not grant.is_live(moment):
            raise TransitionForbidden(_("This emergency access has already ended."))
        planned_end = grant.ends_at
        # A grant ends after it starts (a constraint): ended in the very moment it began, it
        # lasted a microsecond.
        grant.ends_at = max(moment, grant.starts_at + dt.timedelta(microseconds=1))
        grant.revoked_by = actor
        grant.revoked_at = moment
        grant.revoke_reason = reason
        grant.save(update_fields=["ends_at", "revoked_by", "revoked_at", "revoke_reason"])
        record_event(
            case,
            kind=CaseEvent.Kind.RECORD,
            action="break_glass_revoked",
            actor=actor,
            at=moment,
            reason=reason,
            data={
                "grant": grant.pk,
                "holder": grant.user_id,
                "until": planned_end.isoformat(),
            },
        )
        holder = grant.user
        if holder.is_active:
            notifications.notify(
                holder,
                lambda: (
                    _("Your emergency access to %(ref)s was ended by %(who)s.")
                    % {"ref": case.reference, "who": person(actor)}
                ),
                case,
            )
    predicates.forget_grants(grant.user)
    return grant
