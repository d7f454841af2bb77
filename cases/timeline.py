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

from django.utils.translation import gettext as _

from accounts.models import User

from .labels import data_text, label, person, transition_labels
from .models import (
    Application,
    CaseEvent,
    DeadlineRule,
    Document,
    Facility,
    Note,
    Placement,
    Status,
)
from .timeline_legal import decision_details, record_title


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
    ) -> None:
        """`document_url` gives a document's link: the case page's download, or an API's."""
        self.events = events
        self.document_url = document_url
        self.notes = {n.pk: n for n in notes}
        self.documents = {d.pk: d for d in documents}
        self.placements = {p.pk: p for p in placements}
        user_ids = {
            e.data.get("assignee")
            for e in events
            if isinstance(e.data, dict) and isinstance(e.data.get("assignee"), int)
        }
        # Always one query (the case's assignee rides along): skipping it when no shown event
        # names a person would make the page's query count depend on which events are shown.
        user_ids.add(case.assigned_to_id or 0)
        self.users = User.objects.in_bulk(user_ids)
        self.rules = {r.code: r for r in DeadlineRule.objects.all()}
        self.facilities = {f.pk: f for f in Facility.objects.all()}
        self.labels = transition_labels()
        self.outcomes = dict(Application.Outcome.choices)
        self.withdrawals = dict(Application.Withdrawal.choices)
        self.regimes = dict(Placement.Regime.choices)
        self.statuses = dict(Status.choices)

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(event) for event in self.events]

    def row(self, event: CaseEvent) -> dict[str, Any]:
        data = event.data if isinstance(event.data, dict) else {}
        row: dict[str, Any] = {
            "at": event.at,
            "kind": event.kind,
            "kind_label": label(CaseEvent.Kind, event.kind),
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

    def _transition(self, event: CaseEvent, data: dict, row: dict) -> None:
        if event.action == "submit":
            row["title"] = _("Application registered")
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
            row["link_text"] = document.original_name
            if document.description:
                row["details"].append(document.description)
        else:
            row["text"] = _("(this document is no longer available)")

    def _placement(self, event: CaseEvent, data: dict, row: dict) -> None:
        placement = self.placements.get(data.get("placement"))
        facility = self.facilities.get(data.get("facility"))
        name = facility.name if facility else _("an unknown facility")
        if event.action == "placed":
            regime = self.regimes.get(data.get("regime"), "")
            row["title"] = _("Placed at %(facility)s") % {"facility": name}
            if regime:
                row["details"].append(str(regime))
            if placement and placement.legal_basis:
                row["details"].append(
                    _("Legal basis: %(basis)s") % {"basis": placement.legal_basis}
                )
        elif event.action == "ended":
            row["title"] = _("Placement at %(facility)s ended") % {"facility": name}
            if placement and placement.end_reason:
                row["text"] = placement.end_reason

    def _deadline(self, event: CaseEvent, data: dict, row: dict) -> None:
        rule = self.rules.get(data.get("rule"))
        name = data_text(rule.name) if rule else data.get("rule", "")
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
            else:
                row["title"] = _("Personal interview waived")
        elif action == "court_order":
            row["title"] = _("Court order on detention: of %(on)s, until %(until)s") % {
                "on": self._date(data.get("order_on")),
                "until": self._date(data.get("until")),
            }
            placement = self.placements.get(data.get("placement"))
            if placement and placement.court_name:
                row["details"].append(
                    f"{placement.court_name}, {placement.court_case_number}".strip(", ")
                )
        elif action == "served":
            row["title"] = _("Decision served on %(date)s") % {
                "date": self._date(data.get("served_on"))
            }
        elif action == "judgment":
            row["title"] = _("Final judgment of %(date)s") % {
                "date": self._date(data.get("judgment_on"))
            }
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
        else:
            row["title"] = record_title(action, data, self._date) or _(
                "Case record: %(action)s"
            ) % {"action": action}

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
