"""The case timeline: append-only `CaseEvent` rows forming one hash chain per case.

`record_event` is the only writer of rows and `redact_reasons` (retention) the only change to
them; a database trigger refuses everything else on PostgreSQL. Each row stores the SHA-256 of
its own content and of the previous row of the same case, so that a row changed or removed
behind the application's back breaks the chain, and `verify_chains` names the first broken
row. Free text that belongs to an event (a reason) is covered through its digest: retention
may redact the text (the row then points at the retention event, which lists the rows it
redacted), and verification reports that as redaction, not tampering.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Application, CaseEvent

# LOCK ORDER. Every transaction that touches a case takes its locks in this order:
#
#   1. the case row: `FOR NO KEY UPDATE` by a change (`cases.workflow`), `FOR KEY SHARE` by
#      a writer of events that changes nothing else (an access record: `_lock_chain`);
#   2. the chain's advisory lock (`pg_advisory_xact_lock(_CHAIN_LOCK_CLASS, case id)`);
#   3. rows that hang off the case (deadlines, placements, the facility's places).
#
# Why, as measured: the workflow used to lock the row `FOR UPDATE` and then the chain,
# while a view's access record took the chain first and, at commit, its event's deferred
# foreign-key check needed `FOR KEY SHARE` on the same row, which `FOR UPDATE` blocks: two
# locks in opposite orders, and under 20 concurrent sessions PostgreSQL broke 136 deadlocks
# in 160 requests (a fifth of them answered 500). Two changes make the order hold:
# - a change locks the row `FOR NO KEY UPDATE` (it never changes the id or the reference,
#   the keys other rows point at), which does not conflict with `FOR KEY SHARE`, so a
#   foreign-key check never waits for a change in progress;
# - an access record takes `FOR KEY SHARE` on the row before the chain lock, so even
#   against a writer that holds `FOR UPDATE` (retention) it waits at step 1, holding nothing.
# Access records still take the chain lock: one chain per case keeps `verify_audit` simple
# and the measured cost is a short wait behind the change in progress, not a deadlock.
# What can still meet (two cases of one unit moving their unit's stored counts in opposite
# directions) is retried as a whole by `cases.conflicts.retried`.
_CHAIN_LOCK_CLASS = 7_301
REDACTED_TEXT = "[redacted]"


def text_digest(text: str) -> str:
    """The SHA-256 of a free text: what the chain covers instead of the text itself."""
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def _utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(event: CaseEvent) -> str:
    """The hash of an event's content (reason through its digest) and the previous hash."""
    content = {
        "application": event.application_id,
        "kind": event.kind,
        "action": event.action,
        "actor": event.actor_id,
        "at": _utc_iso(event.at),
        "from": event.from_status,
        "to": event.to_status,
        "reason_digest": event.reason_digest,
        "data": event.data,
        "prev": event.prev_hash,
    }
    # Events written before `recorded_at` was kept hash as they did then.
    recorded_at = getattr(event, "recorded_at", None)
    if recorded_at is not None:
        content["recorded"] = _utc_iso(recorded_at)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain(application_id: int, *, wait_for_disk: bool = True) -> str | None:
    """Take the case's locks in the one order every writer of events uses (see LOCK ORDER),
    then read the chain's last hash ("" for a case without events).

    1. The case row, `FOR KEY SHARE`: the lock the event's foreign key check takes at commit
       anyway, taken first instead of last. It waits only for a writer that holds the row
       `FOR UPDATE`; the workflow holds it `FOR NO KEY UPDATE`, which does not conflict.
    2. The chain's advisory lock, for the rest of the transaction; with
       `wait_for_disk=False`, in the same statement, `synchronous_commit` off for the rest
       of the transaction (see `record_event`).
    3. The last hash, in a statement of its own after the lock: its own snapshot (read
       committed) sees the event of a writer the lock waited for. Sent with the lock in one
       round trip (two statements, the second's rows read with `nextset`).

    None where nothing is locked (SQLite, which writes one transaction at a time): the
    caller reads the hash.
    """
    if connection.vendor != "postgresql":
        return None
    # The row is locked as the subquery reads it, before the outer select takes the
    # advisory lock for that row.
    relax = "" if wait_for_disk else ", set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_advisory_xact_lock(%s, %s){relax} FROM ("  # noqa: S608
            f"SELECT 1 FROM {Application._meta.db_table} WHERE id = %s FOR KEY SHARE"
            ") AS case_row; "
            f"SELECT hash FROM {CaseEvent._meta.db_table} WHERE application_id = %s "
            "ORDER BY id DESC LIMIT 1",
            [_CHAIN_LOCK_CLASS, application_id, application_id, application_id],
        )
        cursor.nextset()
        row = cursor.fetchone()
    return row[0] if row else ""


