"""The reports' daily aggregate rows (`ReportRow`), folded from the case timeline.

One pure function, `fold(facts, event, tally)`, turns one event of a case into changes of
the report rows, given what is known of the case so far (`facts`: its status and since
when, its unit, procedure, nationality and assignee, its open deadlines and placements).
Three callers use it, so that they cannot disagree:

1. `fold_case(case id)`: the workflow calls it at the end of every change, in the same
   transaction (`cases.workflow`). The rows then commit or roll back with the change, as
   the stored counts of `cases.models.StatusCount` do: a report never counts a change that
   was rolled back, nor misses one that committed, and nothing has to be retried after a
   crash between the commit and a separate update. The cost is a few upserts per change,
   in key order so that two changes never take the same rows in opposite orders.
2. `catch_up()`: the Celery task. It reads the timeline from where it last stopped
   (`ReportCursor`) and folds whatever no workflow change folded: events written while the
   rows were not kept (a bulk load, the reports' arrival on an existing database). Each
   case remembers the last event folded into the rows (`ReportCase.last_event`), so an event
   is folded once however often it is offered: the task is idempotent and resumable.
3. `rebuild()`: everything from scratch (`manage.py rebuild_report_rows`).

A case's dimensions are those it had when its events were folded: a correction of its
procedure or applicant moves its open figures (backlog, workload, open deadlines, places)
to the new values from the day of the correction on; figures of the past keep the old ones.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from cases.deadlines import local_date
from cases.models import (
    OPEN_STATUSES,
    Applicant,
    Application,
    CaseEvent,
    DeadlineRule,
    kept_by_triggers,
)

from .models import ReportCase, ReportCursor, ReportRow

FOLDED_KINDS = (
    CaseEvent.Kind.TRANSITION,
    CaseEvent.Kind.PLACEMENT,
    CaseEvent.Kind.DEADLINE,
    CaseEvent.Kind.RECORD,
)
OPEN = frozenset(str(s) for s in OPEN_STATUSES)
CLOSED_DEADLINE = frozenset({"met", "missed", "waived", "cancelled"})
EVENT_FIELDS = ("id", "application_id", "kind", "action", "at", "to_status", "data")
# Report row key: kind, day, unit, procedure, nationality, key, sub, days.
RowKey = tuple[str, dt.date, int, str, str, str, str, int]
BATCH = 1000
# Every row is also summed over all procedures and nationalities, in rows whose procedure
# and nationality are ALL: a report without those filters (the usual one) reads one row per
# day and key, not one per procedure, nationality, day and key.
ALL = "*"
# Kinds whose rows are also summed per week, month or year, in rows of kind "<kind>:w",
# "<kind>:m" or "<kind>:y" dated the first day (Monday) of it: a report reads a whole month
# or year of them as one row per key (`reports.figures.summed`), not thirty or 365.
ROLLUPS = {
    "status": ("week", "month", "year"),
    "place": ("week", "month", "year"),
    "stage": ("month", "year"),
    "decision": ("month", "year"),
    "deadline": ("month", "year"),
    "due": ("month", "year"),
    "age": ("month", "year"),
}
# Kinds of which only today's figure is read (the workload's open cases): kept on one day.
CURRENT_ONLY = frozenset({"open"})
NO_DAY = dt.date.min


def rollup_kind(kind: str, grain: str) -> str:
    return f"{kind}:{grain[0]}"


def first_day(grain: str, day: dt.date) -> dt.date:
    """The first day of the week (Monday), month or year of `day`."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def summed_rows(rows: Iterable[tuple[RowKey, int]]) -> dict[RowKey, int]:
    """The sums of daily rows that the reports read besides them: over all procedures and
    nationalities (`ALL`), and per week, month and year (`ROLLUPS`), each of both."""
    sums: dict[RowKey, int] = defaultdict(int)
    for (kind, day, unit, procedure, nationality, *rest), value in rows:
        sums[(kind, day, unit, ALL, ALL, *rest)] += value
        for grain in ROLLUPS.get(kind, ()):
            rolled, first = rollup_kind(kind, grain), first_day(grain, day)
            sums[(rolled, first, unit, procedure, nationality, *rest)] += value
            sums[(rolled, first, unit, ALL, ALL, *rest)] += value
    return sums


