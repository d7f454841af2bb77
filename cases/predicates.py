"""Who may do what to a case: the `rules` permissions, asked through Django's permission API.

There is one permission system. Its names are

- `cases.read_case`: read the case (its unit's caseworkers and decision-makers,
  administrators, superusers);
- `cases.work_on_case`: run a caseworker's transition or record something on the case (its
  unit's caseworkers and decision-makers, superusers);
- `cases.decide_case`: run a decision-maker's transition, assign, waive a deadline (its
  unit's decision-makers, superusers);
- `cases.take_case`: assign the case to oneself (its unit's caseworkers while nobody is
  assigned, and whoever may decide);
- `cases.see_access_log`: see who viewed the case (decision-makers of its unit,
  administrators, superusers);
- `cases.detain_minor`: detain an unaccompanied minor, recording why it is a last resort
  (decision-makers of its unit, superusers).

A caseworker or decision-maker of another unit with emergency ("break-glass") access to the
case (`BreakGlassGrant`) may read it while the grant lasts, and work on it too once the
case's unit's decision-maker extended the grant to work; never decide, take it or see its
access log.

Everything asks them as `user.has_perm(name, case)`: the model's transitions name them as
django-fsm permissions, and `workflow`, `access`, the views and the admin ask them. Django
answers yes to any active superuser before a backend is asked, and the rules below agree, so
a superuser may run any transition (to correct a record, always with a reason).

The two permissions a button can be refused with are each an ordered list of checks, each
with the sentence that explains its failure (`EXPLAINED`). The rule registered with `rules`
is built from that list, so each rule is written once, and `refusal()` names the first check
that fails, which the UI shows instead of merely greying a button out.

The checks read the user's role groups through `User.has_role`, which loads them once per
user object; asking a permission costs no query after that.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING

import rules
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import roles

if TYPE_CHECKING:
    from .models import Application


@rules.predicate
def is_signed_in(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _has_any_role(*names: str) -> rules.Predicate:
    def check(user) -> bool:
        return bool(user.is_authenticated and any(user.has_role(name) for name in names))

    return rules.predicate(check, name=f"has_any_role({', '.join(names)})")


works_on_cases = _has_any_role(roles.CASEWORKER, roles.DECISION_MAKER)
is_decision_maker = _has_any_role(roles.DECISION_MAKER)
is_administrator = _has_any_role(roles.ADMINISTRATOR)
is_active_superuser = is_signed_in & rules.is_superuser


@rules.predicate
def is_of_case_unit(user, application: Application | None) -> bool:
    unit_id = getattr(user, "unit_id", None)
    return application is not None and unit_id is not None and unit_id == application.unit_id


@rules.predicate
def is_unassigned(user, application: Application | None) -> bool:
    return application is not None and application.assigned_to_id is None


def live_grants(user) -> list[tuple[int, object, object, bool]]:
    """The user's emergency-access grants that had not ended when first asked:
    (case id, from, until, extended to work). Loaded once per user object, like the roles;
    whether one is in force is judged against the clock at each question."""
    cache = getattr(user, "_break_glass_cache", None)
    if cache is None:
        from django.utils import timezone

        from .models import BreakGlassGrant

        cache = [
            (case_id, starts, ends, extended is not None)
            for case_id, starts, ends, extended in BreakGlassGrant.objects.filter(
                user_id=user.pk, ends_at__gt=timezone.now()
            ).values_list("application_id", "starts_at", "ends_at", "extended_at")
        ]
        user._break_glass_cache = cache
    return cache


def forget_grants(user) -> None:
    """Drop the cached grants of this user object (after one was made or extended)."""
    user.__dict__.pop("_break_glass_cache", None)


def granted_case_ids(user, *, work: bool = False) -> list[int]:
    """Ids of the cases the user may read (or, `work`, work on) through a grant in force."""
    if not (user.is_authenticated and user.is_active and user.pk):
        return []
    if not (user.unit_id and works_on_cases(user)):
        return []
    from django.utils import timezone

    now = timezone.now()
    return [
        case_id
        for case_id, starts, ends, extended in live_grants(user)
        if starts <= now < ends and (extended or not work)
    ]


@rules.predicate
def has_read_grant(user, application: Application | None) -> bool:
    return application is not None and application.pk in granted_case_ids(user)


@rules.predicate
def has_work_grant(user, application: Application | None) -> bool:
    return application is not None and application.pk in granted_case_ids(user, work=True)


NOT_SIGNED_IN = _("You are not signed in.")
OTHER_UNIT = _("This case belongs to another unit.")
READ_ONLY_GRANT = _(
    "Your emergency access to this case is read-only: its unit's decision-maker may extend "
    "it to work."
)

# Permission name -> its checks, in the order a refusal is explained.
EXPLAINED: dict[str, tuple[tuple[rules.Predicate, Promise], ...]] = {
    "cases.work_on_case": (
        (is_signed_in, NOT_SIGNED_IN),
        (
            works_on_cases,
            _("Only a caseworker or decision-maker of the case's unit may do this."),
        ),
        (is_of_case_unit | has_work_grant, OTHER_UNIT),
    ),
    "cases.decide_case": (
        (is_signed_in, NOT_SIGNED_IN),
        (is_decision_maker, _("Only a decision-maker may do this.")),
        (is_of_case_unit, OTHER_UNIT),
    ),
    # Taking a case: assigning it to oneself. A caseworker takes an unassigned case of
    # their unit; reassigning someone else's case stays with decision-makers.
    "cases.take_case": (
        (is_signed_in, NOT_SIGNED_IN),
        (
            works_on_cases,
            _("Only a caseworker or decision-maker of the case's unit may do this."),
        ),
        (is_of_case_unit, OTHER_UNIT),
        (
            is_unassigned,
            _("This case is already assigned; only a decision-maker may reassign it."),
        ),
    ),
    # Detention of an unaccompanied minor only in exceptional circumstances, as a last
    # resort (RCD 2013/33 Art. 11(2)-(3)): a decision-maker answers for it.
    "cases.detain_minor": (
        (is_signed_in, NOT_SIGNED_IN),
        (
            is_decision_maker,
            _(
                "The applicant is an unaccompanied minor: only a decision-maker may detain "
                "them, recording why detention is a last resort."
            ),
        ),
        (is_of_case_unit, OTHER_UNIT),
    ),
}


def _all_checks_of(name: str) -> rules.Predicate:
    """Every check of `name` passes, or the user is an active superuser."""
    return is_active_superuser | functools.reduce(
        operator.and_, (check for check, _message in EXPLAINED[name])
    )


work_on_case = _all_checks_of("cases.work_on_case")
decide_case = _all_checks_of("cases.decide_case")
take_case = _all_checks_of("cases.take_case") | decide_case
detain_minor = _all_checks_of("cases.detain_minor")
read_case = (
    work_on_case
    | (is_signed_in & is_administrator)
    | (is_signed_in & works_on_cases & has_read_grant)
)
see_access_log = decide_case | (is_signed_in & is_administrator)
# Ending another person's emergency access early: those who answer for the case's unit, and
# administrators (`workflow.revoke_break_glass`).
end_break_glass = decide_case | (is_signed_in & is_administrator)

rules.add_perm("cases.read_case", read_case)
rules.add_perm("cases.work_on_case", work_on_case)
rules.add_perm("cases.decide_case", decide_case)
rules.add_perm("cases.take_case", take_case)
rules.add_perm("cases.see_access_log", see_access_log)
rules.add_perm("cases.end_break_glass", end_break_glass)
rules.add_perm("cases.detain_minor", detain_minor)


def refusal(user, perm: str, application: Application) -> str | None:
    """None when `user.has_perm(perm, application)`; otherwise why not, in a sentence.

    The sentence is that of the first of the permission's checks that fails (`EXPLAINED`);
    a permission without explained checks is refused in general terms.
    """
    if user.has_perm(perm, application):
        return None
    for check, message in EXPLAINED.get(perm, ()):
        if not check.test(user, application):
            if message is OTHER_UNIT and has_read_grant.test(user, application):
                return str(READ_ONLY_GRANT)
            return str(message)
    return gettext("You may not do this.")
