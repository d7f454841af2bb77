"""Who a case can be assigned to or interviewed by: a unit's active caseworkers and
decision-makers, as choices for forms and filters.

The list is on every open case's page (the interviewer of a new interview) and on the case
list (its "Assigned to" filter); a large unit has hundreds of staff, and reading and
labelling them was a third of the case page's time. The lists are kept in the shared
cache (`cases.reference.Kept`) until a user or a user's groups change (a sign-in, which
only stamps `last_login`, changes nothing listed), ten minutes at most.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import mark_safe

from accounts import roles
from accounts.models import User

from .reference import Kept

STAFF = Kept("staff", 600)


def staff_queryset(unit_id: int | None, *, every_unit: bool = False):
    """Active caseworkers and decision-makers of a unit (of every unit with `every_unit`),
    in the order they are listed: who a case can be assigned to."""
    people = User.objects.filter(
        is_active=True, groups__name__in=[roles.CASEWORKER, roles.DECISION_MAKER]
    )
    if not every_unit:
        people = people.filter(unit_id=unit_id)
    return people.distinct().order_by("last_name", "first_name", "username")


def _read(unit_id: int | None, every_unit: bool) -> list[tuple[str, str]]:
    people = staff_queryset(unit_id, every_unit=every_unit).values_list(
        "pk", "first_name", "last_name", "username"
    )
    # As User.get_full_name, without building a model instance per person.
    return [(str(pk), f"{first} {last}".strip() or name) for pk, first, last, name in people]


def staff_choices(unit_id: int | None, *, every_unit: bool = False) -> list[tuple[str, str]]:
    """(id, name) of the people of `staff_queryset`, from the shared cache."""
    return STAFF.get("all" if every_unit else str(unit_id), lambda: _read(unit_id, every_unit))


def staff_html(unit_id: int, name: str, render: Callable[[], str]) -> str:
    """HTML that depends on nothing but the unit's staff list (the empty form that schedules
    an interview: its interviewer list), kept beside that list and replaced with it."""
    html = STAFF.get(f"{unit_id}:html:{name}", lambda: str(render()))
    return mark_safe(html)  # noqa: S308 - rendered by Django's forms, escaped there


def _sign_in_only(kwargs: dict) -> bool:
    """A sign-in only stamps `last_login`: nothing listed changes."""
    fields = kwargs.get("update_fields")
    return fields is not None and set(fields) <= {"last_login"}


def connect() -> None:
    STAFF.connect(User, User.groups.through, skip=_sign_in_only)
