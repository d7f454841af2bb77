"""Statutory deadlines: pure date arithmetic, and the deadline rows that follow a case.

The first half is pure functions of dates and rules (no database), tested on their own.
The second half opens, meets and cancels `Deadline` rows for `cases.workflow`; it knows no
request and enqueues nothing. Every change to a deadline is a `CaseEvent` of kind `deadline`.

Conventions:
- Day, working-day and month limits end at the end of their last day in Vilnius
  (`due_at` = 23:59:59.999999 Europe/Vilnius on `due_on`).
- Hour limits are counted in UTC, so that 48 hours are 48 real hours across a clock change.
- Months: the same day number in the target month, or its last day when it has no such day.
- With `roll_forward`, a last day on a Saturday, Sunday or Lithuanian public holiday moves to
  the next working day (Civil Code Art. 1.121).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db.models import Min, Q
from django.utils import timezone

from .audit import record_event
from .models import Application, CaseEvent, Deadline, DeadlineRule, Placement

VILNIUS = ZoneInfo("Europe/Vilnius")
NOON = dt.time(12, 0)

# ------------------------------------------------------------------------------------------
# Pure date arithmetic
# ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def lithuanian_holidays() -> holidays.HolidayBase:
    """One calendar instance: `holidays` fills in years lazily as they are looked up."""
    return holidays.country_holidays("LT")


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in lithuanian_holidays()


def next_working_day(day: dt.date) -> dt.date:
    """`day` itself if it is a working day, else the next one."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (the start day itself is not counted)."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def add_months(day: dt.date, count: int) -> dt.date:
    """Same day number `count` months later, or the last day of that month."""
    month_index = day.month - 1 + count
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of a legal day in Vilnius, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=VILNIUS)


def at_noon(day: dt.date) -> dt.datetime:
    """Events known only by their day are placed at 12:00 Vilnius time."""
    return dt.datetime.combine(day, NOON, tzinfo=VILNIUS)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(VILNIUS).date()


