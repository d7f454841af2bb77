"""Verbs of implicit withdrawal and reopening (DOMAIN.md §3 row 13).

A personal interview missed without a reason opens the path to an implicit withdrawal (APD
Art. 28(1)): the case records the missed interview and its page offers the step. The
withdrawal itself is the `withdraw` transition of kind implicit (`implicitly_withdraw`),
which sets the reopening window from its rule row; `reopen` brings the case back to
examination within that window, and the examination period runs again from the reopening.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User

from .. import deadlines
from ..conflicts import retried
from ..models import Application, DeadlineRule, Status
from ..validators import day_problem
from . import ALREADY_SO, TransitionForbidden, _record_action, _run_transition, withdraw
from .interviews import miss_interview

# The clocks that wait for the first-instance decision and run again after a reopening.
REOPENED_FAMILY = "examination"


@retried
def record_missed_interview(
    application: Application | int,
    *,
    actor: User,
    missed_on: dt.date | None = None,
    interview: Any = None,
) -> Application:
    """The applicant did not come to the personal interview and gave no reason: recorded on
    the case and its timeline, this opens the path to an implicit withdrawal. With
    `interview` (a scheduled interview of the case whose time has passed, or its id) that
    interview is closed as missed, on `missed_on` or else its scheduled day."""

    def apply(case: Application):
        if case.status not in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
            raise TransitionForbidden(_("Only a case not yet decided has an interview to miss."))
        day, changed = missed_on, False
        data: dict[str, Any] = {}
        if interview not in (None, ""):
            day, changed = miss_interview(case, interview, missed_on)
            data["interview"] = interview.pk if hasattr(interview, "pk") else interview
        problem = day_problem(
            day,
            missing=_("Give the date of the missed interview."),
            since=case.submitted_on,
            early=_("An interview cannot precede the application."),
        )
        if problem:
            raise ValidationError({"missed_on": problem})
        if case.interview_missed_on == day and not changed:
            return ALREADY_SO
        case.interview_missed_on = day
        return ["interview_missed_on"], {"missed_on": day.isoformat(), **data}

    return _record_action(application, actor=actor, action="interview_missed", apply=apply)


def implicitly_withdraw(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    at: dt.datetime | None = None,
) -> Application:
    """Treat the application as implicitly withdrawn (a missed interview, absconding, no
    reply: the reason says which). Ends any placement, cancels the open clocks and sets the
    reopening window (`withdraw` of kind implicit)."""
    return withdraw(
        application,
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        kind=Application.Withdrawal.IMPLICIT,
        at=at,
    )


@retried
def reopen(
    application: Application | int,
    *,
    actor: User,
    expected_status: str,
    reason: str,
    at: dt.datetime | None = None,
) -> Application:
    """Reopen an implicitly withdrawn application within its reopening window (APD
    Art. 28(2)): the case is under examination again and the examination period of the rule
    in force runs again from the reopening (a default: the law sets no period for it)."""

    def effects(case: Application, _kwargs: dict[str, Any], moment: dt.datetime) -> None:
        case.reopen_until = None
        case.save(update_fields=["reopen_until"])
        rules = deadlines.choose_rules(case, DeadlineRule.objects.filter(is_active=True))
        for rule in rules:
            if rule.family_name == REOPENED_FAMILY:
                deadlines.open_deadlines(
                    case, rule.start_event, moment, actor=actor, at=moment, only=[rule.code]
                )

    return _run_transition(
        application,
        "reopen",
        actor=actor,
        expected_status=expected_status,
        reason=reason,
        at=at,
        effects=effects,
        update_fields=("withdrawal",),
    )
