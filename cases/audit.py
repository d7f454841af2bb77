"""The case timeline: append-only `CaseEvent` rows forming one hash chain per case.

`record_event` is the only writer. Each row stores the SHA-256 of its own content and of the
previous row of the same case, so that a row changed or removed behind the application's back
breaks the chain, and `verify_chain` names the first broken row. Free text that belongs to an
event (a reason) is covered through its digest: retention may redact the text (the row then
points at the retention event), and verification reports that as redaction, not tampering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import Application, CaseEvent

# pg_advisory_xact_lock(classid, objid): one lock space for case chains.
_CHAIN_LOCK_CLASS = 7_301
REDACTED_TEXT = "[redacted]"


def _digest(text: str) -> str:
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
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain(application_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK_CLASS, application_id]
            )


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
) -> CaseEvent:
    """Append one event to the case's chain.

    Runs in its own atomic block (inside the caller's transaction when there is one) and
    serialises inserts into one chain with a transaction-level advisory lock, so concurrent
    writers never fork a chain.
    """
    with transaction.atomic():
        _lock_chain(application.pk)
        prev = (
            CaseEvent.objects.filter(application_id=application.pk)
            .order_by("-pk")
            .values_list("hash", flat=True)
            .first()
        )
        event = CaseEvent(
            application_id=application.pk,
            kind=kind,
            action=action,
            actor=actor if actor is not None and actor.pk else None,
            at=at or timezone.now(),
            from_status=from_status,
            to_status=to_status,
            reason=reason or "",
            reason_digest=_digest(reason or ""),
            data=_jsonable(data or {}),
            prev_hash=prev or "",
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
    event_id: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    application_id: int
    events: int
    redacted: list[tuple[int, int]]  # (event id, retention event id)
    problem: ChainProblem | None


def verify_chain(application_id: int) -> ChainReport:
    """Check one case's chain from its first event; stop at the first broken row."""
    prev = ""
    count = 0
    redacted: list[tuple[int, int]] = []
    retention_ids = set(
        CaseEvent.objects.filter(
            application_id=application_id, kind=CaseEvent.Kind.RETENTION
        ).values_list("pk", flat=True)
    )
    for event in (
        CaseEvent.objects.filter(application_id=application_id)
        .order_by("pk")
        .iterator(chunk_size=2000)
    ):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(
                application_id,
                count,
                redacted,
                ChainProblem(application_id, event.pk, "does not link to the previous event"),
            )
        if event_hash(event) != event.hash:
            return ChainReport(
                application_id,
                count,
                redacted,
                ChainProblem(application_id, event.pk, "content does not match its hash"),
            )
        if event.redacted_by_id is not None:
            if event.redacted_by_id not in retention_ids or event.reason != REDACTED_TEXT:
                return ChainReport(
                    application_id,
                    count,
                    redacted,
                    ChainProblem(
                        application_id, event.pk, "marked redacted without a retention event"
                    ),
                )
            redacted.append((event.pk, event.redacted_by_id))
        elif _digest(event.reason) != event.reason_digest:
            return ChainReport(
                application_id,
                count,
                redacted,
                ChainProblem(application_id, event.pk, "reason was changed"),
            )
        prev = event.hash
    return ChainReport(application_id, count, redacted, None)
