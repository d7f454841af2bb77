"""`generate(count, seed=...)`: synthetic cases loaded into PostgreSQL with COPY.

Speed (STACK.md, "Speed at a million cases"): rows are streamed with COPY by a writer thread
while the main thread tells the next cases (two cores: Python on one, PostgreSQL on the
other); ids are explicit and the sequences are set afterwards. Run on its own (not inside a
transaction), the load drops the foreign keys of the loaded tables and re-adds them
`NOT VALID` then `VALIDATE`s them (Django's keys are `DEFERRABLE INITIALLY DEFERRED`, so
millions of row checks would otherwise fire at COMMIT), turns off the field-history triggers
of applicants and applications (synthetic rows have no history of their creation) and the
triggers keeping the stored counts (status counts, occupancy, deadlines by due day:
recounted once after the load), and ends with `VACUUM ANALYZE`. Inside a caller's
transaction (tests) it changes no schema and checks the foreign keys before returning
(`SET CONSTRAINTS ALL IMMEDIATE`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Unit, User
from cases.models import (
    RECOUNT_SQL,
    Appeal,
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    Facility,
    Note,
    Placement,
)

from .casefile import Rules, Run
from .copywriter import CopyWriter, Ids
from .plan import STATUS_WEIGHTS
from .rows import CaseTables
from .story import LONG_CASE_EVENTS, tell
from .world import World

# Bump when the shape of generated data changes: benchmark databases built by an older
# generator are then rebuilt (bench/run.py compares it with what the database recorded).
GENERATOR_VERSION = 5

LOADED_MODELS = (Applicant, Application, Placement, Appeal, Deadline, CaseEvent, Note)
# Tables whose triggers are off during a standalone load (field history; the stored counts,
# recounted after the load).
TRIGGERS_OFF_TABLES = tuple(m._meta.db_table for m in (Applicant, Application, Placement, Deadline))
FLUSH_EVERY_CASES = 2000

Progress = Callable[[str], None]


@dataclasses.dataclass
class Report:
    cases: int = 0
    events: int = 0
    deadlines: int = 0
    placements: int = 0
    notes: int = 0
    users: int = 0
    long_case_id: int | None = None
    first_case_id: int | None = None
    statuses: Counter = dataclasses.field(default_factory=Counter)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


class Generator:
    """One run: the world of units and facilities, then `count` cases told and copied."""

    def __init__(self, count: int, seed: int, progress: Progress | None = None) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self.progress = progress or (lambda message: None)
        self.rng = random.Random(seed)
        self.now = timezone.now().astimezone(dt.UTC).replace(microsecond=0)
        self.report = Report()

    def run(self) -> Report:
        started = time.monotonic()
        report = self.report
        world = World(self.count, self.rng)
        run = Run(
            rng=self.rng,
            now=self.now,
            ids=Ids(LOADED_MODELS),
            rules=Rules(),
            occupancy=world.occupancy,
        )
        tables = CaseTables(self.now)
        report.users = world.new_users
        report.first_case_id = run.ids.next[Application]
        report.seconds["reference rows"] = time.monotonic() - started
        writer = CopyWriter(connection.connection)
        step = max(1, self.count // 20)
        try:
            for n in range(self.count):
                # The long case first, then one case of each status, then chance decides.
                forced = STATUS_WEIGHTS[n - 1][0] if 1 <= n <= len(STATUS_WEIGHTS) else None
                case = tell(run, world, long=n == 0, forced=forced)
                tables.write(case)
                report.statuses[case.status] += 1
                if len(case.events) == LONG_CASE_EVENTS and report.long_case_id is None:
                    report.long_case_id = case.id
                if n % FLUSH_EVERY_CASES == FLUSH_EVERY_CASES - 1:
                    for table in tables.all:
                        writer.flush(table)
                if (n + 1) % step == 0 or n + 1 == self.count:
                    self.progress(
                        f"  {n + 1:>9,} of {self.count:,} cases  "
                        f"({tables.events.rows:,} events, {time.monotonic() - started:.0f} s)"
                    )
            for table in tables.all:
                writer.flush(table, force=True)
        finally:
            writer.close()
        world.fit_capacities()
        report.cases = tables.applications.rows
        report.events = tables.events.rows
        report.deadlines = tables.deadlines.rows
        report.placements = tables.placements.rows
        report.notes = tables.notes.rows
        report.seconds["simulate and copy"] = time.monotonic() - started
        return report


def generate(count: int, *, seed: int = 0, progress: Progress | None = None) -> Report:
    """Generate `count` synthetic cases into the default (PostgreSQL) database.

    All or nothing: one transaction. Outside a transaction it also handles the foreign keys,
    triggers and statistics (see the module's docstring); inside one it only loads rows.
    """
    if connection.vendor != "postgresql":
        raise ValueError("synthetic cases are loaded with PostgreSQL's COPY: use PostgreSQL")
    say = progress or (lambda message: None)
    standalone = not connection.in_atomic_block
    tables = [m._meta.db_table for m in LOADED_MODELS]
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            foreign_keys = _foreign_keys(cursor, tables) if standalone else []
            if standalone:
                for table, name, _definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for table in TRIGGERS_OFF_TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        report = Generator(count, seed, say).run()
        with connection.cursor() as cursor:
            _set_sequences(cursor)
            cursor.execute(RECOUNT_SQL)  # the counting triggers were off during the load
            if standalone:
                mark = time.monotonic()
                for table in TRIGGERS_OFF_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                say("Checking foreign keys ...")
                for table, name, definition in foreign_keys:
                    cursor.execute(
                        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID'
                    )
                for table, name, _definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
                report.seconds["foreign keys"] = time.monotonic() - mark
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if standalone:
        mark = time.monotonic()
        say("VACUUM ANALYZE ...")
        with connection.cursor() as cursor:
            for table in (*tables, User._meta.db_table, Facility._meta.db_table):
                cursor.execute(f"VACUUM ANALYZE {table}")
        report.seconds["vacuum analyze"] = time.monotonic() - mark
    report.seconds["total"] = time.monotonic() - started
    return report


def _foreign_keys(cursor, tables: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, constraint name, definition) of the foreign keys on `tables`."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
        "ORDER BY 1, 2",
        [list(tables)],
    )
    return list(cursor.fetchall())


def _set_sequences(cursor) -> None:
    """Sequences past the explicit ids, so the next row made through the ORM gets a new id."""
    for model in (*LOADED_MODELS, User, Unit, Facility):
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
