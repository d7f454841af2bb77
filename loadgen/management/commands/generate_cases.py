"""Generate synthetic cases for benchmarks (`loadgen`): PostgreSQL only.

    python manage.py generate_cases --count 100000 --seed 1

Every generated case is marked synthetic (references `SYN-...`, units and users "SYN ...").
Run it against a database of its own (`make bench` creates `haven_bench_<N>`), never against
one that holds real cases.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from loadgen.loader import generate
from loadgen.story import LONG_CASE_EVENTS

MAX_COUNT = 10_000_000


class Command(BaseCommand):
    help = (
        "Load COUNT synthetic (SYN-) cases with COPY into the PostgreSQL database: applicants "
        "with Latin and Cyrillic names, every status, placements, deadlines, hash-chained "
        "timelines, units and staff. Adds to what is there; use a database of its own."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many cases to add.")
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed (same seed, same day: same data)."
        )

    def handle(self, *args, count: int, seed: int, verbosity: int, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "generate_cases needs PostgreSQL (it loads rows with COPY and checks them with "
                "PostgreSQL's triggers): set DATABASE_URL=postgres://... . The embedded SQLite "
                "database is for trying Haven with the sample case only."
            )
        if not 1 <= count <= MAX_COUNT:
            raise CommandError(f"--count must be between 1 and {MAX_COUNT:,}.")

        def say(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(message)
                self.stdout.flush()

        database = connection.settings_dict["NAME"]
        say(f"Generating {count:,} synthetic cases (seed {seed}) into {database} ...")
        report = generate(count, seed=seed, progress=say)
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(report.statuses.items()))
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
        say(
            f"Done: {report.cases:,} cases ({statuses}); {report.events:,} events, "
            f"{report.deadlines:,} deadlines, {report.placements:,} placements, "
            f"{report.notes:,} notes, {report.users:,} new users. "
            f"Case with {LONG_CASE_EVENTS} events: id {report.long_case_id}."
        )
        say(f"Time: {timings}.")
