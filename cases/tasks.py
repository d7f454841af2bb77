"""Celery tasks: thin wrappers that call `cases.reminders` and `cases.checkpoints`.

Every task is idempotent (uniqueness and claims live in the database), acknowledged late
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), and retried with exponential
backoff capped well below the broker's visibility timeout, so that a killed worker loses
nothing and a repeated message duplicates nothing. The sends enqueue each other by passing
`.delay` down; nothing below this module imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from haven import ops

from . import checkpoints, reminders

log = logging.getLogger(__name__)

# Backoff 1, 2, 4, ... seconds with jitter, never above RETRY_BACKOFF_MAX (10 minutes, and at
# most a quarter of Redis' visibility timeout, BROKER_VISIBILITY_TIMEOUT, after which an
# unacknowledged message is delivered again: a retry waits holding its message).
RETRY_BACKOFF_MAX = settings.RETRY_BACKOFF_MAX
# Tasks that only read and write the database: retried when it fails.
DATABASE_OPTIONS = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "max_retries": 3,
}
SEND_OPTIONS = {
    "autoretry_for": (reminders.DeliveryFailed, DatabaseError),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 5,
    # Bounded inside the claim's grace period (REMINDER_GRACE_SECONDS, which the settings
    # keep above SEND_TIME_LIMIT), so a claim older than that can only belong to a dead
    # worker. (Enforced by the prefork pool.)
    "soft_time_limit": settings.SEND_SOFT_TIME_LIMIT,
    "time_limit": settings.SEND_TIME_LIMIT,
}


@shared_task(name="cases.tasks.sweep_deadlines", **DATABASE_OPTIONS)
def sweep_deadlines() -> None:
    """Beat, every SWEEP_INTERVAL_MINUTES: create due reminders and enqueue their sends.
    Records when it ended and how long it took (`/metrics`)."""
    started = time.monotonic()
    result = reminders.sweep(enqueue=send_reminder.delay, enqueue_digest=send_digest.delay)
    ops.record_quietly(ops.SWEEP, {"at": time.time(), "seconds": time.monotonic() - started})
    log.info(
        "Deadline sweep: %d due, %d reminders created, %d sends enqueued again.",
        result.due,
        result.created,
        result.requeued,
    )


@shared_task(name="cases.tasks.sweep_case_deadlines", **DATABASE_OPTIONS)
def sweep_case_deadlines(application_id: int) -> None:
    """After a change to one case: send at once the reminders of its deadlines that are
    already inside a reminder window or overdue."""
    reminders.sweep(application_id=application_id, enqueue=send_reminder.delay)


@shared_task(name="cases.tasks.send_reminder", **SEND_OPTIONS)
def send_reminder(reminder_id: int) -> None:
    """Deliver one reminder (in-app exactly once, email at least once)."""
    reminders.send_reminder(reminder_id)


@shared_task(name="cases.tasks.send_digests", **DATABASE_OPTIONS)
def send_digests() -> None:
    """Beat, daily at DIGEST_HOUR Vilnius time: one digest task per user."""
    reminders.send_digests(enqueue=send_digest.delay)


@shared_task(name="cases.tasks.send_digest", **SEND_OPTIONS)
def send_digest(user_id: int, day: str) -> None:
    """Send one user's digest for `day` (ISO date), once."""
    reminders.send_digest(user_id, dt.date.fromisoformat(day))


@shared_task(name="cases.tasks.requeue_unsent", **DATABASE_OPTIONS)
def requeue_unsent() -> None:
    """Sent by a worker each time it connects to the broker (`haven.celery`): enqueue again
    what is unsent after the grace period, so delivery resumes as soon as Redis is back."""
    count = reminders.requeue_unsent(enqueue=send_reminder.delay, enqueue_digest=send_digest.delay)
    if count:
        log.info("Connected to the broker: %d unsent reminders enqueued again.", count)


@shared_task(name="cases.tasks.write_audit_checkpoints", **DATABASE_OPTIONS)
def write_audit_checkpoints() -> None:
    """Beat, every AUDIT_CHECKPOINT_MINUTES: checkpoint the chains that grew (it logs the
    run's digest). The chains found short of their last checkpoint go to `/metrics`."""
    run = checkpoints.write_checkpoints()
    if not run.busy:
        ops.record_quietly(
            ops.AUDIT, {"at": time.time(), "problems": len(run.short), "by": "checkpoint"}
        )
