"""Run one deadline sweep by hand (beat runs it every SWEEP_INTERVAL_MINUTES).

Creates the reminders that are due and sends them: through the worker when REDIS_URL is
set, in this process otherwise. `--dry-run` shows what would be sent and changes nothing;
`--digest` also sends today's digests.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import User
from cases import reminders, tasks


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
        self.stdout.write(
            f"Swept at {result.now:%Y-%m-%d %H:%M %Z}: {result.due} open deadlines inside a "
            f"reminder window or overdue; {result.created} reminders created and sent; "
            f"{result.requeued} unsent reminders sent again."
        )
        if digest:
            count = reminders.send_digests(enqueue=tasks.send_digest.delay)
            self.stdout.write(f"Digests sent to {count} users.")

    def _show_plan(self, result: reminders.SweepResult, verbosity: int) -> None:
        self.stdout.write(
            f"Dry run at {result.now:%Y-%m-%d %H:%M %Z}: {result.due} open deadlines inside "
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
