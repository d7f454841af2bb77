"""Who may do what to a case: role and unit checks, shared by the model's transitions,
`access` and the views.

Each check answers with a reason (a translated sentence) when it refuses, so that the UI can
say why a button is blocked instead of just greying it out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules
from django.utils.translation import gettext_lazy as _

from accounts import roles

if TYPE_CHECKING:
    from accounts.models import User


def _is_case_worker_of_unit(user: User, application) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.unit_id is not None
        and user.unit_id == application.unit_id
        and (user.has_role(roles.CASEWORKER) or user.has_role(roles.DECISION_MAKER))
    )


class RolePermission:
    """A transition permission: `(application, user) -> bool`, as django-fsm calls it.

    `roles_allowed` are the role groups that may run the transition on a case of their own
    unit; a superuser may run any transition (to correct a record, always with a reason).
    """

    def __init__(self, *roles_allowed: str, refusal: str) -> None:
        self.roles_allowed = roles_allowed
        self.refusal = refusal

    def explain(self, application, user: User) -> str | None:
        """None when allowed, else the reason this user may not run it."""
        if not (user.is_authenticated and user.is_active):
            return str(_("You are not signed in."))
        if user.is_superuser:
            return None
        if not any(user.has_role(role) for role in self.roles_allowed):
            return str(self.refusal)
        if user.unit_id is None or user.unit_id != application.unit_id:
            return str(_("This case belongs to another unit."))
        return None

    def __call__(self, application, user: User) -> bool:
        return self.explain(application, user) is None


CASE_WORKER = RolePermission(
    roles.CASEWORKER,
    roles.DECISION_MAKER,
    refusal=_("Only a caseworker or decision-maker of the case's unit may do this."),
)
DECISION_MAKER = RolePermission(
    roles.DECISION_MAKER,
    refusal=_("Only a decision-maker may do this."),
)


@rules.predicate
def can_work_on_case(user, application) -> bool:
    """Caseworkers and decision-makers of the case's unit (and superusers)."""
    if application is None:
        return False
    return bool(user.is_superuser or _is_case_worker_of_unit(user, application))


@rules.predicate
def can_read_case(user, application) -> bool:
    """Everyone who may work on it, plus administrators (read-only, all units)."""
    if application is None:
        return False
    return bool(
        can_work_on_case(user, application)
        or (user.is_authenticated and user.is_active and user.has_role(roles.ADMINISTRATOR))
    )


@rules.predicate
def can_decide_on_case(user, application) -> bool:
    return DECISION_MAKER(application, user)


@rules.predicate
def can_see_access_log(user, application) -> bool:
    """Decision-makers of the unit, administrators and superusers see who viewed a case."""
    if application is None:
        return False
    return bool(
        user.is_superuser
        or (user.is_authenticated and user.is_active and user.has_role(roles.ADMINISTRATOR))
        or DECISION_MAKER(application, user)
    )


rules.add_perm("cases.read_case", can_read_case)
rules.add_perm("cases.work_on_case", can_work_on_case)
rules.add_perm("cases.decide_case", can_decide_on_case)
rules.add_perm("cases.see_access_log", can_see_access_log)
