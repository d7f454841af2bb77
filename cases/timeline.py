"""A case's timeline as rows to show.

`TimelineBuilder` turns a case's `CaseEvent` rows into the texts a reader sees, with a fixed
number of queries however many events there are. It knows no request and no view: it is given
the case, the events to show, the notes, documents and placements they point at, and where a
document's link leads, so that the case page and an API answer build the same rows. The rows
are written in the active language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

from .labels import data_text, label, person, transition_labels
from .models import (
    Application,
    CaseEvent,
    Document,
    Note,
    Placement,
    Status,
)
from .reference import facility_names, rule_names
from .timeline_detention import DETENTION_CAUSES, DetentionRecords, court_order_row, detention_row
from .timeline_legal import APPEAL_CAUSES, appeal_details, decision_details, record_title
from .timeline_person import INTERVIEW_ACTIONS, PERSON_CAUSES, interview_title, person_title

# What a reader may filter the timeline by (`?kind=...`, any number): each choice and the
# event kinds it shows. Views of the case are never on the timeline (its access log has them).
KIND_FILTERS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "transition": (gettext_lazy("Status changes"), (CaseEvent.Kind.TRANSITION,)),
    "record": (gettext_lazy("Case records"), (CaseEvent.Kind.RECORD, CaseEvent.Kind.RETENTION)),
    "deadline": (gettext_lazy("Deadlines"), (CaseEvent.Kind.DEADLINE,)),
    "note": (gettext_lazy("Notes"), (CaseEvent.Kind.NOTE,)),
    "document": (gettext_lazy("Documents"), (CaseEvent.Kind.DOCUMENT,)),
    "placement": (gettext_lazy("Placements"), (CaseEvent.Kind.PLACEMENT,)),
}

# The actions of people that cause system events, as the "because of" line names them
# (transitions are named by their own labels).
CAUSE_LABELS = {
    "submit": gettext_lazy("Register the application"),
    "interview_recorded": gettext_lazy("Record the personal interview"),
    "court_order": gettext_lazy("Record the court order on detention"),
    "served": gettext_lazy("Record service of the decision"),
    **APPEAL_CAUSES,
    "corrected": gettext_lazy("Correct the record"),
    "brought_up_to_date": gettext_lazy("The record is up to date"),
    **PERSON_CAUSES,
    **DETENTION_CAUSES,
}


def chosen_kinds(values: Iterable[str]) -> list[str]:
    """The filter choices asked for (unknown values dropped), in the filter's order."""
    asked = set(values)
    return [name for name in KIND_FILTERS if name in asked]


def filter_kinds(events, kinds: list[str]):
    """Events of the chosen filter choices (all of them when none is chosen), in SQL."""
    if not kinds:
        return events
    return events.filter(kind__in=[k for name in kinds for k in KIND_FILTERS[name][1]])


def is_system(event: CaseEvent) -> bool:
    """Deadlines opened, met, missed, cancelled or re-dated are Haven's doing, as a
    consequence of a person's action; a waiver is the decision-maker's own act."""
    return event.kind == CaseEvent.Kind.DEADLINE and event.action != "waived"


# A fact recorded this long after the moment it is dated to was recorded after the fact.
RECORDED_LATER = dt.timedelta(minutes=1)