def _last_hash(application_id: int) -> str:
    return (
        CaseEvent.objects.filter(application_id=application_id)
        .order_by("-pk")
        .values_list("hash", flat=True)
        .first()
    ) or ""


# The person's action whose consequences are being written (deadlines opened, met, missed,
# cancelled): `caused_by` sets it around a workflow verb's effects, and `record_event` names it
# in each deadline event it writes, so that the timeline attributes such events to Haven
# "because of" that action.
_CAUSE: contextvars.ContextVar[str | None] = contextvars.ContextVar("haven_cause", default=None)


@contextlib.contextmanager
def caused_by(action: str) -> Iterator[None]:
    """Deadline events written inside this block were caused by `action` (a verb's name)."""
    token = _CAUSE.set(action)
    try:
        yield
    finally:
        _CAUSE.reset(token)


def record_event(
    application: Application,
    *,
    kind: str,
    actor=None,
    action: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    from_status: str = "",
    to_status: str = "",
    at: dt.datetime | None = None,
    wait_for_disk: bool = True,
) -> CaseEvent:
    """Append one event to the case's chain.

    Runs in its own atomic block (inside the caller's transaction when there is one) and
    serialises inserts into one chain with a transaction-level advisory lock, so concurrent
    writers never fork a chain.

    `wait_for_disk=False` (a record of a view: `access.log_access`, on every case page)
    commits without waiting for the write-ahead log to reach the disk, when the event is a
    transaction of its own: the flush was the largest part of a view's record. The chain
    stays whole (PostgreSQL keeps commit order); a crash of the database server may lose
    the views recorded in its last fraction of a second (at most 3 x wal_writer_delay,
    0.6 s by default). Inside a caller's transaction (a change) it is ignored: a change
    always waits for the disk.
    """
    relaxed = not wait_for_disk and not connection.in_atomic_block
    cause = _CAUSE.get()
    if cause and kind == CaseEvent.Kind.DEADLINE and action != "waived":
        data = {**(data or {}), "cause": cause}
    with transaction.atomic():
        prev = _lock_chain(application.pk, wait_for_disk=not relaxed)
        if prev is None:
            prev = _last_hash(application.pk)
        event = CaseEvent(
            application_id=application.pk,
            kind=kind,
            action=action,
            actor=actor if actor is not None and actor.pk else None,
            at=at or timezone.now(),
            recorded_at=timezone.now(),
            from_status=from_status,
            to_status=to_status,
            reason=reason or "",
            reason_digest=text_digest(reason or ""),
            data=_jsonable(data or {}),
            prev_hash=prev,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Dates and other values as JSON would store them, so the hash reads back the same."""
    return json.loads(json.dumps(data, default=str))


@dataclass(frozen=True)
class ChainProblem:
    application_id: int
    event_id: int | None  # None when the problem is the absence of events
    problem: str


@dataclass(frozen=True)
class ChainReport:
    application_id: int
    events: int
    redacted: list[tuple[int, int]]  # (event id, retention event id)
    problem: ChainProblem | None


class _ChainCheck:
    """Walks one case's events in chain order (by id) and stops at the first broken row.

    `retention` maps the case's retention events to the ids they list as redacted (read
    ahead of the walk, because a redacted row comes before the retention event that
    redacted it; the retention event's own row is then checked when the walk reaches it).
    """

    def __init__(self, application_id: int, retention: dict[int, set[int] | None]) -> None:
        self.application_id = application_id
        self.retention = retention
        self.prev_hash = ""
        self.prev_id: int | None = None
        self.count = 0
        self.redacted: list[tuple[int, int]] = []
        self.problem: ChainProblem | None = None

    def feed(self, event: CaseEvent) -> None:
        if self.problem is not None:
            return
        self.count += 1
        problem = self._check(event)
        if problem:
            self.problem = ChainProblem(self.application_id, event.pk, problem)
            return
        self.prev_hash = event.hash
        self.prev_id = event.pk

    def _check(self, event: CaseEvent) -> str:
        if event.prev_hash != self.prev_hash:
            if self.prev_id is None:
                return _(
                    "it is the case's first event but links to an earlier one: "
                    "earlier events were removed"
                )
            return _(
                "it does not link to the event before it (event %(prev)s): an event between "
                "them was removed, or one of them was altered"
            ) % {"prev": self.prev_id}
        if event_hash(event) != event.hash:
            return _("its content does not match its hash: the row was altered")
        if event.redacted_by_id is not None:
            listed = self.retention.get(event.redacted_by_id, set())
            if (
                event.redacted_by_id not in self.retention
                or event.reason != REDACTED_TEXT
                or event.redacted_by_id <= event.pk
                or (listed is not None and event.pk not in listed)
            ):
                return _(
                    "its reason is marked redacted by event %(by)s, which is not a retention "
                    "event of this case that lists it"
                ) % {"by": event.redacted_by_id}
            self.redacted.append((event.pk, event.redacted_by_id))
        elif text_digest(event.reason) != event.reason_digest:
            return _("its reason was changed (it no longer matches the recorded digest)")
        return ""

    def report(self) -> ChainReport:
        problem = self.problem
        if self.count == 0:
            # Every case starts with its submission event: none at all means they were removed.
            problem = ChainProblem(
                self.application_id, None, _("the case has no events: its timeline was removed")
            )
        return ChainReport(self.application_id, self.count, self.redacted, problem)


def verify_chains(application_ids: Iterable[int]) -> list[ChainReport]:
    """Check the chains of a batch of cases with two queries: their retention events, then
    all their events in chain order. Returns one report per case, in the order given."""
    ids = list(dict.fromkeys(application_ids))
    retention: dict[int, dict[int, set[int] | None]] = {pk: {} for pk in ids}
    for pk, app_id, data in CaseEvent.objects.filter(
        application_id__in=ids, kind=CaseEvent.Kind.RETENTION
    ).values_list("pk", "application_id", "data"):
        listed = data.get("redacted_events") if isinstance(data, dict) else None
        retention[app_id][pk] = (
            {int(x) for x in listed if isinstance(x, int)} if isinstance(listed, list) else None
        )
    checks = {pk: _ChainCheck(pk, retention[pk]) for pk in ids}
    events = (
        CaseEvent.objects.filter(application_id__in=ids)
        .order_by("application_id", "pk")
        .iterator(chunk_size=5000)
    )
    for event in events:
        checks[event.application_id].feed(event)
    return [checks[pk].report() for pk in ids]


def verify_chain(application_id: int) -> ChainReport:
    """Check one case's chain from its first event; stop at the first broken row."""
    return verify_chains([application_id])[0]


def redact_reasons(application: Application, event_ids: list[int], retention: CaseEvent) -> int:
    """Replace the free-text reason of the given events of one case by `REDACTED_TEXT`,
    pointing them at the retention event that did it.

    One SQL UPDATE that touches only `reason` and `redacted_by`, the two columns the
    append-only trigger lets through; the chain stays verifiable because it covers the
    reason's digest, not its text. Returns the number of rows changed.
    """
    if not event_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CaseEvent._meta.db_table} SET reason = %s, redacted_by_id = %s "  # noqa: S608
            "WHERE application_id = %s AND id = ANY(%s) AND redacted_by_id IS NULL",
            [REDACTED_TEXT, retention.pk, application.pk, list(event_ids)],
        )
        return cursor.rowcount
