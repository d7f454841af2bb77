"""Run one deadline sweep by hand (beat runs it every SWEEP_INTERVAL_MINUTES).

Creates the reminders that are due and sends them: through the worker when REDIS_URL is
set, in this process otherwise. `--dry-run` shows what would be sent and changes nothing;
`--digest` also sends today's digests.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
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
        result = reminders.sweep(
            dry_run=dry_run,
            enqueue=tasks.send_reminder.delay,
            enqueue_digest=tasks.send_digest.delay,
        )
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
