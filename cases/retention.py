"""Retention: personal data of long-ended cases is replaced by pseudonyms.

A case that was closed or withdrawn before a cut-off date (judged by the moment of its final
transition event, not by a field that could be edited) keeps what statistics and the audit
need (status, dates, procedure, grounds, nationality, sex, outcome, the timeline's shape and
its hash chain) and loses what identifies the person:

- the applicant: names in every script, aliases, date of birth, languages, military
  background and the sensitive facts (health, sexual orientation and gender identity,
  trafficking or torture history, vulnerability) become a stable pseudonym
  (`ANON-<hash prefix>`, the same for every case of the applicant) or empty; `search_key`
  follows through `Applicant.save`. An applicant with another case that is not yet due
  keeps their data until that case is due too;
- the case's free text (claim summary, interview waiver reason, places of submission and
  apprehension, the return decision's reference, the age assessment's method and result,
  the names, organisations and contact of the minor's representative and of the legal
  representative, the language of service), notes, placement and deadline free text (a
  detention's last-resort reason included), the court case numbers of appeals (the court,
  the dates and the outcome stay for statistics) and of the court's orders on detention
  and of appeals against it, the interpreter and language of its personal interviews,
  documents (the file is deleted, its name and description replaced, its SHA-256 kept as
  proof of what was held), and the reasons given for emergency access to it (who, when and
  until when are kept);
- the reasons of the case's events, redacted through `cases.audit.redact_reasons` (the one
  change the append-only trigger allows), pointing at the `retention` event appended here,
  which lists the redacted events so that `verify_audit` reports redaction, not tampering;
- field history kept by pghistory (`ApplicantHistory`, `ApplicationHistory`), and the admin
  log's description of the applicant;
- the applicant's family links (`FamilyLink`, from either side), deleted with the applicant's
  data: the relative's case then no longer names a family member (the events on both
  timelines hold the link's id and relation only).

A case whose timeline is already broken (`cases.checkpoints.verify`: an event altered or
removed behind Haven's back, or the newest events removed since a checkpoint) is not
anonymised: `anonymise_case` raises `BrokenTimeline` before writing anything, because
redacting its reasons and appending a retention event would turn the evidence of tampering
into what reads as an ordinary retention redaction. It stays exactly as it is until someone
has looked into it.

Each case is done in its own transaction. The work is idempotent: what already holds the
anonymised value is not touched, so a second run changes nothing, and a note added to an
ended case after a run is anonymised by the next one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from . import checkpoints
from .audit import REDACTED_TEXT, ChainProblem, record_event, redact_reasons
from .models import (
    FINAL_STATUSES,
    Appeal,
    Applicant,
    ApplicantHistory,
    Application,
    ApplicationHistory,
    BreakGlassGrant,
    CaseEvent,
    Deadline,
    DetentionAppeal,
    DetentionOrder,
    Document,
    FamilyLink,
    Interview,
    Note,
    Placement,
)

PSEUDONYM_PREFIX = "ANON-"

# Applicant fields replaced by a fixed value (the family name takes the pseudonym).
APPLICANT_CLEARED: dict[str, Any] = {
    "given_names": "",
    "name_original": "",
    "aliases": "",
    "date_of_birth": None,
    "languages": "",
    "military_status": "",
    "military_rank": "",
    "military_unit": "",
    "military_background": "",
    "health_notes": "",
    "sogi_notes": "",
    "trauma_history": "",
    "vulnerability_details": "",
    # The identity document leads straight to the person.
    "id_document_type": "",
    "id_document_number": "",
    "id_document_country": "",
    "id_document_expires_on": None,
}
# Free-text fields whose content is replaced by REDACTED_TEXT (an empty one stays empty, so
# that the record still shows whether there was anything).
APPLICATION_TEXT = (
    "claim_summary",
    "interview_waiver_reason",
    "submission_place",
    "apprehension_place",
    # A return decision's number leads to the person's return file.
    "return_decision_reference",
    # The vulnerability assessment: special-category data (health, violence suffered).
    "vulnerabilities",
    "vulnerability_assessor",
    # The age assessment's method and result (its date and flags stay for statistics).
    "age_assessment_method",
    "age_assessment_result",
    # The representative of an unaccompanied minor and the legal representative: names,
    # organisations and contact lead to the person (the appointment's date stays).
    "representative_name",
    "representative_organisation",
    "representative_appointed_by",
    "legal_representative_name",
    "legal_representative_organisation",
    "legal_representative_contact",
    # The language the decision was served in tells of the person's origin, as the
    # applicant's languages do (the method and day of service stay).
    "service_language",
)
# A detention's last-resort reason speaks of the minor's circumstances.
PLACEMENT_TEXT = ("end_reason", "order_reference", "court_case_number", "last_resort_reason")
# A court's case number leads to the court's file on the person.
# A court's case number leads to the judgment, which names the person.
APPEAL_TEXT = ("court_case_number",)
DETENTION_COURT_TEXT = ("case_number",)
# The records that hold it, and the plan's list of each one's rows.
DETENTION_COURT_RECORDS = (
    (DetentionOrder, "detention_orders"),
    (DetentionAppeal, "detention_appeals"),
)
DEADLINE_TEXT = ("waive_reason",)
DOCUMENT_TEXT = ("original_name", "description")
BREAK_GLASS_TEXT = ("reason", "revoke_reason")
# A personal interview's interpreter and language (its time, interviewer and outcome stay).
INTERVIEW_TEXT = ("interpreter", "language")


class BrokenTimeline(Exception):
    """The case's timeline is not the one Haven wrote: it is left as it is."""

    def __init__(self, reference: str, problem: ChainProblem) -> None:
        super().__init__(f"{reference}: {checkpoints.describe(problem)}")
        self.reference = reference
        self.problem = problem