class Tally(defaultdict):
    """Changes to report rows, summed per row key."""

    def __init__(self) -> None:
        super().__init__(int)

    def add(
        self,
        kind: str,
        day: dt.date,
        facts: dict[str, Any],
        key: str,
        *,
        sub: str = "",
        days: int = 0,
        n: int = 1,
    ) -> None:
        if kind in CURRENT_ONLY:
            day = NO_DAY
        self[
            (kind, day, facts["unit"], facts["procedure"], facts["nationality"], key, sub, days)
        ] += n

    def save(self) -> None:
        """Add the changes to the rows and to their sums (`summed_rows`), in key order (one
        statement per 500 rows)."""
        changes = chain(self.items(), summed_rows(self.items()).items())
        items = sorted((k, v) for k, v in changes if v)
        table = ReportRow._meta.db_table
        columns = "kind, day, unit_id, procedure, nationality, key, sub, days, value"
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params = [p for key, value in chunk for p in (*key, value)]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
                    "ON CONFLICT (kind, day, unit_id, procedure, nationality, key, sub, days) "
                    f"DO UPDATE SET value = {table}.value + EXCLUDED.value",
                    params,
                )


@dataclass(frozen=True)
class Event:
    id: int
    application_id: int
    kind: str
    action: str
    at: dt.datetime
    to_status: str
    data: dict[str, Any]


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def nationality_of(applicant_id: int | None) -> str:
    if not applicant_id:
        return ""
    found = Applicant.objects.filter(pk=applicant_id).values_list("nationality", flat=True)
    return str(found.first() or "")


def new_facts(
    unit: int, procedure: str, applicant: int | None, nationality: str, corrections: list[dict]
) -> dict:
    """A case's facts before its first event: its unit, and its procedure and nationality as
    they were then (before the first correction of each, if any; else as they are now:
    `nationality` is the case's stored copy of its applicant's)."""
    for data in corrections:
        changes = data.get("changes") or {}
        if "procedure" in changes:
            procedure = changes["procedure"].get("from") or ""
            break
    for data in corrections:
        changes = data.get("changes") or {}
        if "applicant" in changes:
            nationality = nationality_of(changes["applicant"].get("from"))
            break
    else:
        if not kept_by_triggers():
            nationality = nationality_of(applicant)
    return {
        "unit": unit,
        "procedure": procedure or "",
        "nationality": nationality or "",
        "status": "",
        "since": None,
        "made": None,
        "assignee": 0,
        "deadlines": {},
        "placements": {},
    }


def _made(facts: dict) -> dt.date | None:
    """The day the application was made (its first event's `submitted_on`, as corrected)."""
    return _date(facts["made"]) if facts.get("made") else None


def _contributions(facts: dict, day: dt.date) -> Iterator[tuple[str, dt.date, str, str]]:
    """The open figures a case adds to the rows now (what moves when its dimensions do)."""
    if facts["status"] in OPEN:
        yield "status", day, facts["status"], ""
        yield "open", day, str(facts["assignee"]), ""
        if _made(facts):
            yield "age", _made(facts), facts["status"], ""
    for rule, due in facts["deadlines"].values():
        yield "deadline", _date(due), rule, "open"
        yield "due", _date(due), str(facts["assignee"]), ""
    for facility, regime in facts["placements"].values():
        yield "place", day, facility, regime


def _reassign(facts: dict, assignee: int, day: dt.date, tally: Tally) -> None:
    old = facts["assignee"]
    if assignee == old:
        return
    if facts["status"] in OPEN:
        tally.add("open", day, facts, str(old), n=-1)
        tally.add("open", day, facts, str(assignee))
    for _rule, due in facts["deadlines"].values():
        tally.add("due", _date(due), facts, str(old), n=-1)
        tally.add("due", _date(due), facts, str(assignee))
    facts["assignee"] = assignee


def _open_deadline(facts: dict, deadline: str, rule: str, due: dt.date, tally: Tally) -> None:
    facts["deadlines"][deadline] = [rule, due.isoformat()]
    tally.add("deadline", due, facts, rule, sub="open")
    tally.add("due", due, facts, str(facts["assignee"]))


