"""Values that many pages read and few changes touch, kept in the shared cache: `Kept`.

Each family of values (`REFERENCE`: the deadline rules' names and the facilities' names that
the timeline shows; `cases.staff`: a unit's staff lists) lives
under a generation that a committed change of its rows replaces (signals, then
`on_commit`), for a few minutes at most. While the current transaction has changed such rows
and not committed, its own reads go to the database and keep nothing: what it sees is not
yet what others see, and it may still roll back. A cache that does not answer costs the
query, not the page.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, transaction

log = logging.getLogger(__name__)


class Kept:
    def __init__(self, family: str, seconds: int) -> None:
        self.family = family
        self.seconds = seconds
        self.generation_key = f"haven:{family}:generation"
        self._flag = f"_haven_{family}_changed"

    def generation(self) -> str:
        generation = cache.get(self.generation_key)
        if generation is None:
            cache.add(self.generation_key, secrets.token_hex(8), None)
            generation = cache.get(self.generation_key)
        return generation

    def get[T](self, name: str, read: Callable[[], T]) -> T:
        """`read()`, kept under `name` until the family's rows change."""
        if self._changed_here():
            return read()
        try:
            key = f"haven:{self.family}:{self.generation()}:{name}"
            found = cache.get(key)
        except Exception:  # noqa: BLE001 - a cache that is down costs a query, not the page
            log.warning("The cache did not answer: reading %s.", name)
            return read()
        if found is not None:
            return found
        found = read()
        try:
            cache.set(key, found, self.seconds)
        except Exception:  # noqa: BLE001
            log.warning("The cache did not answer: %s is not kept.", name)
        return found

    def changed(self, **kwargs) -> None:
        """A signal's receiver: rows of the family changed in the current transaction."""
        setattr(connection, self._flag, True)
        transaction.on_commit(self._committed)

    def _changed_here(self) -> bool:
        if not getattr(connection, self._flag, False):
            return False
        if connection.in_atomic_block:
            return True
        # The transaction that changed the rows has ended without committing (a commit
        # clears the mark): nothing was kept meanwhile, the cache still holds what is.
        setattr(connection, self._flag, False)
        return False

    def _committed(self) -> None:
        setattr(connection, self._flag, False)
        try:
            cache.delete(self.generation_key)
        except Exception:  # noqa: BLE001 - the values then last `seconds` at most
            log.warning("The cache did not answer: %s values kept until they expire.", self.family)

    def connect(self, *senders, skip: Callable[[dict], bool] | None = None) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        def receiver(**kwargs) -> None:
            if skip is None or not skip(kwargs):
                self.changed(**kwargs)

        self._receiver = receiver  # signals hold their receivers weakly
        for sender in senders:
            uid = f"haven-{self.family}-{sender._meta.label}"
            if sender._meta.auto_created:  # a many-to-many table
                m2m_changed.connect(receiver, sender=sender, dispatch_uid=f"{uid}-m2m")
            else:
                post_save.connect(receiver, sender=sender, dispatch_uid=f"{uid}-save")
                post_delete.connect(receiver, sender=sender, dispatch_uid=f"{uid}-delete")


REFERENCE = Kept("reference", 300)


def cached[T](name: str, read: Callable[[], T]) -> T:
    return REFERENCE.get(name, read)


def rule_names() -> dict[str, str]:
    """Each deadline rule's name by its code."""
    from .models import DeadlineRule

    return cached("rule_names", lambda: dict(DeadlineRule.objects.values_list("code", "name")))


def facility_names() -> dict[int, str]:
    """Each facility's name by its id, in the order of the names (the timeline's rows and the
    case list's "Placed at" choices)."""
    from .models import Facility

    return cached(
        "facility_names",
        lambda: dict(Facility.objects.order_by("name").values_list("pk", "name")),
    )


def connect() -> None:
    # Saves and deletes by signal; bulk changes through `cases.models.NamedQuerySet`.
    from .models import DeadlineRule, Facility

    REFERENCE.connect(DeadlineRule, Facility)
