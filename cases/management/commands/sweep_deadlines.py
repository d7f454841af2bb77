"""Run one deadline sweep by hand (beat runs it every SWEEP_INTERVAL_MINUTES).

Creates the reminders that are due and sends them: through the worker when REDIS_URL is
set, in this process otherwise. `--dry-run` shows what would be sent and changes nothing;
`--digest` also sends today's digests.

A first sweep over a large backlog takes long (23 minutes at a million cases): progress goes
to stderr (`-v 1`, the default: about every 5 %; `-v 2`: every batch; `-v 0`: none), and
each batch of deadlines commits on its own, its sends enqueued when it does. Ctrl-C stops
the sweep and keeps the finished batches; run the command again to go on: it finds their
reminders and sends none of them twice.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from cases import reminders, tasks
from haven.celery import app


class Command(BaseCommand):
    help = (
        "Sweep the open statutory deadlines once: create the reminders that are due (14, 3 "
        "and 1 days before, and when overdue) and send them. Running it twice sends nothing "
        "twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show which reminders would be sent, to whom; write and send nothing.",
        )
        parser.add_argument(
            "--digest", action="store_true", help="Also send today's digest to each user."
        )

    def handle(self, *args, dry_run: bool, digest: bool, verbosity: int, **options) -> None:
        now = timezone.now()
        progress = None
        if not dry_run and verbosity >= 1:
            progress = Progress(self, reminders.count_candidates(now), every_batch=verbosity >= 2)
        done = reminders.SweepResult(now=now)
        try:
            result = reminders.sweep(
                now=now,
                dry_run=dry_run,
                enqueue=tasks.send_reminder.delay,
                enqueue_digest=tasks.send_digest.delay,
                commit_each_batch=not dry_run,
                progress=lambda result: self._batch_done(result, done, progress),
            )
        except KeyboardInterrupt:
            raise CommandError(
                f"Interrupted after {done.read} of the deadlines to read: the "
                f"{done.created} reminders created so far are kept and sent. Run the command "
                "again to go on; nothing is sent twice.",
                returncode=130,
            ) from None
        if dry_run:
            self._show_plan(result, verbosity)
            return
        how = "sent in this process" if app.conf.task_always_eager else "queued for the worker"
        self.stdout.write(
            f"Swept at {_local(result)}: {result.due} open deadlines inside a reminder window "
            f"or overdue; {result.created} reminders created and {how}; {result.requeued} "
            "unsent reminders queued again."
        )
        waiting = result.created + result.requeued - result.enqueued
        if waiting:
            self.stdout.write(
                f"The broker did not answer: {waiting} sends wait for the next sweep "
                "(the reminders are saved)."
            )
        if digest:
            count = reminders.send_digests(enqueue=tasks.send_digest.delay)
            self.stdout.write(
                f"Today's digest {how} for {count} users (each user gets it once a day)."
            )

    @staticmethod
    def _batch_done(result, done: reminders.SweepResult, progress: Progress | None) -> None:
        # What has been committed so far, for the message if the sweep is interrupted.
        done.read, done.created = result.read, result.created
        if progress is not None:
            progress(result)

    def _show_plan(self, result: reminders.SweepResult, verbosity: int) -> None:
        self.stdout.write(
            f"Dry run at {_local(result)}: {result.due} open deadlines inside "
            f"a reminder window or overdue; {len(result.planned)} reminders would be sent. "
            "Nothing was written or sent."
        )
        if verbosity < 1 or not result.planned:
            return
        names = dict(
            User.objects.filter(pk__in={p.recipient_id for p in result.planned}).values_list(
                "pk", "username"
            )
        )
        for p in result.planned:
            when = "overdue" if p.level == 0 else f"{p.level} days before"
            self.stdout.write(
                f"  {p.reference}  {p.rule:<18} due {p.due_on}  {when:<15} "
                f"-> {names.get(p.recipient_id, p.recipient_id)}"
            )


def _local(result: reminders.SweepResult) -> str:
    return f"{timezone.localtime(result.now):%Y-%m-%d %H:%M} (Vilnius)"


class Progress:
    """Progress lines on stderr: about every 5 % of the deadlines to read (each batch with
    `every_batch`), with the reminders created and the time taken, as `generate_cases` does."""

    def __init__(self, command: BaseCommand, total: int, *, every_batch: bool) -> None:
        self.command = command
        self.total = total
        self.step = 1 if every_batch else max(1, total // 20)
        self.next = self.step
        self.started = time.monotonic()
        self.say(f"Sweeping: {total:,} open deadlines to read ...")

    def __call__(self, result: reminders.SweepResult) -> None:
        if result.read < self.next:
            return
        self.next = (result.read // self.step + 1) * self.step
        self.say(
            f"  {result.read:>9,} of {self.total:,} deadlines read  ({result.due:,} due, "
            f"{result.created:,} reminders created, {time.monotonic() - self.started:.0f} s)"
        )

    def say(self, line: str) -> None:
        # stderr, but not in the error colour: progress is not an error.
        self.command.stderr.write(line, style_func=str)
        self.command.stderr.flush()