def _drop_open_deadline(facts: dict, deadline: str, tally: Tally) -> tuple[str, dt.date] | None:
    entry = facts["deadlines"].pop(deadline, None)
    if entry is None:
        return None
    rule, due = entry[0], _date(entry[1])
    tally.add("deadline", due, facts, rule, sub="open", n=-1)
    tally.add("due", due, facts, str(facts["assignee"]), n=-1)
    return rule, due


def fold(facts: dict, event: Event, tally: Tally, skipped: frozenset[str] = frozenset()) -> None:
    """Fold one event of the case into `tally`, updating `facts`. Deadlines of the rules in
    `skipped` (`entitlements()`) are left out."""
    day = local_date(event.at)
    data = event.data or {}
    if event.kind == CaseEvent.Kind.TRANSITION:
        _fold_transition(facts, event, day, data, tally)
    elif event.kind == CaseEvent.Kind.PLACEMENT:
        placement = str(data.get("placement", ""))
        if event.action == "placed":
            facility, regime = str(data.get("facility", "")), str(data.get("regime", ""))
            facts["placements"][placement] = [facility, regime]
            tally.add("place", day, facts, facility, sub=regime)
        elif event.action == "ended":
            entry = facts["placements"].pop(placement, None)
            if entry is not None:
                tally.add("place", day, facts, entry[0], sub=entry[1], n=-1)
    elif event.kind == CaseEvent.Kind.DEADLINE:
        _fold_deadline(facts, event, data, tally, skipped)
    elif event.kind == CaseEvent.Kind.RECORD:
        if event.action == "assigned":
            _reassign(facts, int(data.get("assignee") or 0), day, tally)
        elif event.action == "corrected":
            changes = data.get("changes") or {}
            moved = dict(facts)
            if "procedure" in changes:
                moved["procedure"] = changes["procedure"].get("to") or ""
            if "applicant" in changes:
                moved["nationality"] = nationality_of(changes["applicant"].get("to"))
            if (moved["procedure"], moved["nationality"]) != (
                facts["procedure"],
                facts["nationality"],
            ):
                for kind, on, key, sub in list(_contributions(facts, day)):
                    tally.add(kind, on, facts, key, sub=sub, n=-1)
                    tally.add(kind, on, moved, key, sub=sub)
                facts.update(procedure=moved["procedure"], nationality=moved["nationality"])
            made = _date((changes.get("submitted_on") or {}).get("to"))
            if made and _made(facts):
                if facts["status"] in OPEN:
                    tally.add("age", _made(facts), facts, facts["status"], n=-1)
                    tally.add("age", made, facts, facts["status"])
                facts["made"] = made.isoformat()


def _fold_transition(facts: dict, event: Event, day: dt.date, data: dict, tally: Tally) -> None:
    before, after = facts["status"], event.to_status
    if not _made(facts):  # the application is made (`submit`'s `submitted_on`)
        facts["made"] = (_date(data.get("submitted_on")) or day).isoformat()
    made = _made(facts)
    if before:
        since = _date(facts["since"]) or day
        tally.add("stage", day, facts, before, days=max(0, (day - since).days))
        if before in OPEN:
            tally.add("status", day, facts, before, n=-1)
            tally.add("age", made, facts, before, n=-1)
            if after not in OPEN:
                tally.add("open", day, facts, str(facts["assignee"]), n=-1)
    if after in OPEN:
        tally.add("status", day, facts, after)
        tally.add("age", made, facts, after)
        if before not in OPEN:
            tally.add("open", day, facts, str(facts["assignee"]))
    if event.action == "decide":
        decided_on = _date(data.get("decided_on")) or day
        tally.add("decision", decided_on, facts, str(data.get("outcome", "")))
    facts["status"], facts["since"] = after, day.isoformat()
    if data.get("assignee"):
        _reassign(facts, int(data["assignee"]), day, tally)


def entitlements() -> frozenset[str]:
    """The codes of the rules that are entitlements (a right that starts on a day, such as
    the right to work), not limits to be met: they are left out of the deadline figures."""
    return frozenset(
        DeadlineRule.objects.filter(kind=DeadlineRule.Kind.ENTITLEMENT).values_list(
            "code", flat=True
        )
    )


