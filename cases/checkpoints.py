"""Checkpoints of the case chains: evidence that survives the removal of the newest events.

The hash chain (`cases.audit`) shows a row altered or removed inside a chain, but not the
newest rows removed from its end: what is left is still a valid chain. A checkpoint records,
for one case, the chain's newest event, that event's hash and how many events it held;
`verify` then reports a chain that falls short of its last checkpoint as tampering ("events
after event N were removed"). Checkpoints are append-only like the events: a trigger and the
query set refuse updates and deletes.

`write_checkpoints` (the Celery task `write_audit_checkpoints`, every
AUDIT_CHECKPOINT_MINUTES) writes one for every chain whose newest event moved since its last
checkpoint:

1. it reads on from where the last run stopped (`through_event_id`): the cases with events
   above it, found through the primary key's index, so a run costs what changed since the
   last one, not the number of cases;
2. PostgreSQL hands out ids before commit, so an event below the highest visible id may still
   be committing. The run waits (at most SETTLE_SECONDS) for this database's transactions
   that were open when it read the highest id; if one is still open, it does not move
   `through_event_id` forward and the next run reads those events again (a checkpoint taken
   meanwhile is an older prefix of the chain, still true);
3. a chain that already falls short of its last checkpoint is not checkpointed again, which
   would bless the loss: the run logs it, and `verify_audit` reports it;
4. it logs one line with a SHA-256 over the heads it wrote, for the operator to keep outside
   the database: checkpoints rewritten later by someone with the table owner's rights no
   longer match it (`run_digest` recomputes it from the rows).

What a checkpoint cannot cover: events written since the last run can still be removed
unseen; the interval is that window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import ChainProblem, ChainReport, verify_chains
from .models import Application, AuditCheckpoint, CaseEvent

log = logging.getLogger(__name__)

BATCH = 1000
# How long a run waits for transactions that may still be committing events below the
# highest id it saw. Haven's transactions last milliseconds; a longer one only delays the
# run's watermark to the next run.
SETTLE_SECONDS = 10.0
# pg_try_advisory_xact_lock(classid, objid): one checkpoint run at a time (the chains use
# class 7301, keyed by case).
_RUN_LOCK = (7_302, 0)

# How a chain falls short of its checkpoint.
REMOVED = "removed"  # the checkpointed newest event is gone
REWRITTEN = "rewritten"  # it is there with another hash
FEWER = "fewer"  # fewer events than were counted


# ------------------------------------------------------------------------------------------
# Comparing a chain with its checkpoint
# ------------------------------------------------------------------------------------------


def latest_checkpoints(application_ids: Iterable[int]) -> dict[int, AuditCheckpoint]:
    """The last checkpoint of each of these cases that has one, in one query: per case, one
    step down the index on (case, id descending), however many checkpoints it has had."""
    last = (
        Application.objects.filter(pk__in=list(application_ids))
        .order_by()
        .annotate(
            last=Subquery(
                AuditCheckpoint.objects.filter(application_id=OuterRef("pk"))
                .order_by("-pk")
                .values("pk")[:1]
            )
        )
        .values("last")
    )
    return {cp.application_id: cp for cp in AuditCheckpoint.objects.filter(pk__in=last)}


def _events_by_id(ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """event id -> (case id, hash), for the events among `ids` that exist."""
    rows = CaseEvent.objects.filter(pk__in=list(ids)).order_by()
    return {
        pk: (case, hash_) for pk, case, hash_ in rows.values_list("pk", "application_id", "hash")
    }


def shortfall(checkpoint: AuditCheckpoint, head: tuple[int, str] | None, event_count: int) -> str:
    """How a chain of `event_count` events falls short of `checkpoint`, given what became of
    the checkpointed newest event (`head`: its case and hash, None when it is gone):
    REMOVED, REWRITTEN, FEWER, or "" when the chain holds at least what was checkpointed."""
    if head is None or head[0] != checkpoint.application_id:
        return REMOVED
    if head[1] != checkpoint.head_hash:
        return REWRITTEN
    if event_count < checkpoint.event_count:
        return FEWER
    return ""


def _problem(report: ChainReport, checkpoint: AuditCheckpoint, loss: str) -> ChainProblem:
    values = {
        "when": timezone.localtime(checkpoint.created_at).strftime("%Y-%m-%d %H:%M"),
        "head": checkpoint.head_event_id,
        "count": checkpoint.event_count,
        "now": report.events,
    }
    if loss == REWRITTEN:
        text = _(
            "it was the newest event at the checkpoint of %(when)s, but its hash is not the "
            "one recorded then: the chain was rewritten"
        )
        return ChainProblem(report.application_id, checkpoint.head_event_id, text % values)
    if loss == FEWER:
        text = _(
            "events were removed: the checkpoint of %(when)s counted %(count)s, the chain "
            "now holds %(now)s"
        )
        return ChainProblem(report.application_id, None, text % values)
    last = (
        CaseEvent.objects.filter(
            application_id=report.application_id, pk__lt=checkpoint.head_event_id
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if last is None:
        text = _(
            "the events up to event %(head)s, the newest at the checkpoint of %(when)s, "
            "were removed"
        )
    else:
        text = _(
            "events after event %(last)s were removed: the checkpoint of %(when)s recorded "
            "event %(head)s as the newest of %(count)s"
        )
    return ChainProblem(report.application_id, None, text % {**values, "last": last})


def verify(application_ids: Iterable[int]) -> list[ChainReport]:
    """Check a batch of cases: each chain link by link (`cases.audit.verify_chains`), then
    each intact chain against its last checkpoint. One report per case, in the order given.

    The checkpoints are read before the chains: a chain read afterwards holds at least what
    they recorded (chains only grow), so a checkpoint written meanwhile never reads as a
    loss."""
    ids = list(dict.fromkeys(application_ids))
    checkpoints = latest_checkpoints(ids)
    reports = verify_chains(ids)
    heads = _events_by_id(cp.head_event_id for cp in checkpoints.values())
    checked = []
    for report in reports:
        checkpoint = checkpoints.get(report.application_id)
        if report.problem is None and checkpoint is not None:
            loss = shortfall(checkpoint, heads.get(checkpoint.head_event_id), report.events)
            if loss:
                report = replace(report, problem=_problem(report, checkpoint, loss))
        checked.append(report)
    return checked


def describe(problem: ChainProblem) -> str:
    """A problem as the commands print it: "event N: what is wrong", or what is wrong."""
    if problem.event_id is None:
        return problem.problem
    return _("event %(event)s: %(problem)s") % {
        "event": problem.event_id,
        "problem": problem.problem,
    }


# ------------------------------------------------------------------------------------------
# Writing checkpoints
# ------------------------------------------------------------------------------------------


@dataclass
class CheckpointRun:
    at: dt.datetime
    written: int = 0
    through_event_id: int = 0
    digest: str = ""
    settled: bool = True  # False: a transaction was still open, the watermark stayed
    busy: bool = False  # another run held the lock: this one did nothing
    short: list[int] = field(default_factory=list)  # cases not checkpointed: chain fell short


def _line(application_id: int, head_event_id: int, head_hash: str, event_count: int) -> bytes:
    return f"{application_id}:{head_event_id}:{head_hash}:{event_count}\n".encode()


def run_digest(at: dt.datetime) -> str:
    """The digest of the checkpoints written by the run at `at`, recomputed from the rows,
    to compare with the one that run logged."""
    digest = hashlib.sha256()
    rows = AuditCheckpoint.objects.filter(created_at=at).order_by("application_id")
    for row in rows.values_list("application_id", "head_event_id", "head_hash", "event_count"):
        digest.update(_line(*row))
    return digest.hexdigest()


def _take_run_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(_RUN_LOCK))
        return bool(cursor.fetchone()[0])


def _open_transactions_end(timeout: float) -> bool:
    """Wait until the transactions of this database that hold a transaction id now (other
    than this one) have ended; False when one is still open after `timeout` seconds.

    A transaction that inserted an event holds an id from its first write until it ends, so
    once these are over every event below the highest id read before is committed or gone.
    `pg_stat_activity` is read afresh each time (`pg_stat_clear_snapshot`): within a
    transaction PostgreSQL would otherwise repeat its first answer."""
    if connection.vendor != "postgresql":
        return True
    query = (
        "SELECT pid, backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
    )
    give_up = time.monotonic() + timeout
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(query)
        waiting = set(cursor.fetchall())
        while waiting:
            if time.monotonic() >= give_up:
                return False
            time.sleep(0.05)
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(query)
            waiting &= set(cursor.fetchall())
    return True


def _checkpoints_for(
    application_ids: Sequence[int], *, now: dt.datetime, through: int, run: CheckpointRun
) -> list[AuditCheckpoint]:
    """New checkpoints for the chains among these cases whose newest event moved since their
    last checkpoint (four queries for the batch). A chain that falls short of its last
    checkpoint is left out and listed in `run.short`."""
    stats = {
        row["application_id"]: (row["head"], row["count"])
        for row in CaseEvent.objects.filter(application_id__in=application_ids)
        .order_by()
        .values("application_id")
        .annotate(head=Max("pk"), count=Count("pk"))
    }
    hashes = {
        pk: hash_ for pk, (_case, hash_) in _events_by_id(h for h, _n in stats.values()).items()
    }
    last = latest_checkpoints(application_ids)
    old_heads = _events_by_id(cp.head_event_id for cp in last.values())
    new = []
    for application_id in sorted(stats):
        head, count = stats[application_id]
        previous = last.get(application_id)
        if previous is not None:
            if previous.head_event_id == head:
                continue
            if shortfall(previous, old_heads.get(previous.head_event_id), count):
                run.short.append(application_id)
                continue
        new.append(
            AuditCheckpoint(
                application_id=application_id,
                head_event_id=head,
                head_hash=hashes[head],
                event_count=count,
                through_event_id=through,
                created_at=now,
            )
        )
    return new


def write_checkpoints(
    *, now: dt.datetime | None = None, settle_seconds: float = SETTLE_SECONDS
) -> CheckpointRun:
    """Checkpoint every chain whose newest event moved since its last checkpoint, in one
    transaction (a run that fails leaves nothing half-written); log one line with the
    digest of what was written. See the module's docstring for the steps."""
    now = now or timezone.now()
    run = CheckpointRun(at=now)
    with transaction.atomic():
        if not _take_run_lock():
            run.busy = True
            log.info("Audit checkpoint: another run is in progress; this one does nothing.")
            return run
        since = (
            AuditCheckpoint.objects.order_by("-pk")
            .values_list("through_event_id", flat=True)
            .first()
        ) or 0
        highest = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run.settled = _open_transactions_end(settle_seconds)
        run.through_event_id = highest if run.settled else since
        cases = (
            CaseEvent.objects.filter(pk__gt=since, pk__lte=highest)
            .order_by("application_id")
            .values_list("application_id", flat=True)
            .distinct()
        )
        digest = hashlib.sha256()
        for batch in itertools.batched(cases.iterator(chunk_size=BATCH), BATCH):
            new = _checkpoints_for(batch, now=now, through=run.through_event_id, run=run)
            AuditCheckpoint.objects.bulk_create(new, batch_size=BATCH)
            for cp in new:
                digest.update(
                    _line(cp.application_id, cp.head_event_id, cp.head_hash, cp.event_count)
                )
            run.written += len(new)
    run.digest = digest.hexdigest() if run.written else ""
    _log(run)
    return run


def _log(run: CheckpointRun) -> None:
    if not run.settled:
        log.warning(
            "Audit checkpoint: a transaction that may hold events was still open; the next "
            "run reads again from event %d.",
            run.through_event_id,
        )
    if run.short:
        references = Application.objects.filter(pk__in=run.short).values_list(
            "reference", flat=True
        )
        log.error(
            "Audit checkpoint: not checkpointed, the chain falls short of its last checkpoint "
            "(run verify_audit): %s",
            ", ".join(sorted(references)),
        )
    if run.written:
        log.info(
            "Audit checkpoint %s: chains checkpointed: %d, events read up to %d, digest sha256:%s",
            run.at.isoformat(),
            run.written,
            run.through_event_id,
            run.digest,
        )
    else:
        log.info(
            "Audit checkpoint %s: no chain changed, events read up to %d.",
            run.at.isoformat(),
            run.through_event_id,
        )
