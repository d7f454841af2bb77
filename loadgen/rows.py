"""One synthetic case as rows of the tables loaded by COPY.

A case file already keeps its deadlines, placements and notes as rows of their tables;
here they get the case's id, the applicant and the case get theirs, and the events are put
in time order and chained (`cases.audit.event_hash`), so that `verify_audit` passes.
"""

from __future__ import annotations

import datetime as dt

from cases.audit import event_hash
from cases.models import Appeal, Applicant, Application, CaseEvent, Deadline, Note, Placement

from .casefile import CaseFile
from .copywriter import Table
from .names import Person
from .story import SYNTHETIC_MARK

REFERENCE_PREFIX = "SYN"
_AUTHORITY = Application.Authority
_OPEN = Deadline.Status.OPEN


class CaseTables:
    """The tables that synthetic cases fill, in the order the rows are sent."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.applicants = Table(Applicant)
        self.applications = Table(Application)
        self.placements = Table(Placement)
        self.appeals = Table(Appeal)
        self.deadlines = Table(Deadline)
        self.events = Table(CaseEvent)
        self.notes = Table(Note)
        self.all = (
            self.applicants,
            self.applications,
            self.placements,
            self.appeals,
            self.deadlines,
            self.events,
            self.notes,
        )
        self.reference_number = _next_reference_number()
        self._search_keys: dict[tuple[str, str, str, str], str] = {}

    def write(self, case: CaseFile) -> None:
        self._applicant(case.applicant_id, case.person)
        self._application(case)
        for row in case.placements.values():
            row["application_id"] = case.id
            row["unit_id"] = case.application["unit_id"]  # the triggers' copy (off in a load)
            self.placements.add(row)
        for row in case.appeals:
            row["application_id"] = case.id
            self.appeals.add(row)
        for row in case.deadlines.values():
            row["application_id"] = case.id
            self.deadlines.add(row)
        for row in case.notes:
            row["application_id"] = case.id
            self.notes.add(row)
        self._events(case)

    def _applicant(self, pk: int, person: Person) -> None:
        status, rank, unit = person.military
        self.applicants.add(
            {
                "id": pk,
                "family_name": person.family,
                "given_names": person.given,
                "name_original": person.original,
                "aliases": person.aliases,
                "date_of_birth": person.born,
                "sex": person.sex,
                "nationality": person.nationality,
                "languages": person.languages,
                "military_status": status,
                "military_rank": rank,
                "military_unit": unit,
                "search_key": self._search_key(person),
                "created_at": self.now,
            }
        )

    def _search_key(self, person: Person) -> str:
        """`Applicant.refresh_search_key`, once per distinct name (names repeat often)."""
        key = (person.given, person.family, person.original, person.aliases)
        found = self._search_keys.get(key)
        if found is None:
            applicant = Applicant(
                family_name=person.family,
                given_names=person.given,
                name_original=person.original,
                aliases=person.aliases,
            )
            applicant.refresh_search_key()
            found = self._search_keys[key] = applicant.search_key
        return found

    def _application(self, case: CaseFile) -> None:
        fields = case.application
        at_border = fields["apprehended_on"] or fields["procedure"] == Application.Procedure.BORDER
        authority = _AUTHORITY.BORDER_GUARD if at_border else _AUTHORITY.MIGRATION_DEPARTMENT
        open_due = [d["due_at"] for d in case.deadlines.values() if d["status"] == _OPEN]
        reference = f"{REFERENCE_PREFIX}-{case.submitted_on.year}-{self.reference_number:07d}"
        self.reference_number += 1
        self.applications.add(
            {
                **fields,
                "id": case.id,
                "reference": reference,
                "applicant_id": case.applicant_id,
                "status": case.status,
                "status_changed_at": case.status_changed_at,
                "apprehension_place": (
                    "Lithuanian–Belarusian border" if fields["apprehended_on"] else ""
                ),
                "submitted_on": case.submitted_on,
                "submission_place": (
                    "Border checkpoint" if authority == _AUTHORITY.BORDER_GUARD else "Vilnius"
                ),
                "submission_authority": authority,
                "claim_summary": SYNTHETIC_MARK,
                "next_deadline_at": min(open_due) if open_due else None,
                "nationality": case.person.nationality,
                # The copy of the applicant's key (triggers are off during the load).
                "search_key": self._search_key(case.person),
                "created_at": case.events[0].at,
                "updated_at": case.events[-1].at,
            }
        )

    def _events(self, case: CaseFile) -> None:
        """The chain: events in time order, ids in that order, each linked to the one before."""
        events = sorted(case.events, key=lambda e: (e.at, e.seq))
        ids = case.run.ids
        prev = ""
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event_hash(event)
            self.events.add(
                {
                    "id": ids.take(CaseEvent),
                    "application_id": case.id,
                    "kind": event.kind,
                    "action": event.action,
                    "actor_id": event.actor_id,
                    "at": event.at,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "reason": event.reason,
                    "reason_digest": event.reason_digest,
                    "data": event.data,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                    # Recorded as they happened: no separate time of recording, which the
                    # hash would cover (cases.audit.event_hash); not the column's default.
                    "recorded_at": None,
                }
            )


def _next_reference_number() -> int:
    """The number after the highest `SYN-` reference, so that a second run adds cases."""
    last = (
        Application.objects.filter(reference__startswith=f"{REFERENCE_PREFIX}-")
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    if not last:
        return 1
    tail = last.rsplit("-", 1)[-1]
    return int(tail) + 1 if tail.isdigit() else 1