def _fold_deadline(
    facts: dict, event: Event, data: dict, tally: Tally, skipped: frozenset[str]
) -> None:
    deadline = str(data.get("deadline", ""))
    rule, due = str(data.get("rule", "")), _date(data.get("due_on"))
    if due is None or rule in skipped:
        return
    if event.action == "opened":
        _open_deadline(facts, deadline, rule, due, tally)
    elif event.action in CLOSED_DEADLINE:
        dropped = _drop_open_deadline(facts, deadline, tally)
        rule, due = dropped or (rule, due)
        tally.add("deadline", due, facts, rule, sub=event.action)
    elif event.action == "corrected":
        was, now = str(data.get("was_status", "")), str(data.get("status", ""))
        was_due = _date(data.get("was_due_on")) or due
        if was == "open":
            _drop_open_deadline(facts, deadline, tally)
        elif was in CLOSED_DEADLINE:
            tally.add("deadline", was_due, facts, rule, sub=was, n=-1)
        if now == "open":
            _open_deadline(facts, deadline, rule, due, tally)
        elif now in CLOSED_DEADLINE:
            tally.add("deadline", due, facts, rule, sub=now)


# ------------------------------------------------------------------------------------------
# Folding into the database
# ------------------------------------------------------------------------------------------


def _events(queryset) -> Iterator[Event]:
    for row in queryset.values_list(*EVENT_FIELDS).iterator(chunk_size=5000):
        yield Event(*row)


def _corrections(application_id: int) -> list[dict]:
    return list(
        CaseEvent.objects.filter(
            application_id=application_id, kind=CaseEvent.Kind.RECORD, action="corrected"
        )
        .order_by("pk")
        .values_list("data", flat=True)
    )


def fold_case(application_id: int) -> int:
    """Fold the case's events that are not in the rows yet; returns how many.

    The caller holds the case's row lock (the workflow's change, or `catch_up`), so two
    folds of one case never run at once."""
    with transaction.atomic():
        state = ReportCase.objects.select_for_update().filter(pk=application_id).first()
        last = state.last_event if state else 0
        events = list(
            _events(
                CaseEvent.objects.filter(
                    application_id=application_id, kind__in=FOLDED_KINDS, pk__gt=last
                ).order_by("pk")
            )
        )
        if not events:
            return 0
        if state is None:
            case = (
                Application.objects.filter(pk=application_id)
                .values_list("unit_id", "procedure", "applicant_id", "nationality")
                .get()
            )
            state = ReportCase(
                application_id=application_id,
                facts=new_facts(*case, _corrections(application_id)),
            )
        tally = Tally()
        skipped = entitlements()
        for event in events:
            fold(state.facts, event, tally, skipped)
        tally.save()
        state.last_event = events[-1].id
        state.save()
    return len(events)