def broken_timelines(application_ids: Iterable[int]) -> dict[int, ChainProblem]:
    """The cases among these whose timeline is broken, with the first problem of each."""
    return {
        report.application_id: report.problem
        for report in checkpoints.verify(application_ids)
        if report.problem is not None
    }


def pseudonym(applicant_id: int) -> str:
    """A stable pseudonym: the same applicant always gets the same one."""
    digest = hashlib.sha256(f"haven-applicant:{applicant_id}".encode()).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:10].upper()}"


def cutoff(closed_before: dt.date) -> dt.datetime:
    """The first moment of `closed_before` in Haven's time zone: cases that ended earlier
    are due."""
    return dt.datetime.combine(closed_before, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def due_cases(closed_before: dt.date) -> QuerySet[Application]:
    """Closed or withdrawn cases whose final transition happened before `closed_before`."""
    ended_at = (
        CaseEvent.objects.filter(
            application=OuterRef("pk"),
            kind=CaseEvent.Kind.TRANSITION,
            to_status__in=FINAL_STATUSES,
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    return (
        Application.objects.filter(status__in=FINAL_STATUSES)
        .annotate(ended_at=Subquery(ended_at))
        .filter(ended_at__lt=cutoff(closed_before))
        .order_by("pk")
    )


def _redacted(value: str) -> str:
    return REDACTED_TEXT if value else ""


def _needs_redaction(fields: tuple[str, ...]) -> Q:
    """Rows where any of `fields` still holds something other than "" or REDACTED_TEXT."""
    condition = Q()
    for name in fields:
        condition |= ~Q(**{name: ""}) & ~Q(**{name: REDACTED_TEXT})
    return condition


def _redact_update(fields: tuple[str, ...]) -> dict[str, Case]:
    return {
        name: Case(When(**{name: ""}, then=Value("")), default=Value(REDACTED_TEXT))
        for name in fields
    }


@dataclass
class CasePlan:
    """What anonymising one case changes. Holds ids, field names and counts, never the
    personal data itself, so that it can be printed."""

    application_id: int
    reference: str
    applicant_id: int
    applicant_fields: list[str] = field(default_factory=list)
    applicant_kept: bool = False
    application_fields: list[str] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    placements: list[int] = field(default_factory=list)
    appeals: list[int] = field(default_factory=list)
    detention_orders: list[int] = field(default_factory=list)
    detention_appeals: list[int] = field(default_factory=list)
    deadlines: list[int] = field(default_factory=list)
    grants: list[int] = field(default_factory=list)
    family_links: list[int] = field(default_factory=list)
    interviews: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    applicant_history: int = 0
    application_history: int = 0
    admin_log: int = 0

    def is_empty(self) -> bool:
        return not (
            self.applicant_fields
            or self.application_fields
            or self.notes
            or self.documents
            or self.placements
            or self.appeals
            or self.detention_orders
            or self.detention_appeals
            or self.deadlines
            or self.grants
            or self.family_links
            or self.interviews
            or self.events
            or self.applicant_history
            or self.application_history
            or self.admin_log
        )

    def summary(self) -> str:
        """What changes, in counts and field names (never the data itself)."""
        parts = []
        if self.applicant_fields:
            parts.append(
                ngettext(
                    "applicant (%(n)s field)",
                    "applicant (%(n)s fields)",
                    len(self.applicant_fields),
                )
                % {"n": len(self.applicant_fields)}
            )
        if self.application_fields:
            parts.append(
                _("case text (%(fields)s)") % {"fields": ", ".join(self.application_fields)}
            )
        counted = (
            (ngettext_lazy("%(n)s note", "%(n)s notes", "n"), len(self.notes)),
            (ngettext_lazy("%(n)s document", "%(n)s documents", "n"), len(self.documents)),
            (ngettext_lazy("%(n)s file deleted", "%(n)s files deleted", "n"), len(self.files)),
            (ngettext_lazy("%(n)s placement", "%(n)s placements", "n"), len(self.placements)),
            (ngettext_lazy("%(n)s appeal", "%(n)s appeals", "n"), len(self.appeals)),
            (
                ngettext_lazy(
                    "%(n)s court record on detention", "%(n)s court records on detention", "n"
                ),
                len(self.detention_orders) + len(self.detention_appeals),
            ),
            (ngettext_lazy("%(n)s deadline", "%(n)s deadlines", "n"), len(self.deadlines)),
            (
                ngettext_lazy("%(n)s emergency access", "%(n)s emergency accesses", "n"),
                len(self.grants),
            ),
            (
                ngettext_lazy("%(n)s family link", "%(n)s family links", "n"),
                len(self.family_links),
            ),
            (
                ngettext_lazy("%(n)s personal interview", "%(n)s personal interviews", "n"),
                len(self.interviews),
            ),
            (ngettext_lazy("%(n)s event reason", "%(n)s event reasons", "n"), len(self.events)),
            (
                ngettext_lazy("%(n)s applicant history row", "%(n)s applicant history rows", "n"),
                self.applicant_history,
            ),
            (
                ngettext_lazy("%(n)s case history row", "%(n)s case history rows", "n"),
                self.application_history,
            ),
            (
                ngettext_lazy("%(n)s admin log entry", "%(n)s admin log entries", "n"),
                self.admin_log,
            ),
        )
        parts += [message % {"n": count} for message, count in counted if count]
        text = ", ".join(parts) or _("nothing")
        if self.applicant_kept:
            text += "; " + _("applicant kept: another of their cases is not due yet")
        return text

    def as_event_data(self, closed_before: dt.date) -> dict[str, Any]:
        return {
            "closed_before": closed_before.isoformat(),
            "applicant": "kept" if self.applicant_kept else "anonymised",
            "applicant_fields": self.applicant_fields,
            "application_fields": self.application_fields,
            "notes": len(self.notes),
            "documents": len(self.documents),
            "placements": len(self.placements),
            "appeals": len(self.appeals),
            "detention_court_records": len(self.detention_orders) + len(self.detention_appeals),
            "deadlines": len(self.deadlines),
            "emergency_accesses": len(self.grants),
            "family_links": len(self.family_links),
            "interviews": len(self.interviews),
            "history_rows": self.applicant_history + self.application_history,
            "redacted_events": self.events,
        }


def _applicant_target(applicant: Applicant) -> dict[str, Any]:
    return {"family_name": pseudonym(applicant.pk), **APPLICANT_CLEARED}


def _applicant_is_due(applicant: Applicant, closed_before: dt.date) -> bool:
    """An applicant's data goes only when every case of theirs is due."""
    return not applicant.applications.exclude(pk__in=due_cases(closed_before).values("pk")).exists()


def plan_case(case: Application, closed_before: dt.date) -> CasePlan:
    """Work out, without writing anything, what anonymising `case` would change."""
    applicant = case.applicant
    plan = CasePlan(case.pk, case.reference, applicant.pk)

    if _applicant_is_due(applicant, closed_before):
        target = _applicant_target(applicant)
        plan.applicant_fields = [
            name for name, value in target.items() if getattr(applicant, name) != value
        ]
        plan.applicant_history = (
            ApplicantHistory.objects.filter(pgh_obj_id=applicant.pk).exclude(**target).count()
        )
        plan.admin_log = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Applicant),
                object_id=str(applicant.pk),
            )
            .exclude(object_repr=target["family_name"])
            .count()
        )
        plan.family_links = list(
            FamilyLink.objects.filter(Q(applicant=applicant) | Q(relative=applicant))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        plan.applicant_kept = True

    plan.application_fields = [
        name for name in APPLICATION_TEXT if getattr(case, name) != _redacted(getattr(case, name))
    ]
    plan.application_history = (
        ApplicationHistory.objects.filter(pgh_obj_id=case.pk)
        .filter(_needs_redaction(APPLICATION_TEXT))
        .count()
    )
    plan.notes = list(
        Note.objects.filter(application=case)
        .exclude(text=REDACTED_TEXT)
        .values_list("pk", flat=True)
    )
    documents = Document.objects.filter(application=case).filter(
        ~Q(file="") | _needs_redaction(DOCUMENT_TEXT)
    )
    plan.documents = [d.pk for d in documents]
    plan.files = [d.file.name for d in documents if d.file.name]
    plan.placements = list(
        Placement.objects.filter(application=case)
        .filter(_needs_redaction(PLACEMENT_TEXT))
        .values_list("pk", flat=True)
    )
    plan.appeals = list(
        Appeal.objects.filter(application=case)
        .filter(_needs_redaction(APPEAL_TEXT))
        .values_list("pk", flat=True)
    )
    for model, name in DETENTION_COURT_RECORDS:
        rows = model.objects.filter(application=case).filter(_needs_redaction(DETENTION_COURT_TEXT))
        setattr(plan, name, list(rows.values_list("pk", flat=True)))
    plan.deadlines = list(
        Deadline.objects.filter(application=case)
        .filter(_needs_redaction(DEADLINE_TEXT))
        .values_list("pk", flat=True)
    )
    plan.grants = list(
        BreakGlassGrant.objects.filter(application=case)
        .filter(_needs_redaction(BREAK_GLASS_TEXT))
        .values_list("pk", flat=True)
    )
    plan.interviews = list(
        Interview.objects.filter(application=case)
        .filter(_needs_redaction(INTERVIEW_TEXT))
        .values_list("pk", flat=True)
    )
    plan.events = list(
        CaseEvent.objects.filter(application=case, redacted_by__isnull=True)
        .exclude(reason="")
        .exclude(kind=CaseEvent.Kind.RETENTION)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return plan


def anonymise_case(application_id: int, closed_before: dt.date, *, actor=None) -> CasePlan | None:
    """Anonymise one due case in one transaction; return what was changed, or None when
    nothing was left to change (or the case is not due). Raises `BrokenTimeline`, having
    written nothing, when the case's timeline is broken."""
    with transaction.atomic():
        case = (
            due_cases(closed_before)
            .select_for_update(no_key=True, of=("self",))
            .select_related("applicant")
            .filter(pk=application_id)
            .first()
        )
        if case is None:
            return None
        # The timeline first, with the case locked: a broken one keeps its evidence.
        problem = broken_timelines([case.pk]).get(case.pk)
        if problem is not None:
            raise BrokenTimeline(case.reference, problem)
        plan = plan_case(case, closed_before)
        if plan.is_empty():
            return None

        retention = record_event(
            case,
            kind=CaseEvent.Kind.RETENTION,
            action="anonymised",
            actor=actor,
            data=plan.as_event_data(closed_before),
        )
        applicant = Applicant.objects.select_for_update().get(pk=case.applicant_id)
        if not plan.applicant_kept:
            _anonymise_applicant(applicant)
        if plan.application_fields:
            for name in plan.application_fields:
                setattr(case, name, _redacted(getattr(case, name)))
            case.save(update_fields=[*plan.application_fields, "updated_at"])
        ApplicationHistory.objects.filter(pgh_obj_id=case.pk).filter(
            _needs_redaction(APPLICATION_TEXT)
        ).update(**_redact_update(APPLICATION_TEXT))
        Note.objects.filter(pk__in=plan.notes).update(text=REDACTED_TEXT)
        Document.objects.filter(pk__in=plan.documents).update(
            file="", **_redact_update(DOCUMENT_TEXT)
        )
        Placement.objects.filter(pk__in=plan.placements).update(**_redact_update(PLACEMENT_TEXT))
        Appeal.objects.filter(pk__in=plan.appeals).update(**_redact_update(APPEAL_TEXT))
        for model, name in DETENTION_COURT_RECORDS:
            model.objects.filter(pk__in=getattr(plan, name)).update(
                **_redact_update(DETENTION_COURT_TEXT)
            )
        Deadline.objects.filter(pk__in=plan.deadlines).update(**_redact_update(DEADLINE_TEXT))
        BreakGlassGrant.objects.filter(pk__in=plan.grants).update(
            **_redact_update(BREAK_GLASS_TEXT)
        )
        FamilyLink.objects.filter(pk__in=plan.family_links).delete()
        Interview.objects.filter(pk__in=plan.interviews).update(**_redact_update(INTERVIEW_TEXT))
        redact_reasons(case, plan.events, retention)
        # Files go last, still inside the transaction: a failed deletion rolls the case's
        # changes back and a later run tries again (a file already deleted stays deleted,
        # which costs nothing on a case being anonymised). Deleting after commit instead
        # could leave a file with personal data that no row points at any more.
        storage = Document._meta.get_field("file").storage
        for name in plan.files:
            storage.delete(name)
    return plan


def _anonymise_applicant(applicant: Applicant) -> None:
    target = _applicant_target(applicant)
    changed = [name for name, value in target.items() if getattr(applicant, name) != value]
    for name in changed:
        setattr(applicant, name, target[name])
    if changed:
        applicant.save(update_fields=changed)  # also refreshes search_key
    ApplicantHistory.objects.filter(pgh_obj_id=applicant.pk).exclude(**target).update(**target)
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Applicant), object_id=str(applicant.pk)
    ).update(object_repr=target["family_name"])


def due_case_ids(closed_before: dt.date, *, batch_size: int = 500) -> Iterator[list[int]]:
    """The ids of due cases, in batches, walking the primary key (no OFFSET)."""
    last = 0
    while True:
        batch = list(
            due_cases(closed_before).filter(pk__gt=last).values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]
