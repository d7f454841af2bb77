"""Verbs of the special procedures: Dublin (the Member State responsible).

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
from ..models import Application, DeadlineRule
from . import ALREADY_SO, TransitionForbidden, _record_action

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
    this opens the examination period of the Dublin rule. A case must be in the Dublin
    procedure; responsibility is recorded once.
    """
    state = (responsible_state or "").strip().upper()

    def apply(case: Application):
        if case.procedure != Application.Procedure.DUBLIN:
            raise TransitionForbidden(
                _("Only a case in the Dublin procedure has the Member State responsible.")
            )
        errors: dict[str, str] = {}
        if not isinstance(determined_on, dt.date):
            errors["determined_on"] = _("Give the date responsibility was determined.")
        elif determined_on < case.submitted_on:
            errors["determined_on"] = _(
                "Responsibility cannot be determined before the application was made."
            )
        elif determined_on > timezone.localdate():
            errors["determined_on"] = _("This date is in the future.")
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
        if state == HOME_STATE:
            deadlines.open_deadlines(
                case,
                DeadlineRule.StartEvent.RESPONSIBILITY_DETERMINED,
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