class TimelineBuilder:
    """Turns a case's events into display rows with a fixed number of queries.

    Events point at notes, documents, placements and deadlines by id: the row shows the
    current note text or document link, never a copy kept in the event.
    """

    def __init__(
        self,
        case: Application,
        events: list[CaseEvent],
        *,
        notes: Iterable[Note],
        documents: Iterable[Document],
        placements: Iterable[Placement],
        document_url: Callable[[Document], str],
        detention: DetentionRecords | None = None,
    ) -> None:
        """`document_url` gives a document's link: the case page's download, or an API's.
        `detention`: the case's detention records, when the caller has read them already."""
        self.events = events
        self.detention = detention if detention is not None else DetentionRecords.of(case)
        self.document_url = document_url
        notes = list(notes)
        self.notes = {n.pk: n for n in notes}
        self.documents = {d.pk: d for d in documents}
        self.placements = {p.pk: p for p in placements}
        user_ids = {
            e.data.get(key)
            for e in events
            for key in ("assignee", "holder", "interviewer")
            if isinstance(e.data, dict) and isinstance(e.data.get(key), int)
        }
        # Who did each event and who wrote each note, when the caller read them without
        # (the case page: joined to every account, the events' statement hashed the whole
        # user table on each view), are read with the people the events name.
        unread = [e for e in events if e.actor_id and not CaseEvent.actor.is_cached(e)]
        authors = [n for n in notes if n.author_id and not Note.author.is_cached(n)]
        user_ids.update(e.actor_id for e in unread)
        user_ids.update(n.author_id for n in authors)
        # The case's assignee, when the caller read it with the case (the case page does), is
        # not read again. The others are read in one query, none when there are none.
        self.users = {}
        if case.assigned_to_id and Application.assigned_to.is_cached(case):
            self.users[case.assigned_to_id] = case.assigned_to
        missing = user_ids - self.users.keys()
        if missing:
            self.users.update(User.objects.in_bulk(missing))
        for event in unread:
            CaseEvent.actor.field.set_cached_value(event, self.users.get(event.actor_id))
        for note in authors:
            Note.author.field.set_cached_value(note, self.users.get(note.author_id))
        # Names only: the rows need nothing else of the rules and facilities.
        self.rule_names = rule_names()
        self.facility_names = facility_names()
        self.labels = transition_labels()
        self.outcomes = dict(Application.Outcome.choices)
        self.withdrawals = dict(Application.Withdrawal.choices)
        self.regimes = dict(Placement.Regime.choices)
        self.statuses = dict(Status.choices)

    def rows(self) -> list[dict[str, Any]]:
        """One row per event, newest first. A system event (`is_system`) says "Haven,
        because of" the person's action that caused it; `cause` is that action's event id
        when it is among the rows."""
        causes = self._causes()
        rows = []
        for event in self.events:
            row = self.row(event)
            if is_system(event):
                cause = causes.get(event.pk)
                row["cause"] = cause.pk if cause is not None else None
                action = cause.action if cause is not None else (event.data or {}).get("cause")
                row["actor"] = _("Haven")
                row["because"] = self._because(action, event.actor)
            rows.append(row)
        return rows

    @staticmethod
    def grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows with each system row placed under the row of the action that caused it
        (`system_rows`, in the order they happened); system rows whose cause is not shown
        stay rows of their own."""
        top = {row["id"]: row for row in rows if not row["system"] or row["cause"] is None}
        for row in top.values():
            row["system_rows"] = []
        for row in rows:
            parent = top.get(row["cause"]) if row["system"] else None
            if parent is not None:
                if parent["recorded_at"] is not None:
                    row["recorded_at"] = None  # said once, on the action's row
                parent["system_rows"].append(row)
        for row in top.values():
            row["system_rows"].reverse()
        return [row for row in rows if row["id"] in top]

    def _causes(self) -> dict[int, CaseEvent]:
        """Each system event's cause among the events shown: the nearest event (by its place
        in the case's chain) of the action it names, by the same person; for events written
        before causes were named, the person's nearest earlier action."""
        people = [e for e in self.events if not is_system(e)]
        found: dict[int, CaseEvent] = {}
        for event in self.events:
            if not is_system(event):
                continue
            named = (event.data or {}).get("cause") if isinstance(event.data, dict) else None
            candidates = [
                p
                for p in people
                if p.actor_id == event.actor_id
                and (p.action == named if named else p.pk < event.pk)
            ]
            if candidates:
                found[event.pk] = min(candidates, key=lambda p: abs(p.pk - event.pk))
        return found

    def _because(self, action: str | None, actor: User | None) -> str:
        what = self.labels.get(action) or CAUSE_LABELS.get(action or "")
        if not what:
            return ""
        if actor is None:
            return _("because of: %(action)s") % {"action": what}
        return _("because of: %(action)s by %(who)s") % {"action": what, "who": person(actor)}

    def row(self, event: CaseEvent) -> dict[str, Any]:
        data = event.data if isinstance(event.data, dict) else {}
        # One time per event: when it happened (`at`). Recorded later than that (a fact
        # entered after the day it is dated to), the row says when, and the day it happened
        # is shown without a clock time (such moments stand for a legal day).
        recorded = event.recorded_at
        later = recorded is not None and recorded - event.at >= RECORDED_LATER
        row: dict[str, Any] = {
            "id": event.pk,
            "system": is_system(event),
            "cause": None,
            "because": "",
            "day_only": later or is_system(event),
            "recorded_at": recorded if later else None,
            "at": event.at,
            "kind": event.kind,
            "kind_label": label(CaseEvent.Kind, event.kind),
            "action": event.action,
            "actor": person(event.actor) or _("System"),
            "title": "",
            "details": [],
            "text": "",
            "link": "",
            "link_text": "",
            "reason": _("(removed under the retention rules)")
            if event.redacted_by_id
            else event.reason,
        }
        handler = getattr(self, f"_{event.kind}", None)
        if handler is not None:
            handler(event, data, row)
        if not row["title"]:
            row["title"] = f"{label(CaseEvent.Kind, event.kind)}: {event.action}"
        row["details"] = " · ".join(str(d) for d in row["details"] if d)
        return row

    def _date(self, value: Any) -> str:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                return value
        return ""

    def _moment(self, value: Any) -> str:
        """A stored ISO moment as the pages write moments (Vilnius time, minutes)."""
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        return ""

    def _transition(self, event: CaseEvent, data: dict, row: dict) -> None:
        if event.action == "submit":
            row["title"] = _("Application registered")
            if isinstance(data.get("seed"), str):
                # The import's record: where the case came from; each fact's source (a quote
                # or how it was inferred) is in that case file, not in the case's fields.
                row["details"].append(
                    _(
                        "Imported from the sample case file “%(key)s”, which gives the source "
                        "of each fact"
                    )
                    % {"key": data["seed"]}
                )
        else:
            row["title"] = self.labels.get(event.action, event.action)
        if event.from_status and event.to_status:
            row["details"].append(
                _("Status: %(from)s → %(to)s")
                % {
                    "from": self.statuses.get(event.from_status, event.from_status),
                    "to": self.statuses.get(event.to_status, event.to_status),
                }
            )
        elif event.to_status:
            row["details"].append(
                _("Status: %(to)s") % {"to": self.statuses.get(event.to_status, event.to_status)}
            )
        if data.get("outcome"):
            row["details"].append(
                _("Decision: %(outcome)s")
                % {"outcome": self.outcomes.get(data["outcome"], data["outcome"])}
            )
        row["details"].extend(decision_details(data))
        row["details"].extend(appeal_details(data))
        if data.get("previous_application"):
            row["details"].append(_("Subsequent application"))
        for key, text in (
            ("decided_on", _("decided on %(date)s")),
            ("served_on", _("served on %(date)s")),
            ("lodged_on", _("lodged on %(date)s")),
        ):
            if data.get(key):
                row["details"].append(text % {"date": self._date(data[key])})
        if data.get("kind") in self.withdrawals:
            row["details"].append(str(self.withdrawals[data["kind"]]))
        if "assignee" in data and data.get("assignee"):
            row["details"].append(
                _("Assigned to %(who)s") % {"who": person(self.users.get(data["assignee"]))}
            )

    def _note(self, event: CaseEvent, data: dict, row: dict) -> None:
        row["title"] = _("Note added")
        note = self.notes.get(data.get("note"))
        row["text"] = note.text if note else _("(this note is no longer available)")

    def _document(self, event: CaseEvent, data: dict, row: dict) -> None:
        row["title"] = _("Document added")
        document = self.documents.get(data.get("document"))
        if document is not None:
            row["link"] = self.document_url(document)
            row["link_text"] = document.display_name
            row["details"].append(document.get_kind_display())
            if document.description:
                row["details"].append(document.description)
        else:
            row["text"] = _("(this document is no longer available)")

    def _placement(self, event: CaseEvent, data: dict, row: dict) -> None:
        placement = self.placements.get(data.get("placement"))
        name = self.facility_names.get(data.get("facility")) or _("an unknown facility")
        if event.action == "placed":
            regime = self.regimes.get(data.get("regime"), "")
            row["title"] = _("Placed at %(facility)s") % {"facility": name}
            if regime:
                row["details"].append(str(regime))
            if data.get("alternative"):
                row["details"].append(label(Placement.Alternative, data["alternative"]))
            if placement and placement.legal_basis:
                row["details"].append(
                    _("Legal basis: %(basis)s") % {"basis": placement.legal_basis}
                )
            if placement and placement.last_resort_reason:
                # An unaccompanied minor detained: the decision-maker's reason, as it is now.
                row["text"] = _("Detention as a last resort: %(reason)s") % {
                    "reason": placement.last_resort_reason
                }
        elif event.action == "ended":
            row["title"] = _("Placement at %(facility)s ended") % {"facility": name}
            if placement and placement.end_reason:
                row["text"] = placement.end_reason

    def _deadline(self, event: CaseEvent, data: dict, row: dict) -> None:
        rule_name = self.rule_names.get(data.get("rule"))
        name = data_text(rule_name) if rule_name is not None else data.get("rule", "")
        due = self._date(data.get("due_on"))
        titles = {
            "opened": _("Deadline opened: %(name)s, due %(due)s"),
            "met": _("Deadline met: %(name)s (due %(due)s)"),
            "missed": _("Deadline missed: %(name)s (was due %(due)s)"),
            "waived": _("Deadline waived: %(name)s (due %(due)s)"),
            "cancelled": _("Deadline cancelled: %(name)s (due %(due)s)"),
            "corrected": _("Deadline corrected: %(name)s, now due %(due)s"),
        }
        template = titles.get(event.action, _("Deadline %(name)s (due %(due)s)"))
        row["title"] = template % {"name": name, "due": due}

    def _record(self, event: CaseEvent, data: dict, row: dict) -> None:
        action = event.action
        if action == "interview_recorded":
            if data.get("interviewed_on"):
                row["title"] = _("Personal interview recorded: held on %(date)s") % {
                    "date": self._date(data["interviewed_on"])
                }
                document = self.documents.get(data.get("record"))
                if document is not None:
                    row["link"] = self.document_url(document)
                    row["link_text"] = document.display_name
            else:
                row["title"] = _("Personal interview waived")
        elif action in INTERVIEW_ACTIONS:
            row["title"] = interview_title(action, data, self._moment)
            who = self.users.get(data.get("interviewer"))
            if who is not None:
                row["details"].append(_("Interviewer: %(who)s") % {"who": person(who)})
        elif action == "court_order":
            court_order_row(data, self.detention, self._date, row)
            placement = self.placements.get(data.get("placement"))
            if "order" not in data and placement and placement.court_name:
                # Recorded before each order had a row of its own: the placement's court.
                row["details"].append(
                    f"{placement.court_name}, {placement.court_case_number}".strip(", ")
                )
        elif action == "served":
            row["title"] = _("Decision served on %(date)s") % {
                "date": self._date(data.get("served_on"))
            }
            if data.get("method"):
                row["details"].append(label(Application.ServiceMethod, data["method"]))
        elif action == "assigned":
            who = self.users.get(data.get("assignee"))
            row["title"] = (
                _("Assigned to %(who)s") % {"who": person(who)} if who else _("Unassigned")
            )
        elif action == "late_appeal":
            row["title"] = _("Reason for a late appeal")
        elif action == "brought_up_to_date":
            row["title"] = _(
                "Record brought up to date (it reflected %(date)s): its clocks are live"
            ) % {"date": self._date(data.get("recorded_as_of"))}
        elif action == "corrected":
            self._correction(data, row)
        elif action == "break_glass":
            row["title"] = _(
                "Emergency access opened by a caseworker of another unit, until %(until)s"
            ) % {"until": self._moment(data.get("until"))}
        elif action == "break_glass_revoked":
            who = self.users.get(data.get("holder"))
            row["title"] = _("Emergency access of %(who)s ended before %(until)s") % {
                "who": person(who) if who else "?",
                "until": self._moment(data.get("until")),
            }
        elif action == "break_glass_extended":
            who = self.users.get(data.get("holder"))
            row["title"] = _("Emergency access of %(who)s extended to work, until %(until)s") % {
                "who": person(who) if who else "?",
                "until": self._moment(data.get("until")),
            }
        elif detention_row(action, data, self.detention, self._date, row):
            pass
        else:
            row["title"] = (
                record_title(action, data, self._date)
                or person_title(action, data, self._date)
                or _("Case record: %(action)s") % {"action": action}
            )

    def _correction(self, data: dict, row: dict) -> None:
        """A superuser corrected facts: which ones, and the old and new values of those
        that are not free text (the event never copies free text)."""
        fields = [f for f in data.get("fields", []) if isinstance(f, str)]
        names = [self._field_name(f) for f in fields]
        row["title"] = _("Record corrected: %(fields)s") % {"fields": ", ".join(names)}
        changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
        for field in fields:
            change = changes.get(field)
            if isinstance(change, dict) and field != "applicant":
                row["details"].append(
                    _("%(field)s: %(old)s → %(new)s")
                    % {
                        "field": self._field_name(field),
                        "old": self._fact_text(field, change.get("from")),
                        "new": self._fact_text(field, change.get("to")),
                    }
                )

    def _fact_text(self, name: str, value: Any) -> str:
        """A corrected fact's value as a reader knows it: a date, or a choice's label."""
        if value in (None, "", []):
            return "—"
        try:
            choices = dict(Application._meta.get_field(name).choices or ())
        except Exception:  # noqa: BLE001 - an unknown name in an old event is shown as it is
            choices = {}
        if name == "grounds":
            grounds = dict(Application.Ground.choices)
            values = value if isinstance(value, list) else [value]
            return ", ".join(str(grounds.get(v, v)) for v in values)
        if value in choices:
            return str(choices[value])
        return self._date(value) or str(value)

    @staticmethod
    def _field_name(name: str) -> str:
        try:
            return str(Application._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - an unknown name in an old event is shown as it is
            return name

    def _retention(self, event: CaseEvent, data: dict, row: dict) -> None:
        row["title"] = _("Personal data removed under the retention rules")