def catch_up(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Fold the events that no workflow change folded, from where the last run stopped.

    Reads the timeline in id order, `batch` events at a time; each case of a batch is locked
    (as a workflow change locks it) and folded in its own transaction, then the position is
    saved. Stopped at any point, the next run goes on from the last saved position and
    refolds nothing. Returns how many events were folded."""
    folded = 0
    cursor, _created = ReportCursor.objects.get_or_create(pk=1)
    position = cursor.through_event
    batches = 0
    while max_batches is None or batches < max_batches:
        rows = list(
            CaseEvent.objects.filter(pk__gt=position, kind__in=FOLDED_KINDS)
            .order_by("pk")
            .values_list("pk", "application_id")[:batch]
        )
        if not rows:
            break
        for application_id in dict.fromkeys(case for _pk, case in rows):
            with transaction.atomic():
                locked = Application.objects.select_for_update(no_key=True, of=("self",))
                if locked.filter(pk=application_id).exists():
                    folded += fold_case(application_id)
        position = rows[-1][0]
        ReportCursor.objects.filter(pk=1).update(through_event=position, updated_at=timezone.now())
        batches += 1
    return folded


@dataclass
class Rebuilt:
    cases: int
    events: int
    rows: int
    through_event: int


def rebuild(progress: Callable[[int, int], None] | None = None) -> Rebuilt:
    """Every report row from the timeline, from scratch.

    Reads the events (up to the newest at the start) case by case, folds them in memory,
    then, in one short locked step, replaces the rows and the cases' facts and sets the
    catch-up position; `catch_up` then folds whatever was written meanwhile. `progress(done,
    total)` is called as cases are read."""
    through = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    total = Application.objects.count()
    tally = Tally()
    skipped = entitlements()
    states: list[ReportCase] = []
    events_read = 0
    with transaction.atomic():
        events = _events(
            CaseEvent.objects.filter(kind__in=FOLDED_KINDS, pk__lte=through).order_by(
                "application_id", "pk"
            )
        )
        stream = iter(events)
        # Read the cases after the events' first row: a case whose events are read was
        # committed before that, so it is in the cases' later snapshot.
        first = next(stream, None)
        cases = (
            Application.objects.order_by("pk")
            .values_list("pk", "unit_id", "procedure", "applicant_id", "nationality")
            .iterator(chunk_size=5000)
        )
        case_row = None
        current: list[Event] = []
        done = 0

        def finish(case_events: list[Event]) -> None:
            nonlocal case_row, done
            case_id = case_events[0].application_id
            while case_row is None or case_row[0] < case_id:
                case_row = next(cases, None)
                done += 1
                if progress and done % 1000 == 0:
                    progress(done, total)
                if case_row is None:
                    return
            if case_row[0] != case_id:
                return
            corrections = [
                e.data for e in case_events if e.kind == "record" and e.action == "corrected"
            ]
            facts = new_facts(*case_row[1:], corrections)
            for event in case_events:
                fold(facts, event, tally, skipped)
            states.append(
                ReportCase(application_id=case_id, last_event=case_events[-1].id, facts=facts)
            )

        if first is not None:
            current.append(first)
            events_read = 1
        for event in stream:
            events_read += 1
            if current and event.application_id != current[0].application_id:
                finish(current)
                current = []
            current.append(event)
        if current:
            finish(current)
    if progress:
        progress(total, total)
    # In the order the reports read them (kind, unit, day): the rows of one report, unit and
    # period lie together in the table, not one in every page.
    summed = chain(tally.items(), summed_rows(tally.items()).items())
    rows = sorted(
        ((*key, value) for key, value in summed if value), key=lambda row: (row[0], row[2], row[1])
    )
    tally.clear()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Deferred foreign key checks of this transaction run now: TRUNCATE refuses a
                # table with checks pending (a caller's enclosing transaction may have some).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    f"TRUNCATE {ReportRow._meta.db_table}, {ReportCase._meta.db_table}"  # noqa: S608
                )
        else:  # the embedded SQLite database of `make run`
            ReportRow.objects.all().delete()
            ReportCase.objects.all().delete()
        _write(ReportRow, ROW_COLUMNS, rows)
        _write(
            ReportCase,
            ("application_id", "last_event", "facts"),
            ((s.application_id, s.last_event, s.facts) for s in states),
        )
        ReportCursor.objects.update_or_create(
            pk=1, defaults={"through_event": through, "updated_at": timezone.now()}
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The planner's statistics of the new rows (else it guesses one row a query).
                cursor.execute(f"ANALYZE {ReportRow._meta.db_table}")  # noqa: S608
    catch_up()
    return Rebuilt(cases=len(states), events=events_read, rows=len(rows), through_event=through)


ROW_COLUMNS = ("kind", "day", "unit_id", "procedure", "nationality", "key", "sub", "days", "value")


def _write(model, columns: tuple[str, ...], rows) -> None:
    """Rows into an emptied table: with COPY on PostgreSQL (a million cases' rows in a
    fraction of the time of INSERTs), with INSERTs of 5,000 elsewhere (SQLite)."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=5000
        )
        return
    json_columns = {
        i for i, name in enumerate(columns) if isinstance(model._meta.get_field(name), JSONField)
    }
    sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            if json_columns:
                row = tuple(json.dumps(v) if i in json_columns else v for i, v in enumerate(row))
            copy.write_row(row)


def print_progress(done: int, total: int) -> None:
    """A progress bar on standard error."""
    width = 40
    share = done / total if total else 1
    bar = "#" * round(share * width)
    sys.stderr.write(f"\r[{bar:<{width}}] {done:,}/{total:,} cases")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
