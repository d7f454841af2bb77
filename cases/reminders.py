"""Deadline reminders: the sweep, sending, and the daily digest.

The sweep (`sweep`, run by beat every SWEEP_INTERVAL_MINUTES through `cases.tasks`):

1. reads the open deadlines whose `due_at` lies before now plus the largest reminder lead
   time, through the partial index on open deadlines' `due_at` (one index range scan: the
   cost grows with what is due, not with the number of cases), so a sweep that ran late or
   after downtime catches up;
2. gives each the most urgent level reached (`deadlines.reminder_level`: 14, 3, 1 days
   before, 0 = overdue), so a late sweep sends only that level, never a backlog;
3. picks the one recipient: the assigned caseworker, or the unit's duty officer when nobody
   (active) is assigned (each unit's is read once per sweep); with neither, no reminder: the
   unit's decision-makers see the deadline in their daily digest, which is also where
   overdue deadlines are escalated. A sweep therefore writes at most one reminder per
   deadline, whatever the backlog;
4. reads the existing reminders of those deadlines in one query per batch and creates the
   missing ones with `bulk_create(ignore_conflicts=True)` (the unique constraint on
   deadline, level and recipient settles two sweeps running at once), all in one
   transaction, a batch of deadlines at a time: the due rows are streamed, so a sweep
   over a large backlog (the first one after a migration of old cases) holds one batch in
   memory, not the backlog;
5. after commit, enqueues a send per new reminder, and again for reminders still unsent
   after the grace period (their enqueue was lost with Redis down, or the worker sending
   them died): `transaction.on_commit(..., robust=True)`, so a broker that does not answer
   never undoes the sweep.

Sending (`send_reminder`) claims the row with a conditional UPDATE (`sent_at IS NULL` and
no live claim; it must touch exactly one row), so two workers never both send one reminder.
The in-app `Notification` is created in the same transaction as the claim and is tied to
the reminder one-to-one: in-app delivery is exactly once. The email goes out after that
commit and `sent_at` is set when it went out; a failure is recorded in `last_error` and
`attempts`, the claim is released and the task retries with backoff.

Be clear about what this guarantees: email is at-least-once. A worker that dies after the
mail server accepted the message but before `sent_at` was written leaves a claim that
expires after the grace period; the next sweep (or Redis redelivering the unacknowledged
task) then sends that email again. A reminder is never lost while its deadline is open:
nothing is acknowledged before it is done, and every sweep re-enqueues what is unsent.

The digest (`send_digests`, daily at DIGEST_HOUR Vilnius time) gives each user one email
about what is due within DIGEST_DAYS or overdue for them (`digest_deadlines`): their own
cases, the unassigned ones of a duty officer, and for decision-makers every overdue deadline
of the unit (the escalation) and the deadlines nobody is reminded of. It counts them by
rule, names the DIGEST_ITEMS most urgent and links to the filtered list.
Its in-app row, one per user and day, is the claim that keeps it from being sent twice.

Nothing here imports `cases.tasks`: the task passes its `.delay` in, or the send is
enqueued by name (`notifications.enqueue_task`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError as BrokerError

from accounts import roles
from accounts.models import Unit, User

from . import deadlines, notifications
from .labels import data_text
from .models import Deadline, DeadlineRule, Notification, Reminder

log = logging.getLogger(__name__)

SEND_REMINDER_TASK = "cases.tasks.send_reminder"
SEND_DIGEST_TASK = "cases.tasks.send_digest"
BATCH = 1000

Enqueue = Callable[..., Any]


class DeliveryFailed(Exception):
    """Sending failed; the error is recorded on the row and the send is retried."""


# ------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------


def grace_period() -> dt.timedelta:
    """How long a send may hold its claim. Older claims belong to a dead worker; older
    unclaimed rows lost their enqueue. Above any send (SEND_TIME_LIMIT stops one)."""
    return dt.timedelta(seconds=settings.REMINDER_GRACE_SECONDS)


def max_attempts() -> int:
    return settings.REMINDER_MAX_ATTEMPTS


# ------------------------------------------------------------------------------------------
# Who is told
# ------------------------------------------------------------------------------------------


def _duty_officers(unit_ids: Iterable[int], cache: dict[int, int | None]) -> None:
    """Fill `cache` (unit id -> its active duty officer's id, or None) for the units not yet
    in it, with one query."""
    missing = {u for u in unit_ids if u is not None and u not in cache}
    if not missing:
        return
    for unit_id in missing:
        cache[unit_id] = None
    for unit_id, officer_id in Unit.objects.filter(
        pk__in=missing, duty_officer__is_active=True
    ).values_list("pk", "duty_officer_id"):
        cache[unit_id] = officer_id


def recipient(
    *,
    assignee_id: int | None,
    assignee_active: bool | None,
    unit_id: int,
    duty_officers: dict[int, int | None],
) -> int | None:
    """The one person a deadline's reminders go to: the assigned caseworker, or the unit's
    duty officer when nobody (active) is assigned. None: nobody; the unit's decision-makers
    see it in their daily digest. Overdue deadlines are escalated through that digest too,
    never as one reminder per decision-maker."""
    if assignee_id is not None and assignee_active:
        return assignee_id
    return duty_officers.get(unit_id)


# ------------------------------------------------------------------------------------------
# The sweep
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlannedReminder:
    deadline_id: int
    application_id: int
    reference: str
    rule: str
    due_on: dt.date
    level: int
    recipient_id: int


@dataclasses.dataclass
class SweepResult:
    now: dt.datetime
    read: int = 0  # open deadlines read (due soon by the widest window: `count_candidates`)
    due: int = 0  # open deadlines inside a reminder window or overdue
    created: int = 0  # new reminders (0 in a dry run)
    requeued: int = 0  # unsent reminders enqueued again after the grace period
    enqueued: int = 0  # sends handed to the broker once the sweep committed
    planned: list[PlannedReminder] = dataclasses.field(default_factory=list)


_DUE_FIELDS = (
    "pk",
    "rule_id",
    "due_on",
    "due_at",
    "application_id",
    "application__reference",
    "application__unit_id",
    "application__assigned_to_id",
    "application__assigned_to__is_active",
    "application__recorded_as_of",
)


def _lead_days() -> dict[str, list[int]]:
    """Each rule's lead times (the rules table is small: read whole, once per sweep)."""
    rules = DeadlineRule.objects.values_list("code", "reminder_days")
    return {code: DeadlineRule(reminder_days=days).lead_days() for code, days in rules}


def due_deadlines(now: dt.datetime, *, horizon_days: int, application_id: int | None = None):
    """Open deadlines due before `now + horizon_days`, as named rows of `_DUE_FIELDS` (those of
    a case recorded after the fact, `application__recorded_as_of`, remind nobody).

    `status = 'open' AND due_at <= ...` is answered by the partial index
    `deadline_open_due_idx`; the ordering is dropped so nothing sorts the whole range.
    """
    # The case's `recorded_as_of` is read with the row and the historical ones are skipped
    # by the caller: a filter on it would lead the planner away from the deadlines' index.
    rows = Deadline.objects.open().filter(due_at__lte=now + dt.timedelta(days=horizon_days))
    if application_id is not None:
        rows = rows.filter(application_id=application_id)
    return rows.order_by().values_list(*_DUE_FIELDS, named=True)


def _horizon(leads: dict[str, list[int]]) -> int:
    """How many days ahead a sweep reads: a window opens at the start of the day `lead` days
    before the last day: reach a day further (two, so that a 25-hour day of a clock change is
    covered); the levels are then exact."""
    return max((max(days, default=0) for days in leads.values()), default=0) + 2


def count_candidates(now: dt.datetime) -> int:
    """How many open deadlines a sweep at `now` reads (an upper bound of its `due`): one
    count over the partial index, for a progress report."""
    return due_deadlines(now, horizon_days=_horizon(_lead_days())).count()


def _batches(
    now: dt.datetime, *, application_id: int | None = None
) -> Iterator[tuple[int, list[PlannedReminder]]]:
    """What a sweep at `now` would create, BATCH deadlines at a time: (deadlines read and due
    in the batch, reminders to create for them). The due rows are streamed (a server-side
    cursor on PostgreSQL), so memory stays bounded by the batch, whatever the backlog."""
    leads = _lead_days()
    rows = due_deadlines(now, horizon_days=_horizon(leads), application_id=application_id)
    duty_officers: dict[int, int | None] = {}
    for chunk in itertools.batched(rows.iterator(chunk_size=BATCH), BATCH):
        batch = []
        for row in chunk:
            if row.application__recorded_as_of is not None:
                continue  # history, not an alarm
            level = deadlines.reminder_level(leads.get(row.rule_id, []), row.due_at, now)
            if level is not None:
                batch.append((row, level))
        if not batch:
            yield len(chunk), 0, []
            continue
        _duty_officers({row.application__unit_id for row, _level in batch}, duty_officers)
        # The most urgent level each recipient already has, per deadline: one query.
        sent: dict[tuple[int, int], int] = {}
        for deadline_id, recipient_id, level in Reminder.objects.filter(
            deadline_id__in=[row.pk for row, _level in batch]
        ).values_list("deadline_id", "recipient_id", "level"):
            key = (deadline_id, recipient_id)
            sent[key] = min(level, sent.get(key, level))
        planned: list[PlannedReminder] = []
        for row, level in batch:
            person = recipient(
                assignee_id=row.application__assigned_to_id,
                assignee_active=row.application__assigned_to__is_active,
                unit_id=row.application__unit_id,
                duty_officers=duty_officers,
            )
            if person is None or sent.get((row.pk, person), level + 1) <= level:
                continue  # nobody to remind, or this level or a more urgent one went out
            planned.append(
                PlannedReminder(
                    deadline_id=row.pk,
                    application_id=row.application_id,
                    reference=row.application__reference,
                    rule=row.rule_id,
                    due_on=row.due_on,
                    level=level,
                    recipient_id=person,
                )
            )
        yield len(chunk), len(batch), planned


def plan(
    now: dt.datetime, *, application_id: int | None = None
) -> tuple[int, list[PlannedReminder]]:
    """What a sweep at `now` would create: (deadlines due, reminders to create)."""
    due, planned = 0, []
    for _read, count, batch in _batches(now, application_id=application_id):
        due += count
        planned.extend(batch)
    return due, planned


def count_due(now: dt.datetime) -> int:
    """How many open deadlines a sweep at `now` finds inside a reminder window or overdue
    (the sweep's `due`, without reading reminders or recipients)."""
    leads = _lead_days()
    rows = due_deadlines(now, horizon_days=_horizon(leads)).values_list(
        "rule_id", "due_at", "application__recorded_as_of"
    )
    return sum(
        as_of is None and deadlines.reminder_level(leads.get(rule, []), due_at, now) is not None
        for rule, due_at, as_of in rows.iterator(chunk_size=10 * BATCH)
    )


def sweep(
    *,
    now: dt.datetime | None = None,
    enqueue: Enqueue | None = None,
    enqueue_digest: Enqueue | None = None,
    application_id: int | None = None,
    dry_run: bool = False,
    commit_each_batch: bool = False,
    progress: Callable[[SweepResult], None] | None = None,
) -> SweepResult:
    """One sweep: create the reminders that are due, then (on commit) enqueue their sends
    and those of reminders and digests still unsent after the grace period.

    `enqueue(reminder_id)` and `enqueue_digest(user_id, day_iso)` default to enqueueing the
    send tasks by name. `application_id` limits the sweep to one case (run after a change
    to it). With `dry_run` nothing is written or sent; `planned` says what would be (only a
    dry run keeps that list: a sweep writes each batch and lets it go).

    With `commit_each_batch` (a sweep run by hand over a large backlog) each batch commits
    on its own and its sends are enqueued when it does: a sweep interrupted at any point
    keeps the batches it finished, and the next sweep finds their reminders and creates
    none of them again. `progress(result)` is called after each batch, `result.read`
    counting the deadlines read so far.
    """
    now = now or timezone.now()
    result = SweepResult(now=now)
    if dry_run:
        result.due, result.planned = plan(now, application_id=application_id)
        return result
    if commit_each_batch:
        return _sweep_batch_by_batch(result, enqueue, enqueue_digest, progress)
    with transaction.atomic():
        new_ids: list[int] = []
        for read, count, batch in _batches(now, application_id=application_id):
            result.read += read
            result.due += count
            new_ids.extend(_create(batch, now))
            if progress is not None:
                progress(result)
        result.created = len(new_ids)
        stale = _release_stale_reminders(now, application_id=application_id)
        result.requeued = len(stale)
        digests = [] if application_id is not None else _stale_digests(now)
        _dispatch_on_commit(
            [*new_ids, *stale], _or_by_name(enqueue, SEND_REMINDER_TASK), result=result
        )
        _dispatch_on_commit(digests, _or_by_name(enqueue_digest, SEND_DIGEST_TASK))
    return result


def _sweep_batch_by_batch(
    result: SweepResult,
    enqueue: Enqueue | None,
    enqueue_digest: Enqueue | None,
    progress: Callable[[SweepResult], None] | None,
) -> SweepResult:
    """`sweep(commit_each_batch=True)`: a transaction per batch; then, in one more, the
    reminders and digests still unsent after the grace period (as `requeue_unsent`)."""
    now = result.now
    send = _or_by_name(enqueue, SEND_REMINDER_TASK)
    # Outside a transaction the streamed rows' cursor is held across the batches' commits.
    for read, count, batch in _batches(now):
        with transaction.atomic():
            new_ids = _create(batch, now)
            _dispatch_on_commit(new_ids, send, result=result)
        result.read += read
        result.due += count
        result.created += len(new_ids)
        if progress is not None:
            progress(result)
    with transaction.atomic():
        stale = _release_stale_reminders(now, application_id=None)
        result.requeued = len(stale)
        _dispatch_on_commit(stale, send, result=result)
        _dispatch_on_commit(_stale_digests(now), _or_by_name(enqueue_digest, SEND_DIGEST_TASK))
    return result


def requeue_unsent(
    *,
    now: dt.datetime | None = None,
    enqueue: Enqueue | None = None,
    enqueue_digest: Enqueue | None = None,
) -> int:
    """Enqueue again, on commit, the reminders and today's digests still unsent after the
    grace period: the sweep's second half, without creating anything. A worker runs it when
    it connects to the broker (at start and after the connection was lost), so that sends
    lost while Redis was down go out as soon as it is back, not at the next sweep. Returns
    how many reminders were enqueued again."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = _release_stale_reminders(now, application_id=None)
        _dispatch_on_commit(stale, _or_by_name(enqueue, SEND_REMINDER_TASK))
        _dispatch_on_commit(_stale_digests(now), _or_by_name(enqueue_digest, SEND_DIGEST_TASK))
    return len(stale)


def _create(planned: Sequence[PlannedReminder], now: dt.datetime) -> list[int]:
    """Insert the planned reminders (a row another sweep inserted first is skipped) and
    return the ids of the unsent rows for them."""
    if not planned:
        return []
    Reminder.objects.bulk_create(
        [
            Reminder(
                deadline_id=p.deadline_id,
                level=p.level,
                recipient_id=p.recipient_id,
                created_at=now,
            )
            for p in planned
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    # ignore_conflicts returns no ids: read them back (one query per batch).
    wanted = {(p.deadline_id, p.level, p.recipient_id) for p in planned}
    deadline_ids = sorted({p.deadline_id for p in planned})
    ids: list[int] = []
    for start in range(0, len(deadline_ids), BATCH):
        for pk, deadline_id, level, recipient_id in Reminder.objects.filter(
            deadline_id__in=deadline_ids[start : start + BATCH], sent_at__isnull=True
        ).values_list("pk", "deadline_id", "level", "recipient_id"):
            if (deadline_id, level, recipient_id) in wanted:
                ids.append(pk)
    return ids


def _release_stale_reminders(now: dt.datetime, *, application_id: int | None) -> list[int]:
    """Unsent reminders whose enqueue was lost (no claim, older than the grace period) or
    whose worker died (claim older than the grace period): release the stale claims and
    return them to enqueue again. Only while the deadline is open, the recipient active and
    the attempts below REMINDER_MAX_ATTEMPTS (beyond that an administrator retries)."""
    cutoff = now - grace_period()
    rows = Reminder.objects.filter(
        sent_at__isnull=True,
        created_at__lt=cutoff,
        attempts__lt=max_attempts(),
        deadline__status=Deadline.Status.OPEN,
        recipient__is_active=True,
    ).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
    if application_id is not None:
        rows = rows.filter(deadline__application_id=application_id)
    ids = list(rows.order_by("created_at").values_list("pk", flat=True))
    if ids:
        Reminder.objects.filter(pk__in=ids, sent_at__isnull=True, claimed_at__lt=cutoff).update(
            claimed_at=None
        )
    return ids


def _stale_digests(now: dt.datetime) -> list[tuple[int, str]]:
    """Today's digests whose email has not gone out after the grace period."""
    cutoff = now - grace_period()
    today = timezone.localdate(now)
    rows = (
        Notification.objects.filter(
            kind=Notification.Kind.DIGEST,
            digest_on=today,
            emailed_at__isnull=True,
            created_at__lt=cutoff,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .values_list("recipient_id", flat=True)
    )
    return [(user_id, today.isoformat()) for user_id in rows]


def _or_by_name(enqueue: Enqueue | None, task_name: str) -> Enqueue:
    """The enqueue function passed in, or one that enqueues the task by its name."""
    return enqueue if enqueue is not None else partial(notifications.enqueue_task, task_name)


def dispatch(items: Sequence[Any], enqueue: Enqueue) -> int:
    """Enqueue each item (an id, or a tuple of arguments); returns how many were enqueued.

    When the broker does not answer, stop at the first failure (each try costs the
    connection timeout) and leave the rest to the next sweep, which finds them unsent after
    the grace period. In eager mode a send runs here: its failure is recorded on its row,
    and the others go on."""
    for position, item in enumerate(items):
        args = item if isinstance(item, tuple) else (item,)
        try:
            enqueue(*args)
        except (BrokerError, OSError):
            log.warning(
                "The broker does not answer: %d sends not enqueued; the next sweep enqueues "
                "them again.",
                len(items) - position,
                exc_info=True,
            )
            return position
        except Exception:
            log.exception("Sending %r failed", args)
    return len(items)


def _dispatch_on_commit(
    items: Sequence[Any], enqueue: Enqueue, *, result: SweepResult | None = None
) -> None:
    """Enqueue the items once the current transaction commits, in one robust callback: a
    broker that does not answer never undoes what the transaction saved. The number handed
    to the broker is added to `result.enqueued`."""
    if not items:
        return
    pending = list(items)

    def run() -> None:
        count = dispatch(pending, enqueue)
        if result is not None:
            result.enqueued += count

    transaction.on_commit(run, robust=True)


# ------------------------------------------------------------------------------------------
# Sending one reminder
# ------------------------------------------------------------------------------------------


def _claim(queryset, now: dt.datetime, *, sent_field: str, **changes: Any) -> bool:
    """Claim one outbox row: a conditional UPDATE that must touch exactly one row. It
    succeeds when the row is unsent and unclaimed, or its claim is older than the grace
    period (the worker that held it died). `claimed_at = now` is also the claim's token."""
    cutoff = now - grace_period()
    return (
        queryset.filter(**{f"{sent_field}__isnull": True})
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .update(claimed_at=now, **changes)
        == 1
    )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def reminder_text(reminder: Reminder, today: dt.date) -> str:
    """The in-app text: the case's reference and the deadline, no personal data."""
    deadline = reminder.deadline
    values = {
        "ref": deadline.application.reference,
        "rule": data_text(deadline.rule.name),
        "due": due_text(deadline),
    }
    if reminder.level == 0:
        return _("%(ref)s: %(rule)s is overdue (due %(due)s).") % values
    days = max((deadline.due_on - today).days, 0)
    return ngettext(
        "%(ref)s: %(rule)s is due %(due)s (%(days)s day left).",
        "%(ref)s: %(rule)s is due %(due)s (%(days)s days left).",
        days,
    ) % {**values, "days": days}


def due_text(deadline: Deadline) -> str:
    """The legal date, with the hour for hour limits (Vilnius time)."""
    if deadline.rule.unit == DeadlineRule.TimeUnit.HOURS:
        return timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M")
    return deadline.due_on.isoformat()


def reminder_context(reminder: Reminder, today: dt.date) -> dict[str, Any]:
    deadline = reminder.deadline
    link = notifications.case_link(deadline.application)
    return {
        "reference": deadline.application.reference,
        "rule": data_text(deadline.rule.name),
        "legal_source": data_text(deadline.legal_reference),
        "due": due_text(deadline),
        "overdue": reminder.level == 0,
        "days_left": max((deadline.due_on - today).days, 0),
        "link": notifications.absolute_url(link),
        "text": reminder_text(reminder, today),
    }


def send_reminder(reminder_id: int, *, now: dt.datetime | None = None) -> str:
    """Deliver one reminder: in-app exactly once, email at least once.

    Returns what happened: "sent", "done" (already sent), "busy" (another worker holds a
    live claim), "skipped" (deadline closed or recipient inactive) or "missing". Raises
    `DeliveryFailed` after recording the error when the mail backend fails.
    """
    now = now or timezone.now()
    rows = Reminder.objects.filter(pk=reminder_id)
    with transaction.atomic():
        # 1. Claim (must touch one row), and create the in-app notification with it.
        if not _claim(rows, now, sent_field="sent_at", attempts=F("attempts") + 1):
            state = list(rows.values_list("sent_at", flat=True))
            if not state:
                return "missing"
            return "done" if state[0] is not None else "busy"
        reminder = Reminder.objects.select_related(
            "deadline__application", "deadline__rule", "recipient"
        ).get(pk=reminder_id)
        if reminder.deadline.status != Deadline.Status.OPEN or not reminder.recipient.is_active:
            rows.filter(claimed_at=now).update(
                claimed_at=None,
                last_error=_("Not sent: the deadline was closed or the recipient deactivated."),
            )
            return "skipped"
        today = timezone.localdate(now)
        # The in-app text and the email are written in the recipient's language.
        with notifications.in_language_of(reminder.recipient):
            context = reminder_context(reminder, today)
        # One per reminder (the one-to-one column is unique): a retry finds it there.
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=reminder.recipient,
                    kind=Notification.Kind.REMINDER,
                    reminder=reminder,
                    text=context["text"][:500],
                    link=notifications.case_link(reminder.deadline.application),
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )
    # 2. Email, outside any transaction (a slow mail server holds no row lock).
    try:
        notifications.send_email(reminder.recipient, "reminder", context)
    except Exception as exc:
        rows.filter(claimed_at=now).update(claimed_at=None, last_error=_error_text(exc))
        raise DeliveryFailed(f"reminder {reminder_id}: {_error_text(exc)}") from exc
    # 3. Mark: it went out.
    rows.filter(sent_at__isnull=True).update(sent_at=timezone.now(), claimed_at=None, last_error="")
    return "sent"


def retry(reminder_ids: Iterable[int], *, enqueue: Enqueue | None = None) -> int:
    """An administrator's "retry sending": give unsent reminders a fresh set of attempts
    and enqueue them on commit. Returns how many were unsent."""
    ids = list(
        Reminder.objects.filter(pk__in=list(reminder_ids), sent_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if ids:
        with transaction.atomic():
            Reminder.objects.filter(pk__in=ids, sent_at__isnull=True).update(attempts=0)
            _dispatch_on_commit(ids, _or_by_name(enqueue, SEND_REMINDER_TASK))
    return len(ids)


# ------------------------------------------------------------------------------------------
# The daily digest
# ------------------------------------------------------------------------------------------


# The most urgent deadlines a digest names one by one; the rest are counted by rule.
DIGEST_ITEMS = 20


def digest_deadlines(user: User, now: dt.datetime):
    """The live open deadlines `user`'s digest covers, due within DIGEST_DAYS or overdue:

    - those of the cases assigned to them;
    - as their unit's duty officer, those of the unit's cases nobody (active) is assigned to;
    - as a decision-maker, every overdue deadline of their unit (the escalation), and the
      unit's due deadlines that nobody is reminded of (no assignee, no duty officer).
    """
    due = Deadline.objects.live().filter(due_at__lte=now + dt.timedelta(days=settings.DIGEST_DAYS))
    unassigned = Q(application__assigned_to__isnull=True) | Q(
        application__assigned_to__is_active=False
    )
    covered = Q(application__assigned_to=user)
    if user.unit_id:
        in_unit = Q(application__unit_id=user.unit_id)
        officer = (
            Unit.objects.filter(pk=user.unit_id, duty_officer__is_active=True)
            .values_list("duty_officer_id", flat=True)
            .first()
        )
        if officer == user.pk:
            covered |= in_unit & unassigned
        if user.has_role(roles.DECISION_MAKER):
            covered |= in_unit & Q(due_at__lt=now)
            if officer is None:
                covered |= in_unit & unassigned
    return due.filter(covered)


def send_digests(*, now: dt.datetime | None = None, enqueue: Enqueue | None = None) -> int:
    """Enqueue one digest per active user with an email address who has something in it;
    returns how many were enqueued. Each send is its own task, so one failing address does
    not resend everyone else's."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    users = [
        user
        for user in User.objects.filter(is_active=True, unit__isnull=False)
        .exclude(email="")
        .order_by("pk")
        if digest_deadlines(user, now).exists()
    ]
    return dispatch([(user.pk, day) for user in users], _or_by_name(enqueue, SEND_DIGEST_TASK))


def send_digest(user_id: int, day: dt.date, *, now: dt.datetime | None = None) -> str:
    """Send `user_id` their digest for `day`: "sent", "done", "busy" or "nothing".

    The in-app row (one per user and day, by a unique constraint) is created first and is
    the claim for the email, which is at-least-once like a reminder's.
    """
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return "nothing"
    covered = digest_deadlines(user, now)
    by_rule = list(
        covered.order_by()
        .values("rule_id", "rule__name")
        .annotate(
            total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)), first=Min("due_at")
        )
        .order_by("first", "rule_id")
    )
    if not by_rule:
        return "nothing"
    items = list(
        covered.select_related("application", "rule").order_by("due_at", "pk")[:DIGEST_ITEMS]
    )
    overdue = sum(row["overdue"] for row in by_rule)
    total = sum(row["total"] for row in by_rule)
    due_soon = total - overdue
    with notifications.in_language_of(user):
        text = ngettext(
            "Today's digest: %(count)s deadline due within %(days)s days, %(overdue)s overdue.",
            "Today's digest: %(count)s deadlines due within %(days)s days, %(overdue)s overdue.",
            due_soon,
        ) % {"count": due_soon, "days": settings.DIGEST_DAYS, "overdue": overdue}
        rules = [
            {"rule": data_text(row["rule__name"]), "total": row["total"], "overdue": row["overdue"]}
            for row in by_rule
        ]
    rows = Notification.objects.filter(
        kind=Notification.Kind.DIGEST, recipient_id=user.pk, digest_on=day
    )
    with transaction.atomic():
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=user,
                    kind=Notification.Kind.DIGEST,
                    digest_on=day,
                    text=text[:500],
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )
        if not _claim(rows, now, sent_field="emailed_at"):
            return "done" if rows.filter(emailed_at__isnull=False).exists() else "busy"
    context = {
        "day": day.isoformat(),
        "days": settings.DIGEST_DAYS,
        "summary": text,
        "due_count": due_soon,
        "overdue_count": overdue,
        "rules": rules,
        "more": max(total - len(items), 0),
        "overdue_link": notifications.absolute_url(f"{reverse('cases:list')}?overdue=true"),
        "items": [
            {
                "reference": d.application.reference,
                "rule": data_text(d.rule.name),
                "due": due_text(d),
                "overdue": d.due_at < now,
                "link": notifications.absolute_url(notifications.case_link(d.application)),
            }
            for d in items
        ],
        "link": notifications.absolute_url(""),
    }
    try:
        notifications.send_email(user, "digest", context)
    except Exception as exc:
        rows.filter(claimed_at=now).update(claimed_at=None)
        raise DeliveryFailed(f"digest for user {user_id}: {_error_text(exc)}") from exc
    rows.filter(emailed_at__isnull=True).update(emailed_at=timezone.now(), claimed_at=None)
    return "sent"
