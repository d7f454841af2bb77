"""Verbs about the person behind the case: the vulnerability (special-needs) assessment,
the age assessment, the representative of an unaccompanied minor and the legal
representative.

Each verb locks the case, checks the actor's role and unit, writes a `CaseEvent` that points
at the case (never copying the categories, which are health and other special-category
data, nor names: the case keeps them and retention redacts them) and meets the clocks it
stops. The assessments and the lodging keep the representative's clock (DOMAIN.md §3 row 20)
in step with what is known: open while an unaccompanied minor has no representative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import deadlines
from ..conflicts import retried
from ..models import Application, Deadline, DeadlineRule
from ..validators import day_problem
from . import ALREADY_SO, _record_action

NAME_LIMIT = 200
CONTACT_LIMIT = 300


def _text(value) -> str:
    return (value or "").replace("\x00", "").strip() if isinstance(value, str | None) else ""


def _check_day(errors: dict[str, str], name: str, day, case: Application, missing: str) -> None:
    """A day of the person's record: given, not before the application was made, not in the
    future."""
    early = _("This date is before the application was made (%(date)s).")
    if problem := day_problem(day, missing=missing, since=case.submitted_on, early=early):
        errors[name] = problem


def follow_representative_clock(case: Application, *, actor: User | None, at: dt.datetime):
    """Keep the clock of DOMAIN.md §3 row 20 in step with the case (called with the case
    locked): while an unaccompanied minor has no representative and the application is
    lodged, the clock runs from the lodging (opened once: a clock met, missed or waived is
    not opened again); when an assessment finds that the person is not an unaccompanied
    minor, a running clock is cancelled. Appointing the representative meets it."""
    event = DeadlineRule.StartEvent.UNACCOMPANIED_MINOR
    rows = Deadline.objects.filter(application=case, rule__start_event=event)
    running = list(rows.running().select_related("rule"))
    if case.needs_representative():
        if case.lodged_on is None or running:
            return
        if rows.exclude(status=Deadline.Status.CANCELLED).exists():
            return
        deadlines.open_deadlines(
            case, event, deadlines.at_noon(case.lodged_on), actor=actor, at=max(at, timezone.now())
        )
    elif running and not case.is_unaccompanied_minor():
        for family in {d.rule.family_name for d in running}:
            deadlines.cancel_family(case, family, at, actor=actor)


@retried
def record_vulnerability_assessment(
    application: Application | int,
    *,
    actor: User,
    assessed_on: dt.date,
    categories: Iterable[str],
    assessor: str,
) -> Application:
    """Record the vulnerability assessment (the categories of the Reception Conditions
    Directive found, possibly none), its date and who assessed. Meets the assessment's time
    limit (30 days from the making of the application under the APR, RCD 2024 Art. 25(1)).
    A later assessment replaces the earlier one; both stay on the timeline."""
    codes = sorted({(c or "").strip() for c in categories or [] if (c or "").strip()})
    assessor = (assessor or "").replace("\x00", "").strip()

    def apply(case: Application):
        errors: dict[str, str] = {}
        unknown = [c for c in codes if c not in Application.Vulnerability.values]
        if unknown:
            errors["categories"] = _("Unknown category: %(codes)s.") % {"codes": ", ".join(unknown)}
        if problem := day_problem(
            assessed_on,
            missing=_("Give the date of the assessment."),
            since=case.submitted_on,
            early=_("An assessment cannot precede the application."),
        ):
            errors["assessed_on"] = problem
        if not assessor or len(assessor) > 200:
            errors["assessor"] = _("Name who assessed (under 200 characters).")
        if errors:
            raise ValidationError(errors)
        value = ",".join(codes)
        if (case.vulnerabilities, case.vulnerability_assessed_on, case.vulnerability_assessor) == (
            value,
            assessed_on,
            assessor,
        ):
            return ALREADY_SO
        case.vulnerabilities = value
        case.vulnerability_assessed_on = assessed_on
        case.vulnerability_assessor = assessor
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.VULNERABILITY_ASSESSED,
            deadlines.day_moment(assessed_on, timezone.now()),
            actor=actor,
        )
        follow_representative_clock(case, actor=actor, at=timezone.now())
        fields = ["vulnerabilities", "vulnerability_assessed_on", "vulnerability_assessor"]
        return fields, {"assessed_on": assessed_on.isoformat(), "categories": len(codes)}

    return _record_action(application, actor=actor, action="vulnerability_assessed", apply=apply)


@retried
def record_age_assessment(
    application: Application | int,
    *,
    actor: User,
    method: str,
    assessed_on: dt.date,
    result: str,
    benefit_of_doubt: bool = False,
    unaccompanied: bool = False,
) -> Application:
    """Record the age assessment: its method, date and result, whether the benefit of the
    doubt was applied (the person is then treated as a minor) and whether the person is
    unaccompanied; the assessor is the acting user. A later assessment replaces the
    earlier one; both stay on the timeline (which copies the codes, never free text).

    A minor found unaccompanied without a representative opens the representative's clock;
    an adult found cancels it."""
    benefit, alone = bool(benefit_of_doubt), bool(unaccompanied)

    def apply(case: Application):
        errors: dict[str, str] = {}
        if method not in Application.AgeMethod.values:
            errors["method"] = _("Choose how the age was assessed.")
        if result not in Application.AgeResult.values:
            errors["result"] = _("Choose the result of the age assessment.")
        elif result == Application.AgeResult.ADULT and benefit:
            errors["benefit_of_doubt"] = _(
                "The benefit of the doubt treats the applicant as a minor: it cannot go with "
                "the result “adult”."
            )
        _check_day(errors, "assessed_on", assessed_on, case, _("Give the date of the assessment."))
        if errors:
            raise ValidationError(errors)
        values = {
            "age_assessment_method": method,
            "age_assessed_on": assessed_on,
            "age_assessed_by_id": actor.pk,
            "age_assessment_result": result,
            "age_benefit_of_doubt": benefit,
            "age_unaccompanied": alone,
        }
        if all(getattr(case, name) == value for name, value in values.items()):
            return ALREADY_SO
        for name, value in values.items():
            setattr(case, name, value)
        follow_representative_clock(case, actor=actor, at=timezone.now())
        fields = [name.removesuffix("_id") for name in values]
        return fields, {
            "assessed_on": assessed_on.isoformat(),
            "method": method,
            "result": result,
            "benefit_of_doubt": benefit,
            "unaccompanied": alone,
        }

    return _record_action(application, actor=actor, action="age_assessed", apply=apply)


@retried
def appoint_representative(
    application: Application | int,
    *,
    actor: User,
    name: str,
    appointed_on: dt.date,
    appointed_by: str,
    organisation: str = "",
) -> Application:
    """Record the guardian or representative of an unaccompanied minor: who (name and
    organisation), appointed when and by which authority. Meets the representative's clock
    (DOMAIN.md §3 row 20), or records it missed when the appointment came late. A new
    appointment replaces the earlier one; the timeline keeps both (without the names)."""
    name, organisation, appointed_by = _text(name), _text(organisation), _text(appointed_by)

    def apply(case: Application):
        errors: dict[str, str] = {}
        if not name or len(name) > NAME_LIMIT:
            errors["name"] = _("Give the representative's name (up to 200 characters).")
        if len(organisation) > NAME_LIMIT:
            errors["organisation"] = _("Up to 200 characters.")
        if not appointed_by or len(appointed_by) > NAME_LIMIT:
            errors["appointed_by"] = _(
                "Name the authority that appointed the representative (up to 200 characters)."
            )
        _check_day(
            errors, "appointed_on", appointed_on, case, _("Give the date of the appointment.")
        )
        if errors:
            raise ValidationError(errors)
        values = {
            "representative_name": name,
            "representative_organisation": organisation,
            "representative_appointed_on": appointed_on,
            "representative_appointed_by": appointed_by,
        }
        if all(getattr(case, field) == value for field, value in values.items()):
            return ALREADY_SO
        changed = bool(case.representative_appointed_on)
        for field, value in values.items():
            setattr(case, field, value)
        deadlines.meet_deadlines(
            case,
            DeadlineRule.StopEvent.REPRESENTATIVE_APPOINTED,
            deadlines.day_moment(appointed_on, timezone.now()),
            actor=actor,
        )
        return list(values), {"appointed_on": appointed_on.isoformat(), "changed": changed}

    return _record_action(application, actor=actor, action="representative_appointed", apply=apply)


@retried
def record_legal_representative(
    application: Application | int,
    *,
    actor: User,
    name: str,
    organisation: str = "",
    contact: str = "",
) -> Application:
    """Record or change the applicant's legal representative (name, organisation, contact).
    The timeline says that it was recorded or changed, never who (names are personal data
    that retention redacts on the case)."""
    name, organisation, contact = _text(name), _text(organisation), _text(contact)

    def apply(case: Application):
        errors: dict[str, str] = {}
        if not name or len(name) > NAME_LIMIT:
            errors["name"] = _("Give the legal representative's name (up to 200 characters).")
        if len(organisation) > NAME_LIMIT:
            errors["organisation"] = _("Up to 200 characters.")
        if len(contact) > CONTACT_LIMIT:
            errors["contact"] = _("Up to 300 characters.")
        if errors:
            raise ValidationError(errors)
        values = {
            "legal_representative_name": name,
            "legal_representative_organisation": organisation,
            "legal_representative_contact": contact,
        }
        if all(getattr(case, field) == value for field, value in values.items()):
            return ALREADY_SO
        changed = bool(case.legal_representative_name)
        for field, value in values.items():
            setattr(case, field, value)
        return list(values), {"changed": changed}

    return _record_action(
        application, actor=actor, action="legal_representative_recorded", apply=apply
    )
