"""Who a case can be assigned to or interviewed by: a unit's active caseworkers and
decision-makers, as choices for forms and filters.

The list is on every open case's page (the interviewer of a new interview) and on the case
list (its "Assigned to" filter); a large unit has hundreds of staff, and reading and
labelling them was a third of the case page's time. The choices are kept in the shared
cache under a generation that every change of a user or of a user's groups replaces
(signals below, at once and again when the change commits, so that a list read while it
was being made is not kept), and for STAFF_CACHE_SECONDS at most. A cache that does not
answer costs a query, not the page.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.utils.safestring import mark_safe

from accounts import roles
from accounts.models import User

log = logging.getLogger(__name__)

STAFF_CACHE_SECONDS = 600
GENERATION_KEY = "haven:staff:generation"


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


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        generation = cache.get(GENERATION_KEY)
    return generation


def staff_html(unit_id: int, name: str, render: Callable[[], str]) -> str:
    """HTML that depends on nothing but the unit's staff list (the empty form that schedules
    an interview: its interviewer list), kept beside that list and replaced with it."""
    try:
        key = f"haven:staff:{_generation()}:{unit_id}:html:{name}"
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down costs the rendering, not the page
        return render()
    if found is None:
        found = str(render())
        try:
            cache.set(key, found, STAFF_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            log.warning("The cache did not answer: a staff form is not kept.")
    return mark_safe(found)  # noqa: S308 - rendered by Django's forms, escaped there


def staff_choices(unit_id: int | None, *, every_unit: bool = False) -> list[tuple[str, str]]:
    """(id, name) of the people of `staff_queryset`, from the shared cache."""
    try:
        key = f"haven:staff:{_generation()}:{'all' if every_unit else unit_id}"
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down costs a query, not the page
        log.warning("The cache did not answer: reading the staff list.")
        return _read(unit_id, every_unit)
    if found is not None:
        return found
    found = _read(unit_id, every_unit)
    try:
        cache.set(key, found, STAFF_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("The cache did not answer: the staff list is not kept.")
    return found


def staff_changed(**kwargs) -> None:
    """A user or their groups changed: the next read builds the lists again (a sign-in,
    which only stamps `last_login`, changes nothing listed)."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _forget()
    transaction.on_commit(_forget)


def _forget() -> None:
    try:
        cache.delete(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - the lists then last STAFF_CACHE_SECONDS at most
        log.warning("The cache did not answer: the staff lists are kept until they expire.")


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    post_save.connect(staff_changed, sender=User, dispatch_uid="haven-staff-saved")
    post_delete.connect(staff_changed, sender=User, dispatch_uid="haven-staff-deleted")
    m2m_changed.connect(
        staff_changed, sender=User.groups.through, dispatch_uid="haven-staff-groups"
    )