def elapsed_hours(start: dt.datetime, end: dt.datetime) -> float:
    """Real hours between two aware moments (computed in UTC, immune to DST)."""
    return (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 3600


def due_date(
    *, duration: int, unit: str, roll_forward: bool, start: dt.datetime
) -> tuple[dt.date, dt.datetime]:
    """(due_on, due_at) for a limit of `duration` `unit`s running from `start`."""
    units = DeadlineRule.TimeUnit
    if unit == units.HOURS:
        due_at = (start.astimezone(dt.UTC) + dt.timedelta(hours=duration)).astimezone(VILNIUS)
        return due_at.date(), due_at
    start_day = local_date(start)
    if unit == units.CALENDAR_DAYS:
        day = start_day + dt.timedelta(days=duration)
    elif unit == units.WORKING_DAYS:
        day = add_working_days(start_day, duration)
    elif unit == units.MONTHS:
        day = add_months(start_day, duration)
    else:
        raise ValueError(f"unknown time unit {unit!r}")
    if roll_forward:
        day = next_working_day(day)
    return day, end_of_day(day)


def rule_due(rule: DeadlineRule, start: dt.datetime) -> tuple[dt.date, dt.datetime]:
    return due_date(
        duration=rule.duration, unit=rule.unit, roll_forward=rule.roll_forward, start=start
    )


def window_opens(due_at: dt.datetime, lead_days: int) -> dt.datetime:
    """When the reminder window of `lead_days` days before `due_at` opens: the start of the
    Vilnius day `lead_days` days before the last day, so that "3 days before" a deadline
    due on a Friday covers all of Tuesday, not only its last minute."""
    day = local_date(due_at) - dt.timedelta(days=lead_days)
    return dt.datetime.combine(day, dt.time.min, tzinfo=VILNIUS)


def reminder_level(lead_days: Iterable[int], due_at: dt.datetime, now: dt.datetime) -> int | None:
    """The most urgent reminder level reached at `now`: 0 when overdue, else the smallest
    lead time (in days) whose window has opened, or None when no window is open yet.

    A sweep that ran late therefore sends only the most urgent level reached, and a window
    that opened while nothing ran is still caught by the next sweep: levels are ranges
    ("3 days or less left"), never "exactly N days before".
    """
    if now > due_at:
        return 0
    reached = [d for d in lead_days if now >= window_opens(due_at, d)]
    return min(reached) if reached else None


def start_of_day(day: dt.date) -> dt.datetime:
    """The first moment of a legal day in Vilnius."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=VILNIUS)


def closing_status(
    how: str, at: dt.datetime, due_at: dt.datetime, *, entitlement_from: dt.datetime | None = None
) -> str:
    """The status a deadline closes with at `at`. `how`: met (its stop event happened) and
    superseded (a new clock of the same rule replaces it) close it met, or missed when `at`
    is after `due_at`; cancelled and waived close it so, whatever the time.

    An entitlement (`entitlement_from`: the moment it starts) is never missed: closed at or
    after its start it is met (it began), before it cancelled (it never began); only a
    waiver is recorded as such."""
    statuses = Deadline.Status
    if entitlement_from is not None and how != "waived":
        return statuses.MET if at >= entitlement_from else statuses.CANCELLED
    if how in ("met", "superseded"):
        return statuses.MET if at <= due_at else statuses.MISSED
    if how == "cancelled":
        return statuses.CANCELLED
    if how == "waived":
        return statuses.WAIVED
    raise ValueError(how)


def day_moment(day: dt.date, recorded_at: dt.datetime) -> dt.datetime:
    """The moment a fact known only by its day happened, for meeting a deadline: the
    moment it was recorded when that is the same Vilnius day (a court order recorded at
    09:00 meets a 48-hour limit ending at 10:00), else 12:00 on that day (DESIGN.md)."""
    if local_date(recorded_at) == day:
        return recorded_at
    return at_noon(day)


# ------------------------------------------------------------------------------------------
# Deadline rows
# ------------------------------------------------------------------------------------------


def choose_rules(application: Application, rules: Iterable[DeadlineRule]) -> list[DeadlineRule]:
    """Of `rules`, those the case follows: in each family (`DeadlineRule.family_name`), the
    rule that matches the case (its period by the rule's own key date, its procedures and
    decisions) with the most conditions; ties go to the first code. Pure: no database."""
    best: dict[str, DeadlineRule] = {}
    for rule in sorted(rules, key=lambda r: r.code):
        if not rule.matches(application):
            continue
        current = best.get(rule.family_name)
        if current is None or rule.specificity() > current.specificity():
            best[rule.family_name] = rule
    return sorted(best.values(), key=lambda r: r.code)


def applicable_rules(application: Application, start_event: str) -> list[DeadlineRule]:
    """The rules in force that the case follows and that run from `start_event` (the rule
    table is small: it is read whole, so that families can be compared across events)."""
    rules = choose_rules(application, DeadlineRule.objects.filter(is_active=True))
    return [rule for rule in rules if rule.start_event == start_event]


def entitlement_from(deadline: Deadline) -> dt.datetime | None:
    """When an entitlement starts (the first moment of its day); None for a deadline."""
    return start_of_day(deadline.due_on) if deadline.rule.is_entitlement else None


def open_deadlines(
    application: Application,
    start_event: str,
    start: dt.datetime,
    *,
    actor=None,
    placement: Placement | None = None,
    at: dt.datetime | None = None,
    only: Iterable[str] | None = None,
) -> list[Deadline]:
    """Open the deadlines of every rule in force that runs from `start_event` (of those
    whose codes are in `only`, when given).

    `start` is when the clock starts (which may lie in the past, or in the future for a
    court order's "until" date); `at` is when the change is recorded on the timeline
    (default: `start`, but never later than now, so the timeline holds no future events).

    A rule whose deadline is already open for this case is restarted: the old one is closed
    (met or missed against the new start) and a new one opened, as when a court extends a
    detention order.
    """
    recorded = at or min(start, timezone.now())
    opened: list[Deadline] = []
    codes = None if only is None else set(only)
    for rule in applicable_rules(application, start_event):
        if codes is not None and rule.code not in codes:
            continue
        for previous in Deadline.objects.running().filter(application=application, rule=rule):
            previous.rule = rule
            _close(previous, start, actor=actor, how="superseded")
        due_on, due_at = rule_due(rule, start)
        deadline = Deadline.objects.create(
            application=application,
            rule=rule,
            placement=placement,
            starts_at=start,
            due_on=due_on,
            due_at=due_at,
            status=Deadline.Status.ENTITLEMENT if rule.is_entitlement else Deadline.Status.OPEN,
            legal_reference=rule.legal_source,
            rule_set_key=rule.key_date,
            rule_set_date=rule.key_day(application),
        )
        record_event(
            application,
            kind=CaseEvent.Kind.DEADLINE,
            action="opened",
            actor=actor,
            at=recorded,
            data={"deadline": deadline.pk, "rule": rule.code, "due_on": due_on.isoformat()},
        )
        opened.append(deadline)
    refresh_next_deadline(application)
    return opened


def _close(deadline: Deadline, at: dt.datetime, *, actor, how: str, reason: str = "") -> None:
    """Close one open deadline. `how`: met (checked against due_at), cancelled, waived,
    superseded (a new clock of the same rule replaces it; met or missed as for `met`)."""
    status = closing_status(how, at, deadline.due_at, entitlement_from=entitlement_from(deadline))
    deadline.status = status
    deadline.closed_at = at
    deadline.waive_reason = reason if how == "waived" else ""
    deadline.save(update_fields=["status", "closed_at", "waive_reason"])
    record_event(
        deadline.application,
        kind=CaseEvent.Kind.DEADLINE,
        action=status,
        actor=actor,
        at=max(at, timezone.now()) if how == "waived" else at,
        reason=reason,
        data={"deadline": deadline.pk, "rule": deadline.rule_id, "due_on": str(deadline.due_on)},
    )


def meet_deadlines(
    application: Application, stop_event: str, at: dt.datetime, *, actor=None
) -> list[Deadline]:
    """Close as met (or missed, if late) the open deadlines that `stop_event` satisfies."""
    closed = list(
        Deadline.objects.running()
        .filter(application=application, rule__stop_event=stop_event)
        .select_related("rule")
    )
    for deadline in closed:
        _close(deadline, at, actor=actor, how="met")
    refresh_next_deadline(application)
    return closed


def end_placement_deadlines(
    application: Application, placement: Placement, at: dt.datetime, *, actor=None
) -> None:
    """Detention ended: its clocks (court order, review, cap) are met, or missed if late."""
    rows = Deadline.objects.running().filter(application=application, placement=placement)
    for deadline in rows.select_related("rule"):
        _close(deadline, at, actor=actor, how="met")
    refresh_next_deadline(application)


def cancel_open_deadlines(
    application: Application, at: dt.datetime, *, actor=None, keep_detention: bool = False
) -> None:
    """The case ended (withdrawn, closed): what is still open no longer runs.

    With `keep_detention`, the clocks of a detention that goes on (court order, review,
    18-month cap) keep running: a court remittal does not release anyone.
    """
    open_now = Deadline.objects.running().filter(application=application)
    if keep_detention:
        open_now = open_now.exclude(placement__isnull=False, placement__ends_at__isnull=True)
    for deadline in open_now.select_related("rule"):
        _close(deadline, at, actor=actor, how="cancelled")
    refresh_next_deadline(application)


def cancel_family(
    application: Application, family: str, at: dt.datetime, *, actor=None, how: str = "cancelled"
) -> None:
    """Cancel the running deadlines of one rule family (a clock that stops, as the
    examination when a case enters the Dublin procedure, or one replaced by an extension).
    With `how="met"` they are met instead (or missed, if late): the step they wait for
    happened in another way, as a border procedure that ends when the case leaves it."""
    running = Deadline.objects.running().filter(application=application).select_related("rule")
    for deadline in running:
        if deadline.rule.family_name == family:
            _close(deadline, at, actor=actor, how=how)
    refresh_next_deadline(application)


def change_procedure(
    application: Application, procedure: str, at: dt.datetime, *, actor=None
) -> tuple[list[Deadline], list[Deadline]]:
    """Move the case to `procedure` (in memory: the caller saves it) and follow with its
    clocks. Returns (closed, opened).

    The rules the case follows are chosen again (`choose_rules`): a running clock whose rule
    is no longer chosen is cancelled when another rule of its family takes over (the
    accelerated examination period replaces the regular one), and met (or missed, if late)
    when its family has no rule left, because the procedure it measured ended (a border
    procedure left, an admissibility examination that found the case admissible). A newly
    chosen rule opens from its start event, when the case records that moment (the making
    or the lodging of the application)."""
    rules = list(DeadlineRule.objects.filter(is_active=True))
    before = {rule.code for rule in choose_rules(application, rules)}
    application.procedure = procedure
    after = {rule.code: rule for rule in choose_rules(application, rules)}
    families = {rule.family_name for rule in after.values()}
    closed: list[Deadline] = []
    running = Deadline.objects.running().filter(application=application).select_related("rule")
    for deadline in running:
        rule = deadline.rule
        if rule.code in after:
            continue
        if rule.family_name in families:
            _close(deadline, at, actor=actor, how="cancelled")
        elif rule.procedure_list():
            _close(deadline, at, actor=actor, how="met")
        else:
            continue
        closed.append(deadline)
    starts = {
        DeadlineRule.StartEvent.SUBMITTED: at_noon(application.submitted_on),
        DeadlineRule.StartEvent.LODGED: at_noon(application.lodged_on)
        if application.lodged_on
        else None,
    }
    new = [rule for code, rule in after.items() if code not in before]
    opened: list[Deadline] = []
    for event, start in starts.items():
        codes = [rule.code for rule in new if rule.start_event == event]
        if start is not None and codes:
            opened += open_deadlines(application, event, start, actor=actor, at=at, only=codes)
    refresh_next_deadline(application)
    return closed, opened


def waive_deadline(deadline: Deadline, *, actor, reason: str) -> None:
    _close(deadline, timezone.now(), actor=actor, how="waived", reason=reason)
    refresh_next_deadline(deadline.application)


def refresh_next_deadline(application: Application) -> None:
    """Keep the stored nearest open deadline current (the case list sorts on it, and the
    list's overdue filter and flags read it). A case recorded after the fact has none: its
    open clocks are history, not something due."""
    nearest = (
        None
        if application.recorded_as_of
        else Deadline.objects.open().filter(application=application).aggregate(m=Min("due_at"))["m"]
    )
    if nearest != application.next_deadline_at:
        application.next_deadline_at = nearest
        Application.objects.filter(pk=application.pk).update(next_deadline_at=nearest)


# ------------------------------------------------------------------------------------------
# Corrections: a fact a clock runs from, or is met by, was recorded wrongly
# ------------------------------------------------------------------------------------------


def deprived_of_liberty_at(application: Application, placement: Placement) -> dt.datetime:
    """When the detention's 48-hour clock starts (`deprivation_start`), for a placement on
    record: whether an earlier placement exists is read from the database."""

    def placed_before() -> bool:
        earlier = Placement.objects.filter(
            application=application, starts_at__lt=placement.starts_at
        )
        return earlier.exclude(pk=placement.pk).exists()

    return deprivation_start(
        application.apprehended_on,
        placement.starts_at,
        placed_before,
        application.apprehended_at,
    )


def deprivation_start(
    apprehended_on: dt.date | None,
    detained_at: dt.datetime,
    placed_before: Callable[[], bool],
    apprehended_at: dt.datetime | None = None,
) -> dt.datetime:
    """When a detention's 48-hour clock starts: the actual deprivation of liberty.

    That is the apprehension (its recorded moment `apprehended_at`, else 12:00 Vilnius on
    `apprehended_on`) when the person went from it straight into this detention, i.e. it is
    the case's first placement and the apprehension comes before it; otherwise the
    detention's own start. `placed_before()` says whether the case had a placement before;
    it is asked only when that decides.
    """
    apprehended = apprehended_at or (at_noon(apprehended_on) if apprehended_on else None)
    if apprehended is not None and apprehended <= detained_at and not placed_before():
        return apprehended
    return detained_at


def hold_restriction_cap(application: Application, placement: Placement) -> None:
    """`placement` ends for another restriction of liberty (detention for an alternative,
    or the reverse): its cap clock (DOMAIN.md §3 row 17, which counts alternatives too) is
    detached first, so that ending the placement leaves it running
    (`follow_restriction_cap` attaches it to the next one)."""
    Deadline.objects.running().filter(
        application=application,
        placement=placement,
        rule__start_event=DeadlineRule.StartEvent.ENTERED,
    ).update(placement=None)


def follow_restriction_cap(
    application: Application, placement: Placement, *, actor, at: dt.datetime
) -> None:
    """A restriction of liberty (detention or an alternative) starts: the cap counted from
    entry runs on with it, or opens when none runs. It ends with the placement that holds
    it (met), unless another restriction takes over (`hold_restriction_cap`)."""
    running = Deadline.objects.running().filter(
        application=application, rule__start_event=DeadlineRule.StartEvent.ENTERED
    )
    if running.exists():
        running.update(placement=placement)
        return
    open_deadlines(
        application,
        DeadlineRule.StartEvent.ENTERED,
        entry_moment(application),
        actor=actor,
        placement=placement,
        at=at,
    )


def entry_moment(application: Application) -> dt.datetime:
    """When the restriction cap starts: entry, else apprehension, else the application."""
    day = application.entered_on or application.apprehended_on or application.submitted_on
    return at_noon(day)


def _judged(deadline: Deadline) -> str:
    """A closed deadline's status judged again against its (new) due moment (an
    entitlement's: against its new start)."""
    statuses = Deadline.Status
    starts = entitlement_from(deadline)
    if starts is not None:
        if deadline.status in (statuses.MET, statuses.CANCELLED) and deadline.closed_at:
            closed = deadline.closed_at
            return closing_status("met", closed, deadline.due_at, entitlement_from=starts)
        return deadline.status
    if deadline.status in (statuses.MET, statuses.MISSED) and deadline.closed_at:
        return closing_status("met", deadline.closed_at, deadline.due_at)
    return deadline.status


def _judgement(deadline: Deadline) -> tuple:
    """What a correction may change on a deadline: when it is due and how it was closed."""
    return (deadline.due_on, deadline.due_at, deadline.status, deadline.closed_at)


def _record_correction(deadline: Deadline, before: tuple, *, actor, at: dt.datetime) -> bool:
    """Save a re-dated or re-judged deadline and put it on the timeline, if it changed."""
    if _judgement(deadline) == before:
        return False
    deadline.save(update_fields=["starts_at", "due_on", "due_at", "status", "closed_at"])
    record_event(
        deadline.application,
        kind=CaseEvent.Kind.DEADLINE,
        action="corrected",
        actor=actor,
        at=at,
        data={
            "deadline": deadline.pk,
            "rule": deadline.rule_id,
            "due_on": deadline.due_on.isoformat(),
            "was_due_on": before[0].isoformat(),
            "status": deadline.status,
            "was_status": before[2],
        },
    )
    return True


def restart_clocks(
    application: Application,
    start_event: str,
    start: dt.datetime | Callable[[Deadline], dt.datetime],
    *,
    actor,
    at: dt.datetime,
) -> list[Deadline]:
    """The fact `start_event` stands for was corrected: every deadline that ran from it is
    computed again from `start` (a moment, or a function of the deadline for clocks that
    depend on their placement). Open ones are re-dated; met and missed ones are judged
    again against the new due moment; waived and cancelled ones stay as they were."""
    changed = []
    statuses = Deadline.Status
    rows = Deadline.objects.filter(
        Q(status__in=[statuses.OPEN, statuses.MET, statuses.MISSED, statuses.ENTITLEMENT])
        | Q(status=statuses.CANCELLED, rule__kind=DeadlineRule.Kind.ENTITLEMENT),
        application=application,
        rule__start_event=start_event,
    ).select_related("rule", "placement")
    for deadline in rows:
        before = _judgement(deadline)
        deadline.application = application
        deadline.starts_at = start(deadline) if callable(start) else start
        deadline.due_on, deadline.due_at = rule_due(deadline.rule, deadline.starts_at)
        deadline.status = _judged(deadline)
        if _record_correction(deadline, before, actor=actor, at=at):
            changed.append(deadline)
    refresh_next_deadline(application)
    return changed


def rejudge_stop(
    application: Application, stop_event: str, met_at: dt.datetime, *, actor, at: dt.datetime
) -> list[Deadline]:
    """The fact that met the deadlines of `stop_event` was corrected to `met_at`: deadlines it
    closed are judged again (met or missed); ones still open are met now."""
    changed = []
    statuses = Deadline.Status
    rows = Deadline.objects.filter(
        Q(status__in=[statuses.MET, statuses.MISSED])
        | Q(status=statuses.CANCELLED, rule__kind=DeadlineRule.Kind.ENTITLEMENT),
        application=application,
        rule__stop_event=stop_event,
    ).select_related("rule")
    for deadline in rows:
        before = _judgement(deadline)
        deadline.application = application
        deadline.closed_at = met_at
        deadline.status = _judged(deadline)
        if _record_correction(deadline, before, actor=actor, at=at):
            changed.append(deadline)
    changed += meet_deadlines(application, stop_event, met_at, actor=actor)
    return changed
