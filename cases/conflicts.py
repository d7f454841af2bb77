"""Lost lock conflicts: retry the whole unit of work, never answer 500.

PostgreSQL breaks a deadlock by aborting one of the transactions in it (SQLSTATE 40P01), and
under `SERIALIZABLE` it aborts a transaction that cannot be serialised (40001). Haven takes
its locks in one order (see `cases.audit`), so neither should happen between two changes of
one case; but two changes of different cases still meet on shared rows (the stored counts
of a unit, a facility's places), and a changed lock order somewhere would bring them back.
The aborted transaction did nothing: it is safe to run the whole unit of work again.

`retried` does that for a function that is the outermost transaction (a workflow verb, the
record of a view). Called inside an enclosing `atomic` block, it runs the function once and
lets the error reach the enclosing unit, whose transaction is aborted as a whole (a
savepoint cannot be retried after an error that aborts the transaction). What still fails
after the last attempt reaches `haven.middleware.ConflictMiddleware`, which answers 409
("the case changed while you were looking at it") and never 500.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
CONFLICT_STATES = frozenset({DEADLOCK, SERIALIZATION_FAILURE})
ATTEMPTS = 4


def is_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a database error that PostgreSQL raised to break a lock conflict."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in CONFLICT_STATES:
            return True
        current = current.__cause__ or current.__context__
    return False


def retried[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` again (up to `ATTEMPTS` times in all) when its transaction lost a lock
    conflict; re-raise the last error when every attempt lost."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if not is_conflict(exc) or attempt == ATTEMPTS:
                    raise
                logger.warning(
                    "%s lost a lock conflict (attempt %d of %d), running it again: %s",
                    func.__qualname__,
                    attempt,
                    ATTEMPTS,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )
                # Jittered back-off, so that the transactions that met do not meet again.
                time.sleep(random.uniform(0.005, 0.03) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
