"""Family links between applicants (issue 17): a spouse, child, parent or sibling, recorded
from one case and shown on the cases of both people.

A link joins two people, not two cases (a relation holds across a person's subsequent
applications), and is stored once (`FamilyLink`), read from either side with the inverse
relation. Recording or removing it writes an event on both sides: on the case it is done
from, and on the relative's case (the case named when linking; the relative's newest case
when removing). The events hold the link's id and the relation as read from their side,
never a name nor the other case: each page names the relative only to a reader of the
relative's case (`cases.views.family`).

Both verbs lock the two cases (in id order, step 1 of the lock order in `cases.audit`) and
then the two applicants, so that two links of one pair recorded at once from different cases
meet one after the other; the database's one-link-per-pair constraint backs this.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import access
from ..audit import record_event
from ..conflicts import retried
from ..labels import label
from ..models import Applicant, Application, CaseEvent, FamilyLink, Status
from . import TransitionForbidden, _check_worker_action, _fold_for_reports, _require_reason

REFERENCE_LIMIT = 32
ENDED = (Status.CLOSED, Status.WITHDRAWN)


def _lock_cases(*pks: int) -> dict[int, Application]:
    """Lock the case rows in id order (two verbs locking the same two cases never wait for
    each other crosswise), with their applicants."""
    rows = (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("applicant", "unit")
        .filter(pk__in=set(pks))
        .order_by("pk")
    )
    return {case.pk: case for case in rows}


def _lock_people(*pks: int) -> None:
    list(Applicant.objects.select_for_update(no_key=True).filter(pk__in=set(pks)).order_by("pk"))


def link_between(applicant_id: int, other_id: int) -> FamilyLink | None:
    """The link of this pair of people, recorded from either side."""
    return FamilyLink.objects.filter(
        Q(applicant_id=applicant_id, relative_id=other_id)
        | Q(applicant_id=other_id, relative_id=applicant_id)
    ).first()


def links_of(applicant_id: int):
    """Every link of a person, from both sides."""
    return FamilyLink.objects.filter(Q(applicant_id=applicant_id) | Q(relative_id=applicant_id))


def _record(
    case: Application,
    action: str,
    *,
    actor: User,
    at,
    link_pk: int,
    relation: str,
    reason: str = "",
) -> None:
    record_event(
        case,
        kind=CaseEvent.Kind.RECORD,
        action=action,
        actor=actor,
        at=at,
        reason=reason,
        data={"link": link_pk, "relation": relation},
    )
    _fold_for_reports(case.pk)


@retried
def link_family(
    application: Application | int,
    *,
    actor: User,
    relative_reference: str,
    relation: str,
    at: dt.datetime | None = None,
) -> FamilyLink:
    """Record that the applicant of the case named by `relative_reference` is the `relation`
    (spouse, child, parent or sibling) of this case's applicant.

    The actor works on this case (role and unit) and may read the relative's case (the one
    door: a reference the actor may not read is refused exactly like one that does not
    exist). Refused: a case that has ended, the applicant's own case, a pair already linked
    otherwise (one link per pair: neither a duplicate nor a contradiction such as A the
    parent of B and B the parent of A). The same link recorded again changes nothing and
    writes no event (a double click). An event goes on both cases."""
    reference = (relative_reference or "").replace("\x00", "").strip().upper()
    pk = application.pk if isinstance(application, Application) else application
    errors: dict[str, str] = {}
    if relation not in FamilyLink.Relation.values:
        errors["relation"] = _("Choose the relation.")
    relative_case = None
    if not reference or len(reference) > REFERENCE_LIMIT:
        errors["relative_reference"] = _("Give the reference of the family member's case.")
    else:
        relative_case = (
            access.visible_applications(actor).filter(reference=reference).values("pk").first()
        )
        if relative_case is None:
            errors["relative_reference"] = _(
                "No case with this reference that you may read: check the reference."
            )
    if errors:
        raise ValidationError(errors)
    moment = at or timezone.now()
    with transaction.atomic():
        cases = _lock_cases(pk, relative_case["pk"])
        case, other = cases.get(pk), cases.get(relative_case["pk"])
        if case is None or other is None:  # pragma: no cover - deleted meanwhile
            raise ValidationError({"relative_reference": _("This case no longer exists.")})
        _check_worker_action(case, actor)
        if case.status in ENDED:
            raise TransitionForbidden(_("The case has ended; it can no longer be changed."))
        if other.applicant_id == case.applicant_id:
            raise ValidationError(
                {
                    "relative_reference": _(
                        "This case is the same applicant's: a person is not their own family "
                        "member."
                    )
                }
            )
        _lock_people(case.applicant_id, other.applicant_id)
        existing = link_between(case.applicant_id, other.applicant_id)
        if existing is not None:
            _other, seen = existing.seen_from(case.applicant_id)
            if seen == relation:
                return existing
            raise ValidationError(
                {
                    "relation": _(
                        "These applicants are already linked (the family member is the "
                        "applicant's %(relation)s); remove that link first to record another."
                    )
                    % {"relation": label(FamilyLink.Relation, seen).lower()}
                }
            )
        try:
            with transaction.atomic():
                link = FamilyLink.objects.create(
                    applicant_id=case.applicant_id,
                    relative_id=other.applicant_id,
                    relation=relation,
                    recorded_by=actor,
                    recorded_at=moment,
                )
        except IntegrityError:  # pragma: no cover - the applicants' locks prevent it
            raise ValidationError(
                {"relative_reference": _("These applicants are already linked.")}
            ) from None
        _record(case, "family_linked", actor=actor, at=moment, link_pk=link.pk, relation=relation)
        _record(
            other,
            "family_linked",
            actor=actor,
            at=moment,
            link_pk=link.pk,
            relation=FamilyLink.inverse(relation),
        )
    return link


@retried
def unlink_family(
    application: Application | int,
    *,
    actor: User,
    link: FamilyLink | int,
    reason: str,
    at: dt.datetime | None = None,
) -> Application:
    """Remove a family link of this case's applicant (recorded by mistake, or found
    untrue), with the reason. The event goes on this case and on the relative's newest
    case; the link's row is deleted (the events keep its id and relation, not the
    people)."""
    reason = _require_reason(reason)
    link_pk = link.pk if isinstance(link, FamilyLink) else link
    pk = application.pk if isinstance(application, Application) else application
    if not isinstance(link_pk, int) or isinstance(link_pk, bool):
        raise ValidationError({"link": _("Choose the family link to remove.")})
    moment = at or timezone.now()
    missing = ValidationError({"link": _("This case's applicant has no such family link.")})
    with transaction.atomic():
        # Whose link it is, read first (after the actor's right to work on the case), so
        # that both cases are then locked in id order.
        seen_case = Application.objects.select_related("unit").filter(pk=pk).first()
        if seen_case is None:
            raise missing
        _check_worker_action(seen_case, actor)
        row = links_of(seen_case.applicant_id).filter(pk=link_pk).first()
        if row is None:
            raise missing
        newest = (
            Application.objects.filter(applicant_id=row.seen_from(seen_case.applicant_id)[0])
            .order_by("-submitted_on", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        cases = _lock_cases(pk, *([newest] if newest else []))
        case = cases[pk]
        _check_worker_action(case, actor)
        if case.status in ENDED:
            raise TransitionForbidden(_("The case has ended; it can no longer be changed."))
        if case.applicant_id != seen_case.applicant_id:  # pragma: no cover - a correction
            raise missing
        other_id, seen = row.seen_from(case.applicant_id)
        _lock_people(case.applicant_id, other_id)
        if not FamilyLink.objects.filter(pk=row.pk).delete()[0]:
            raise missing  # removed meanwhile (a double click)
        for side, relation in ((case, seen), (cases.get(newest), FamilyLink.inverse(seen))):
            if side is not None:
                _record(
                    side,
                    "family_unlinked",
                    actor=actor,
                    at=moment,
                    link_pk=row.pk,
                    relation=relation,
                    reason=reason,
                )
    return case


def carry_links(old_applicant_id: int, new_applicant_id: int) -> int:
    """After a correction moved a case to another applicant (`correct_record`): when the
    old applicant has no case left, they were the new one recorded twice, so their family
    links pass to the new applicant. A link that would then join the person to themselves,
    or repeat a pair the new applicant already has, is dropped. Called with the case
    locked; returns how many links were moved."""
    if old_applicant_id == new_applicant_id:
        return 0
    if Application.objects.filter(applicant_id=old_applicant_id).exists():
        return 0
    _lock_people(old_applicant_id, new_applicant_id)
    moved = 0
    for link in links_of(old_applicant_id).order_by("pk"):
        other, _relation = link.seen_from(old_applicant_id)
        if other == new_applicant_id or link_between(new_applicant_id, other) is not None:
            link.delete()
            continue
        if link.applicant_id == old_applicant_id:
            link.applicant_id = new_applicant_id
        else:
            link.relative_id = new_applicant_id
        link.save(update_fields=["applicant", "relative"])
        moved += 1
    return moved
