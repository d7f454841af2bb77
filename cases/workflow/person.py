"""Verbs about the person behind the case: the vulnerability (special-needs) assessment.

Each verb locks the case, checks the actor's role and unit, writes a `CaseEvent` that points
at the case (never copying the categories, which are health and other special-category
data: the case keeps them and retention redacts them) and meets the clocks it stops.
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
from ..models import Application, DeadlineRule
from . import ALREADY_SO, _record_action


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
        if not isinstance(assessed_on, dt.date):
            errors["assessed_on"] = _("Give the date of the assessment.")
        elif assessed_on < case.submitted_on:
            errors["assessed_on"] = _("An assessment cannot precede the application.")
        elif assessed_on > timezone.localdate():
            errors["assessed_on"] = _("This date is in the future.")
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
        fields = ["vulnerabilities", "vulnerability_assessed_on", "vulnerability_assessor"]
        return fields, {"assessed_on": assessed_on.isoformat(), "categories": len(codes)}

    return _record_action(application, actor=actor, action="vulnerability_assessed", apply=apply)
