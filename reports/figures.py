"""The figures of each management report, read from the daily aggregate rows (`ReportRow`,
kept by `reports.folding`), never from the case table.

Each report is a function of the filters (`Filters`) that returns a `Figures`: the table's
headers and rows (what the page shows and the exports write) and the chart's series. The
page, its chart and its CSV and XLSX files are all built from the same `Figures`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import astuple, dataclass, field, replace
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import User
from cases.labels import label, person
from cases.models import (
    OPEN_STATUSES,
    Application,
    CaseEvent,
    DeadlineRule,
    Facility,
    Placement,
    Status,
)

from .folding import ALL, FOLDED_KINDS, ROLLUPS, rollup_kind
from .models import ReportCursor, ReportRow

log = logging.getLogger(__name__)

# Days since the application was made: (label, first day, last day or None).
AGE_BANDS = (
    (gettext_lazy("up to 30 days"), 0, 30),
    (gettext_lazy("31–90 days"), 31, 90),
    (gettext_lazy("91–180 days"), 91, 180),
    (gettext_lazy("181–365 days"), 181, 365),
    (gettext_lazy("over a year"), 366, None),
)
# Statuses a case can leave, in the order of the procedure.
STAGES = (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION, Status.DECIDED, Status.APPEALED)
DEADLINE_ENDS = ("met", "missed", "waived")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Filters:
    unit_id: int | None
    start: dt.date
    end: dt.date
    today: dt.date
    procedure: str = ""
    nationality: str = ""
    step: str = "month"


@dataclass
class Series:
    name: str
    values: list[float | None]
    dashed: bool = False


@dataclass
class Figures:
    headers: list[str]
    rows: list[list[Any]]
    has_data: bool
    x_labels: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    chart: str = "bar"  # bar, stacked, line, hbar
    footer: list[Any] | None = None
    computed_at: dt.datetime | None = None


def rows_of(kind: str, f: Filters) -> QuerySet:
    return _filtered(f).filter(kind=kind)


def _filtered(f: Filters, *, totals: bool = True) -> QuerySet:
    """The rows of the filters' unit, procedure and nationality; without these two filters,
    the sums over all procedures and nationalities (or, if not `totals`, the rows of each)."""
    rows = ReportRow.objects.all()
    if f.unit_id is not None:
        rows = rows.filter(unit_id=f.unit_id)
    # A filter of procedure or nationality leaves out the sums over all of them by itself.
    if f.procedure:
        rows = rows.filter(procedure=f.procedure)
    if f.nationality:
        rows = rows.filter(nationality=f.nationality)
    if not totals:
        rows = rows.exclude(procedure=ALL)
    elif not (f.procedure or f.nationality):
        rows = rows.filter(procedure=ALL, nationality=ALL)
    return rows.order_by()


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def pieces(kind: str, first: dt.date, last: dt.date) -> Iterator[tuple[str, dt.date]]:
    """The rows (kind, day) whose sums make the sum of `kind` over the days `first` to `last`:
    whole years, months and weeks from their roll-ups (`folding.ROLLUPS`), the rest day by
    day."""
    grains = ROLLUPS.get(kind, ())
    day = first
    while day <= last:
        if "year" in grains and (day.month, day.day) == (1, 1) and day.replace(month=12) <= last:
            yield rollup_kind(kind, "year"), day
            day = day.replace(year=day.year + 1)
        elif "month" in grains and day.day == 1 and _month_end(day) <= last:
            yield rollup_kind(kind, "month"), day
            day = _month_end(day) + ONE_DAY
        elif "week" in grains and day.weekday() == 0 and day + 6 * ONE_DAY <= last:
            yield rollup_kind(kind, "week"), day
            day += 7 * ONE_DAY
        else:
            yield kind, day
            day += ONE_DAY


def summed(
    kind: str,
    f: Filters,
    ranges: dict[Hashable, tuple[dt.date | None, dt.date]],
    fields: tuple[str, ...],
    *,
    totals: bool = True,
) -> dict[Hashable, dict[tuple, int]]:
    """The sums of `kind` over each range of days (first to last; first None: from the
    beginning), per `fields`: {range's name: {values of the fields: sum}}. One query, which
    reads each whole year, month or week of a range as one row per key of its roll-up (and
    the sums over all procedures and nationalities, unless `totals` is false: `fields` name
    them)."""
    earliest = None
    if any(first is None for first, _last in ranges.values()):
        earliest = (
            ReportRow.objects.filter(kind=kind).order_by("day").values_list("day", flat=True)
        ).first()
    name_of: dict[tuple[str, dt.date], Hashable] = {}
    days: dict[str, list[dt.date]] = defaultdict(list)
    for name, (first, last) in ranges.items():
        first = first or earliest
        for piece in pieces(kind, first, last) if first else ():
            name_of[piece] = name
            days[piece[0]].append(piece[1])
    result: dict = defaultdict(lambda: defaultdict(int))
    if not days:
        return result
    which = reduce(or_, (Q(kind=k, day__in=d) for k, d in days.items()))
    rows = _filtered(f, totals=totals).filter(which)
    if len(ranges) == 1:
        # One range: summed per key in the database, one row per key comes back (the
        # workload's overdue deadlines: one per assignee, not one per assignee and piece).
        (name,) = ranges
        for *key, n in rows.values_list(*fields).annotate(n=Sum("value")):
            result[name][tuple(key)] += n
        return result
    for row_kind, day, *key, n in rows.values_list("kind", "day", *fields).annotate(n=Sum("value")):
        result[name_of[(row_kind, day)]][tuple(key)] += n
    return result


def period_ends(f: Filters) -> list[dt.date]:
    """The last day of each week (Sunday) or month of the period, the last one cut at its
    end."""
    ends = []
    if f.step == "week":
        day = f.start + dt.timedelta(days=6 - f.start.weekday())
        while day < f.end:
            ends.append(day)
            day += dt.timedelta(days=7)
    else:
        day = f.start
        while True:
            last = dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
            if last >= f.end:
                break
            ends.append(last)
            day = last + dt.timedelta(days=1)
    ends.append(f.end)
    return ends


def _running(kind: str, f: Filters, keys: tuple[str, ...]) -> tuple[list[dt.date], dict]:
    """For net rows (+1 in, -1 out): the running sum per `keys` at the end of each period
    ({key: [sum at each period end]}): the sum before the period, then each period's."""
    ends = period_ends(f)
    ranges: dict[Hashable, tuple[dt.date | None, dt.date]] = {"before": (None, f.start - ONE_DAY)}
    first = f.start
    for i, end in enumerate(ends):
        ranges[i] = (first, end)
        first = end + ONE_DAY
    sums = summed(kind, f, ranges, keys)
    totals: dict = defaultdict(int, sums.get("before", {}))
    result: dict = defaultdict(lambda: [0] * len(ends))
    for i in range(len(ends)):
        for key, n in sums.get(i, {}).items():
            totals[key] += n
        for key, n in totals.items():
            result[key][i] = n
    return ends, result


def backlog(f: Filters) -> Figures:
    """Open cases by status at the end of each week or month."""
    ends, counts = _running("status", f, ("key",))
    headers = [_("End of period"), *(label(Status, s) for s in OPEN_STATUSES), _("Total")]
    rows = []
    for i, end in enumerate(ends):
        values = [counts.get((str(s),), [0] * len(ends))[i] for s in OPEN_STATUSES]
        rows.append([end, *values, sum(values)])
    return Figures(
        headers=headers,
        rows=rows,
        has_data=any(r[-1] for r in rows),
        x_labels=[e.isoformat() for e in ends],
        series=[
            Series(label(Status, s), [r[i + 1] for r in rows]) for i, s in enumerate(OPEN_STATUSES)
        ],
        chart="stacked",
    )


def ages(f: Filters) -> Figures:
    """Open cases by status and by days since the application was made (today)."""
    made = {
        i: (None if last is None else f.today - last * ONE_DAY, f.today - first * ONE_DAY)
        for i, (_label, first, last) in enumerate(AGE_BANDS)
    }
    bands = summed("age", f, made, ("key",))
    rows = []
    for s in OPEN_STATUSES:
        values = [bands.get(i, {}).get((str(s),), 0) for i in range(len(AGE_BANDS))]
        rows.append([label(Status, s), *values, sum(values)])
    return Figures(
        headers=[_("Status"), *(str(b[0]) for b in AGE_BANDS), _("Total")],
        rows=rows,
        has_data=any(r[-1] for r in rows),
        x_labels=[str(b[0]) for b in AGE_BANDS],
        series=[Series(r[0], r[1:-1]) for r in rows],
        chart="stacked",
    )


def percentile(histogram: dict[int, int], share: float) -> int | None:
    """The nearest-rank percentile of whole days: the smallest number of days d such that at
    least `share` of the cases took d days or fewer."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return days
    return None  # pragma: no cover - the ranks add up to the total


def stages(f: Filters) -> Figures:
    """Median and 90th percentile of whole days spent in each status, for the cases that
    left it in the period."""
    rows_by = defaultdict(dict)
    left = summed("stage", f, {"period": (f.start, f.end)}, ("key", "days")).get("period", {})
    for (key, days), n in left.items():
        if n:
            rows_by[key][days] = n
    rows = []
    for s in STAGES:
        histogram = rows_by.get(str(s), {})
        rows.append(
            [
                label(Status, s),
                sum(histogram.values()),
                percentile(histogram, 0.5),
                percentile(histogram, 0.9),
            ]
        )
    return Figures(
        headers=[_("Status"), _("Cases that left it"), _("Median days"), _("90th percentile days")],
        rows=rows,
        has_data=any(r[1] for r in rows),
        x_labels=[r[0] for r in rows],
        series=[
            Series(_("Median days"), [r[2] for r in rows]),
            Series(_("90th percentile days"), [r[3] for r in rows]),
        ],
    )


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def limits(f: Filters) -> Figures:
    """Deadlines due in each month of the period, by rule: met, missed, waived and still
    overdue (open, its legal date passed), with the share met on time (met of met, missed
    and overdue)."""
    names = dict(DeadlineRule.objects.values_list("code", "name"))
    # Each month of the period, split where the deadlines still open become overdue (today).
    ranges = {}
    month = f.start.replace(day=1)
    while month <= f.end:
        first, last = max(month, f.start), min(_month_end(month), f.end)
        if first < f.today:
            ranges[(month, True)] = (first, min(last, f.today - ONE_DAY))
        if last >= f.today:
            ranges[(month, False)] = (max(first, f.today), last)
        month = _month_end(month) + ONE_DAY
    by_rule: dict = defaultdict(lambda: defaultdict(int))
    for (month, past), sums in summed("deadline", f, ranges, ("key", "sub")).items():
        for (rule, sub), n in sums.items():
            if sub in DEADLINE_ENDS:
                by_rule[(month, rule)][sub] += n
            elif sub == "open" and past:
                by_rule[(month, rule)]["overdue"] += n
    counted = [
        (month, rule, *(by_rule[(month, rule)][k] for k in (*DEADLINE_ENDS, "overdue")))
        for month, rule in sorted(by_rule)
    ]
    rows = []
    by_month: dict = defaultdict(lambda: [0, 0, 0, 0])
    for month, rule, met, missed, waived, overdue in counted:
        values = [met or 0, missed or 0, waived or 0, overdue or 0]
        if not any(values):
            continue
        rows.append(
            [
                month.strftime("%Y-%m"),
                names.get(rule, rule),
                *values,
                _share(values[0], values[0] + values[1] + values[3]),
            ]
        )
        for i, v in enumerate(values):
            by_month[month.strftime("%Y-%m")][i] += v
    months = sorted(by_month)
    totals = [sum(r[i] for r in rows) for i in range(2, 6)]
    headers = [
        _("Month due"),
        _("Rule"),
        _("Met"),
        _("Missed"),
        _("Waived"),
        _("Still overdue"),
        _("Met on time (%)"),
    ]
    series_names = headers[2:6]
    return Figures(
        headers=headers,
        rows=rows,
        has_data=bool(rows),
        x_labels=months,
        series=[Series(n, [by_month[m][i] for m in months]) for i, n in enumerate(series_names)],
        chart="stacked",
        footer=[_("Total"), "", *totals, _share(totals[0], totals[0] + totals[1] + totals[3])],
    )


def outcomes(f: Filters) -> Figures:
    """First-instance decisions taken in the period, by nationality, procedure and outcome;
    the recognition rate is the share of decisions granting refugee status or subsidiary
    protection."""
    fields = ("nationality", "procedure", "key")
    period = {"period": (f.start, f.end)}
    counted = summed("decision", f, period, fields, totals=False).get("period", {})
    table: dict = defaultdict(lambda: defaultdict(int))
    for (nationality, procedure, outcome), n in counted.items():
        if n:
            table[(nationality, procedure)][outcome] += n
    kinds = list(Application.Outcome)
    positive = {str(o) for o in Application.POSITIVE_OUTCOMES}
    rows = []
    for (nationality, procedure), by in table.items():
        values = [by.get(str(o), 0) for o in kinds]
        total = sum(values)
        granted = sum(by.get(o, 0) for o in positive)
        rows.append(
            [
                countries.name(nationality) if nationality else _("Stateless or unknown"),
                label(Application.Procedure, procedure) if procedure else "",
                *values,
                total,
                _share(granted, total),
            ]
        )
    rows.sort(key=lambda r: (-r[-2], r[0], r[1]))
    totals = [sum(r[2 + i] for r in rows) for i in range(len(kinds))]
    granted = sum(t for o, t in zip(kinds, totals, strict=True) if str(o) in positive)
    shown = rows[:12]
    return Figures(
        headers=[
            _("Nationality"),
            _("Procedure"),
            *(o.label for o in kinds),
            _("Decisions"),
            _("Recognition rate (%)"),
        ],
        rows=rows,
        has_data=bool(rows),
        x_labels=[f"{r[0]} ({r[1]})" for r in shown],
        series=[Series(str(o.label), [r[2 + i] for r in shown]) for i, o in enumerate(kinds)],
        chart="stacked",
        footer=[_("Total"), "", *totals, sum(totals), _share(granted, sum(totals))],
    )


def occupancy(f: Filters) -> Figures:
    """Places used per facility at the end of each week or month, by regime, against the
    facility's places (its capacity today)."""
    ends, counts = _running("place", f, ("key", "sub"))
    facilities = {str(x.pk): x for x in Facility.objects.order_by("name")}
    regimes = list(Placement.Regime)
    used: dict = defaultdict(lambda: [[0] * len(regimes) for _e in ends])
    for (facility, regime), values in counts.items():
        if regime in Placement.Regime.values:
            index = Placement.Regime.values.index(regime)
            for i, n in enumerate(values):
                used[facility][i][index] += n
    rows = []
    series = []
    for key, facility in facilities.items():
        if key not in used:
            continue
        line = []
        for i, end in enumerate(ends):
            by_regime = used[key][i]
            total = sum(by_regime)
            line.append(total)
            rows.append(
                [
                    end,
                    facility.name,
                    *by_regime,
                    total,
                    facility.capacity,
                    _share(total, facility.capacity),
                ]
            )
        series.append(Series(facility.name, line))
        series.append(
            Series(
                _("%(facility)s: places") % {"facility": facility.name},
                [facility.capacity] * len(ends),
                dashed=True,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return Figures(
        headers=[
            _("End of period"),
            _("Facility"),
            *(r.label for r in regimes),
            _("Places used"),
            _("Places"),
            _("Used (%)"),
        ],
        rows=rows,
        has_data=any(r[len(regimes) + 2] for r in rows),
        x_labels=[e.isoformat() for e in ends],
        series=series,
        chart="line",
    )


def workload(f: Filters) -> Figures:
    """Open cases and overdue deadlines (open, their legal date passed) per assignee, now."""
    open_cases = dict(rows_of("open", f).values_list("key").annotate(n=Sum("value")))
    due = summed("due", f, {"overdue": (None, f.today - ONE_DAY)}, ("key",)).get("overdue", {})
    overdue = {key: n for (key,), n in due.items()}
    keys = [k for k in {*open_cases, *overdue} if open_cases.get(k) or overdue.get(k)]
    people = {
        str(u.pk): u for u in User.objects.filter(pk__in=[int(k) for k in keys if k.isdigit()])
    }

    def name(key: str) -> str:
        if key == "0" or key not in people:
            return _("Nobody (unassigned)")
        return person(people[key])

    rows = sorted(
        ([name(k), open_cases.get(k) or 0, overdue.get(k) or 0] for k in keys),
        key=lambda r: (-r[1], -r[2], r[0]),
    )
    return Figures(
        headers=[_("Assigned to"), _("Open cases"), _("Overdue deadlines")],
        rows=rows,
        has_data=bool(rows),
        x_labels=[r[0] for r in rows[:20]],
        series=[
            Series(_("Open cases"), [r[1] for r in rows[:20]]),
            Series(_("Overdue deadlines"), [r[2] for r in rows[:20]]),
        ],
        chart="hbar",
        footer=[_("Total"), sum(r[1] for r in rows), sum(r[2] for r in rows)],
    )


def _rows_version() -> tuple:
    """What the figures were computed from: the newest folded event (every workflow change
    folds its events in its own transaction, so a change makes a new version), the newest
    report row and the catch-up position (a rebuild or a catch-up moves them). Three reads
    of one index entry each."""
    newest_event = (
        CaseEvent.objects.filter(kind__in=FOLDED_KINDS)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    newest_row = ReportRow.objects.order_by("-pk").values_list("pk", flat=True).first()
    position = ReportCursor.objects.filter(pk=1).values_list("through_event", "updated_at").first()
    return newest_event, newest_row, position


def computed(report: Report, f: Filters) -> Figures:
    """The report's figures for `f`, computed once per version of the rows they are read
    from and kept REPORT_CACHE_SECONDS in the shared cache (the page and its chart, two
    requests, then compute them once; so do the heads of unit who open the same report).
    A change of the timeline makes a new version at once; what the rows do not hold (a
    facility's places, a person's name) shows within REPORT_CACHE_SECONDS. Without the cache
    (0, or the cache down), computed on each request."""
    seconds = settings.REPORT_CACHE_SECONDS
    if not seconds:
        return replace(report.figures(f), computed_at=timezone.now())
    raw = repr((report.slug, astuple(f), get_language(), _rows_version()))
    key = "haven:report:" + hashlib.sha256(raw.encode()).hexdigest()
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down costs time, not the report
        log.warning("The report cache did not answer: computing %s.", report.slug)
        found = None
    if found is not None:
        return found
    result = replace(report.figures(f), computed_at=timezone.now())
    try:
        cache.set(key, result, seconds)
    except Exception:  # noqa: BLE001
        log.warning("The report cache did not answer: %s is not kept.", report.slug)
    return result


@dataclass(frozen=True)
class Report:
    slug: str
    title: Any
    description: Any
    figures: Callable[[Filters], Figures]
    uses_period: bool = True
    uses_step: bool = False


REPORTS = {
    r.slug: r
    for r in (
        Report(
            "backlog",
            gettext_lazy("Backlog over time"),
            gettext_lazy("Open cases by status at the end of each week or month."),
            backlog,
            uses_step=True,
        ),
        Report(
            "age",
            gettext_lazy("Age of open cases"),
            gettext_lazy("Open cases today by status and days since the application was made."),
            ages,
            uses_period=False,
        ),
        Report(
            "stages",
            gettext_lazy("Time in each state"),
            gettext_lazy(
                "Median and 90th percentile of whole days spent in each status, for the cases "
                "that left it in the period."
            ),
            stages,
        ),
        Report(
            "limits",
            gettext_lazy("Statutory limits"),
            gettext_lazy(
                "Deadlines due in each month, by rule: met, missed, waived and still overdue, "
                "with the share met on time (met of met, missed and still overdue)."
            ),
            limits,
        ),
        Report(
            "outcomes",
            gettext_lazy("Outcomes"),
            gettext_lazy(
                "First-instance decisions taken in the period by nationality, procedure and "
                "outcome; the recognition rate is the share granting refugee status or "
                "subsidiary protection."
            ),
            outcomes,
        ),
        Report(
            "occupancy",
            gettext_lazy("Occupancy"),
            gettext_lazy(
                "Places used in each detention and reception facility at the end of each "
                "week or month, against its places (dashed)."
            ),
            occupancy,
            uses_step=True,
        ),
        Report(
            "workload",
            gettext_lazy("Workload"),
            gettext_lazy("Open cases and overdue deadlines per assignee, today."),
            workload,
            uses_period=False,
        ),
    )
}
