"""The rows of one synthetic case, written as `cases.workflow` writes them, without its cost.

The workflow takes a few milliseconds and a dozen queries per step, so a hundred thousand
cases through it would take hours. A `CaseFile` keeps one case's rows in memory instead and
takes every rule from where the workflow takes it:
- a transition runs only from a status that `Application`'s state machine allows it from,
  and leads where the model says;
- deadlines open for the `DeadlineRule` rows in force, are due as `cases.deadlines.rule_due`
  computes, and close met, missed or cancelled by `cases.deadlines.closing_status`;
- the events carry the workflow's kinds, actions and data, and are chained later with
  `cases.audit.event_hash` (the reason covered by `cases.audit.text_digest`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from functools import lru_cache
from typing import Any

from cases.audit import text_digest
from cases.deadlines import closing_status, local_date, rule_due
from cases.models import (
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    DeadlineRule,
    Note,
    Placement,
)

from .copywriter import Ids
from .names import Person

_STATUS = Application._meta.get_field("status")
INITIAL_STATUS = str(_STATUS.default)
# (transition, from status) -> to status, as the state machine on the model declares it.
TRANSITIONS: dict[tuple[str, str], str] = {
    (t.name, str(t.source)): str(t.target) for t in _STATUS.get_all_transitions(Application)
}

NOTE_TEXTS = (
    "Applicant called to ask about the interview date.",
    "Interpreter booked for the next appointment.",
    "Medical certificate received and added to the file.",
    "Country-of-origin information requested from the research unit.",
    "Lawyer asked for copies of the case file.",
    "Applicant reported a change of address within the centre.",
    "Identity documents checked against the border record.",
    "Follow-up questions prepared for the interview.",
    "Social worker reports the applicant's health is stable.",
    "Request for an extension of the deadline to submit evidence.",
    "Legal aid confirmed by the State-Guaranteed Legal Aid Service.",
    "Applicant did not attend; a new invitation was sent.",
)
REASONS = {
    "start_examination": ("Case allocated for examination.", "Examination begins."),
    "detain": (
        "Risk of absconding; no alternative to detention is sufficient.",
        "Identity could not be established at the border.",
    ),
    "release": ("Court did not extend the detention.", "Alternative to detention ordered."),
    "decide": ("Assessment of the claim completed.", "Credibility assessment concluded."),
    "appeal": ("Appeal lodged by the applicant's lawyer.",),
    "close": ("The decision is final.",),
    "withdraw": ("The applicant withdrew the application.", "The applicant absconded."),
}

_OPEN = Deadline.Status.OPEN
_digest = lru_cache(maxsize=4096)(text_digest)  # a few dozen distinct reasons, many times


class Rules:
    """The deadline rules in force, read once from the `DeadlineRule` rows, with their due
    dates by `cases.deadlines.rule_due`."""

    def __init__(self) -> None:
        self.by_start: dict[str, list[DeadlineRule]] = {}
        for rule in DeadlineRule.objects.filter(is_active=True):
            self.by_start.setdefault(rule.start_event, []).append(rule)
        self._due: dict[tuple[str, dt.date], tuple[dt.date, dt.datetime]] = {}

    def running_from(self, start_event: str, submitted_on: dt.date) -> list[DeadlineRule]:
        """As `cases.deadlines.applicable_rules`, from the rows read once."""
        return [r for r in self.by_start.get(start_event, []) if r.applies_to(submitted_on)]

    def due(self, rule: DeadlineRule, start: dt.datetime) -> tuple[dt.date, dt.datetime]:
        """`rule_due`, cached per rule and day for limits counted in days (their due date
        depends only on the start's date in Vilnius)."""
        if rule.unit == DeadlineRule.TimeUnit.HOURS:
            return rule_due(rule, start)
        key = (rule.code, local_date(start))
        hit = self._due.get(key)
        if hit is None:
            hit = self._due[key] = rule_due(rule, start)
        return hit


@dataclasses.dataclass
class Run:
    """What the cases of one run share."""

    rng: random.Random
    now: dt.datetime
    ids: Ids
    rules: Rules
    occupancy: Counter  # people placed now, by facility id
    today: dt.date = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.today = local_date(self.now)


class Event:
    """What `cases.audit.event_hash` reads from an event (it only needs these attributes),
    plus its place in the order the case file wrote it."""

    __slots__ = (
        "action",
        "actor_id",
        "application_id",
        "at",
        "data",
        "from_status",
        "hash",
        "kind",
        "prev_hash",
        "reason",
        "reason_digest",
        "seq",
        "to_status",
    )


class CaseFile:
    """One case's events, deadlines, placements, appeals and notes, built step by step.

    The case's own facts (`application`), its deadlines and its placements are kept as rows
    of their tables (column names), so that they are written as they are; `deadline_rules`
    remembers each deadline's rule.
    """

    def __init__(self, run: Run, submitted_on: dt.date, person: Person) -> None:
        self.run = run
        self.id = run.ids.take(Application)
        self.applicant_id = run.ids.take(Applicant)
        self.person = person
        self.submitted_on = submitted_on
        self.application: dict[str, Any] = {}
        self.status = INITIAL_STATUS
        self.status_changed_at: dt.datetime | None = None
        self.events: list[Event] = []
        self.deadlines: dict[int, dict[str, Any]] = {}
        self.deadline_rules: dict[int, DeadlineRule] = {}
        self.placements: dict[int, dict[str, Any]] = {}
        self.current_placement: int | None = None
        self.notes: list[dict[str, Any]] = []
        self.appeals: list[dict[str, Any]] = []

    # -- events ---------------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        action: str,
        actor: int | None,
        at: dt.datetime,
        *,
        from_status: str = "",
        to_status: str = "",
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        event = Event()
        event.application_id = self.id
        event.kind = kind
        event.action = action
        event.actor_id = actor
        event.at = at
        event.from_status = from_status
        event.to_status = to_status
        event.reason = reason
        event.reason_digest = _digest(reason)
        event.data = data or {}
        event.seq = len(self.events)
        self.events.append(event)

    def submit(self, actor: int, at: dt.datetime) -> None:
        """The case is made: the first event, as `cases.workflow.submit_application`."""
        self.event(
            CaseEvent.Kind.TRANSITION,
            "submit",
            actor,
            at,
            to_status=self.status,
            reason="Application registered.",
            data={"applicant": self.applicant_id, "submitted_on": self.submitted_on.isoformat()},
        )
        self.status_changed_at = at

    def transition(self, name: str, actor: int, at: dt.datetime, **data: Any) -> str:
        """Run transition `name` from the current status, where the state machine allows
        it; returns the reason given."""
        target = TRANSITIONS.get((name, self.status))
        if target is None:
            raise ValueError(f"the state machine has no {name!r} from {self.status!r}")
        reason = self.run.rng.choice(REASONS[name])
        self.event(
            CaseEvent.Kind.TRANSITION,
            name,
            actor,
            at,
            from_status=self.status,
            to_status=target,
            reason=reason,
            data={"transition": name, **data},
        )
        self.status = target
        self.status_changed_at = at
        return reason

    def record(
        self, action: str, actor: int, at: dt.datetime, reason: str = "", **data: Any
    ) -> None:
        self.event(CaseEvent.Kind.RECORD, action, actor, at, reason=reason, data=data)

    def note(self, author: int, at: dt.datetime) -> None:
        pk = self.run.ids.take(Note)
        text = self.run.rng.choice(NOTE_TEXTS)
        self.notes.append({"id": pk, "author_id": author, "text": text, "created_at": at})
        self.event(CaseEvent.Kind.NOTE, "note_added", author, at, data={"note": pk})

    # -- deadlines (as cases.deadlines) -------------------------------------------------------

    def open_deadlines(
        self,
        start_event: str,
        start: dt.datetime,
        actor: int | None,
        *,
        placement: int | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """As `cases.deadlines.open_deadlines`: a rule already running restarts."""
        run = self.run
        recorded = at or min(start, run.now)
        for rule in run.rules.running_from(start_event, self.submitted_on):
            for pk, running in self.running():
                if running.code == rule.code:
                    self._close(pk, start, actor, "superseded")
            due_on, due_at = run.rules.due(rule, start)
            pk = run.ids.take(Deadline)
            self.deadline_rules[pk] = rule
            self.deadlines[pk] = {
                "id": pk,
                "rule": rule.code,
                "placement_id": placement,
                "starts_at": start,
                "due_on": due_on,
                "due_at": due_at,
                "status": _OPEN,
                "closed_at": None,
                "legal_reference": rule.legal_source,
            }
            data = {"deadline": pk, "rule": rule.code, "due_on": due_on.isoformat()}
            self.event(CaseEvent.Kind.DEADLINE, "opened", actor, recorded, data=data)

    def running(self) -> list[tuple[int, DeadlineRule]]:
        """(id, rule) of the deadlines still running."""
        return [
            (pk, self.deadline_rules[pk])
            for pk, row in self.deadlines.items()
            if row["status"] == _OPEN
        ]

    def _close(self, pk: int, at: dt.datetime, actor: int | None, how: str) -> None:
        row = self.deadlines[pk]
        status = closing_status(how, at, row["due_at"])
        row["status"] = status
        row["closed_at"] = at
        data = {"deadline": pk, "rule": row["rule"], "due_on": str(row["due_on"])}
        self.event(CaseEvent.Kind.DEADLINE, status, actor, at, data=data)

    def meet(self, stop_event: str, at: dt.datetime, actor: int | None) -> None:
        """As `cases.deadlines.meet_deadlines`."""
        for pk, rule in self.running():
            if rule.stop_event == stop_event:
                self._close(pk, at, actor, "met")

    def cancel_open(self, at: dt.datetime, actor: int | None) -> None:
        """As `cases.deadlines.cancel_open_deadlines`."""
        for pk, _rule in self.running():
            self._close(pk, at, actor, "cancelled")

    def due_last(self, start_event: str) -> dict[str, Any] | None:
        """The deadline of `start_event` due last, open or not (as the model's condition
        for closing a case reads the appeal window)."""
        rows = [
            row
            for pk, row in self.deadlines.items()
            if self.deadline_rules[pk].start_event == start_event
        ]
        return max(rows, key=lambda row: row["due_at"]) if rows else None

    # -- placements (as cases.workflow) ------------------------------------------------------

    def place(
        self, facility: int, regime: str, at: dt.datetime, actor: int | None, **columns: Any
    ) -> int:
        pk = self.run.ids.take(Placement)
        self.placements[pk] = {
            "id": pk,
            "facility_id": facility,
            "regime": regime,
            "starts_at": at,
            **columns,
        }
        self.current_placement = pk
        self.run.occupancy[facility] += 1
        data = {"placement": pk, "facility": facility, "regime": regime}
        self.event(CaseEvent.Kind.PLACEMENT, "placed", actor, at, data=data)
        return pk

    def end_placement(self, at: dt.datetime, actor: int | None, reason: str) -> None:
        """As `cases.workflow._end_placement`: the placement's own clocks are met (or missed)."""
        pk = self.current_placement
        if pk is None:
            return
        row = self.placements[pk]
        row["ends_at"] = max(at, row["starts_at"])
        row["end_reason"] = reason
        self.current_placement = None
        self.run.occupancy[row["facility_id"]] -= 1
        data = {"placement": pk, "facility": row["facility_id"]}
        self.event(CaseEvent.Kind.PLACEMENT, "ended", actor, at, data=data)
        for dpk, deadline in list(self.deadlines.items()):
            if deadline["status"] == _OPEN and deadline["placement_id"] == pk:
                self._close(dpk, at, actor, "met")
