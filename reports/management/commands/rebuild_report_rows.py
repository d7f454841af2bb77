"""`manage.py rebuild_report_rows`: every report row from the case timeline, from scratch."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from reports import folding


class Command(BaseCommand):
    help = (
        "Rebuild the reports' daily aggregate rows from the case timeline (after a bulk load "
        "or to repair them). Changes made meanwhile are folded in at the end."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args, no_progress: bool = False, **options) -> None:
        started = time.monotonic()
        progress = None if no_progress or options["verbosity"] < 1 else folding.print_progress
        result = folding.rebuild(progress=progress)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Rebuilt {result.rows:,} report rows from {result.events:,} events of "
            f"{result.cases:,} cases in {seconds:.1f} s."
        )
