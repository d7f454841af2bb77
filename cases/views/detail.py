"""The case page: applicant, facts, placements, deadlines, timeline, notes, documents,
the access log, and what the user may do next.

The timeline's rows come from `cases.timeline`; this page chooses which events to show and
where a document's link leads.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Subquery, Window
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reports import exports

from .. import access, forms, sensitive, workflow
from ..labels import label, person
from ..models import (
    Appeal,
    Application,
    Document,
    Interview,
    Note,
    Placement,
    SensitiveField,
    Status,
)
from ..timeline import KIND_FILTERS, TimelineBuilder, chosen_kinds, filter_kinds
from ..timeline_detention import DetentionRecords
from ..workflow.procedures import CHANNELS, HOME_STATE
from .common import _deadline_row, limits_missed
from .family import family_context

TIMELINE_LIMIT = 1_000
TIMELINE_SHOWN = 50
# Notes listed in the Notes panel unless all are asked for (`?notes=all`); the timeline's
# note events show their notes whatever the panel lists.
NOTES_SHOWN = 20
ACCESS_LOG_LIMIT = 200
OTHER_CASES_SHOWN = 50
EMERGENCY_SHOWN = 50


def _document_url(document: Document) -> str:
    """A document's link on the case page: the access-checked download."""
    return reverse("cases:document", args=[document.application_id, document.pk])


def _stamp(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _grant_rows(case: Application, user, now) -> list[dict[str, Any]]:
    """The case's emergency accesses, newest first, as the case page lists them."""
    may_extend = user.has_perm("cases.decide_case", case)
    may_end = user.has_perm("cases.end_break_glass", case)
    rows = []
    grants = case.break_glass_grants.select_related("user__unit", "extended_by", "revoked_by")
    for grant in grants[:EMERGENCY_SHOWN]:
        live = grant.is_live(now)
        rows.append(
            {
                "pk": grant.pk,
                "who": person(grant.user),
                "unit": str(grant.user.unit) if grant.user.unit_id else "",
                "reason": grant.reason,
                "starts_at": grant.starts_at,
                "ends_at": grant.ends_at,
                "live": live,
                "extended_by": person(grant.extended_by),
                "extended_at": grant.extended_at,
                "may_extend": may_extend and live and not grant.extended,
                "may_end": may_end and live,
                "revoked_by": person(grant.revoked_by),
                "revoked_at": grant.revoked_at,
                "revoke_reason": grant.revoke_reason,
            }
        )
    return rows


def _access_rows(case: Application, grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    whats = {
        "case": _("Viewed the case"),
        "form": _("Opened a form on the case"),
        "document": _("Downloaded a document"),
        "reveal": _("Revealed sensitive facts"),
    }
    fact_labels = dict(SensitiveField.Fact.choices)
    documents = {d.pk: d.display_name for d in case.documents.all()}
    for event in case.events.access_log().select_related("actor")[:ACCESS_LOG_LIMIT]:
        data = event.data if isinstance(event.data, dict) else {}
        what = str(whats.get(event.action, event.action))
        if data.get("document"):
            what = f"{what}: {documents.get(data['document'], '#' + str(data['document']))}"
        if event.action == "reveal" and isinstance(data.get("facts"), list):
            names = [str(fact_labels.get(f, f)) for f in data["facts"] if isinstance(f, str)]
            what = f"{what}: {'; '.join(names)}"
        rows.append(
            {"at": event.at, "actor": person(event.actor), "what": what, "ip": data.get("ip", "")}
        )
    for grant in grants:
        what = _("Emergency access (%(unit)s) until %(until)s: %(reason)s") % {
            "unit": grant["unit"] or "—",
            "until": _stamp(grant["ends_at"]),
            "reason": grant["reason"],
        }
        if grant["extended_at"]:
            what += " · " + _("extended to work by %(who)s at %(at)s") % {
                "who": grant["extended_by"],
                "at": _stamp(grant["extended_at"]),
            }
        if grant["revoked_at"]:
            what += " · " + _("ended early by %(who)s at %(at)s: %(reason)s") % {
                "who": grant["revoked_by"],
                "at": _stamp(grant["revoked_at"]),
                "reason": grant["revoke_reason"],
            }
        rows.append({"at": grant["starts_at"], "actor": grant["who"], "what": what, "ip": ""})
    rows.extend(exports.case_exports(case.pk, ACCESS_LOG_LIMIT))
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:ACCESS_LOG_LIMIT]


def _recorded(
    name: str, case: Application, current: Placement | None, appeals: list[Appeal]
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """What the sidebar's record step already holds (label, value), and the form's initial
    values for correcting it; nothing when it holds nothing yet."""
    if name in ("transfer_judgment", "transfer_further_appeal"):
        return [], {"subject": Appeal.Subject.TRANSFER_DECISION}
    if name == "transfer_appeal":
        return [], {"court": ""}
    if name == "transfer_decision" and case.transfer_decision_served_on:
        return (
            [(_("Transfer decision served on"), case.transfer_decision_served_on.isoformat())],
            {"served_on": case.transfer_decision_served_on},
        )
    if name == "suspensive_effect":
        pending = _awaiting_judgment(appeals)
        if pending is None:
            return [], {}
        initial = {
            "appeal": pending.pk,
            "effect": pending.suspensive_effect,
            "granted": {"granted": "yes", "refused": "no"}.get(pending.suspension, ""),
            "decided_on": pending.suspension_decided_on,
        }
        if not pending.suspensive_effect:
            return [], initial
        return [(_("Suspensive effect"), suspensive_text(pending))], initial
    if name == "interview":
        if case.interviewed_on:
            return (
                [(_("Interview held on"), case.interviewed_on.isoformat())],
                {"interviewed_on": case.interviewed_on},
            )
        if case.interview_waiver_reason:
            return (
                [(_("Interview waived"), case.interview_waiver_reason)],
                {"waiver_reason": case.interview_waiver_reason},
            )
    if name == "service" and case.served_on:
        return (
            [(_("Decision served on"), case.served_on.isoformat())],
            {
                "served_on": case.served_on,
                "method": case.service_method,
                "language": case.service_language,
            },
        )
    if name == "interview_missed" and case.interview_missed_on:
        return (
            [(_("Interview missed on"), case.interview_missed_on.isoformat())],
            {"missed_on": case.interview_missed_on},
        )
    if name == "vulnerability" and case.vulnerability_assessed_on:
        return (
            [
                (_("Assessed on"), case.vulnerability_assessed_on.isoformat()),
                (_("Assessed by"), case.vulnerability_assessor),
            ],
            {
                "assessed_on": case.vulnerability_assessed_on,
                "assessor": case.vulnerability_assessor,
                "categories": [c for c in case.vulnerabilities.split(",") if c],
            },
        )
    if name == "procedure":
        return [], {"procedure": case.procedure}
    if name == "court_order" and current is not None and current.court_order_on:
        return (
            [
                (_("Court"), current.court_name),
                (_("Court case number"), current.court_case_number),
                (_("Order of"), current.court_order_on.isoformat()),
                (_("Detention authorised until"), current.court_order_until.isoformat()),
            ],
            {
                "court": current.court_name,
                "case_number": current.court_case_number,
                "order_on": current.court_order_on,
                "until": current.court_order_until,
            },
        )
    if name == "alternative":
        return [], {"expected_status": case.status}
    if name in PERSON_RECORDS:
        return PERSON_RECORDS[name](case)
    return [], {}


def _awaiting_judgment(appeals: list[Appeal]) -> Appeal | None:
    """The appeal the court has not judged yet (the latest, if more than one)."""
    pending = [a for a in appeals if a.judgment_on is None]
    return max(pending, key=lambda a: (a.lodged_on, a.pk)) if pending else None


def suspensive_text(appeal: Appeal) -> str:
    """The suspensive effect as a reader says it: automatic, none, or requested with the
    court's answer and its date."""
    if not appeal.suspensive_effect:
        return _("not recorded")
    text = label(Appeal.Suspensive, appeal.suspensive_effect)
    if appeal.suspension:
        text += ": " + label(Appeal.Suspension, appeal.suspension)
        if appeal.suspension_decided_on:
            text += f" ({appeal.suspension_decided_on.isoformat()})"
    return text


def appeal_actions(case: Application, appeals: list[Appeal]) -> list[str]:
    """The appeal records the case page offers while the case is before the court: the
    suspensive effect and the judgment of the appeal awaiting one, and a further appeal
    after a first-instance judgment (once)."""
    if case.status != Status.APPEALED:
        return []
    steps = _appeal_steps(appeals, Appeal.Subject.ASYLUM_DECISION, "judgment", "further_appeal")
    return steps or []


def _appeal_steps(
    appeals: list[Appeal], subject: str, judgment: str, further: str
) -> list[str] | None:
    """The next steps of the latest appeal against one decision (None: no appeal yet): its
    suspensive effect and judgment while it awaits one, then a further appeal (once)."""
    own = [a for a in appeals if a.subject == subject]
    if not own:
        return None
    latest = max(own, key=lambda a: (a.lodged_on, a.pk))
    if latest.judgment_on is None:
        return ["suspensive_effect", judgment]
    if latest.level == Appeal.Level.FIRST:
        return [further]
    return []


def transfer_appeal_actions(case: Application, appeals: list[Appeal]) -> list[str]:
    """The steps of the appeal against a Dublin transfer decision, in their order: the
    decision's service, the appeal, its suspensive effect and judgment, a further appeal."""
    if not case.transfer_decision_served_on:
        return ["transfer_decision"]
    steps = _appeal_steps(
        appeals, Appeal.Subject.TRANSFER_DECISION, "transfer_judgment", "transfer_further_appeal"
    )
    return ["transfer_appeal"] if steps is None else steps


def appeal_rows(appeals: list[Appeal]) -> list[dict[str, Any]]:
    """The case page's "Appeals" section: each appeal with its level and facts."""
    return [
        {
            "pk": a.pk,
            "subject": label(Appeal.Subject, a.subject),
            "level": label(Appeal.Level, a.level),
            "court": a.court,
            "court_case_number": a.court_case_number,
            "lodged_on": a.lodged_on,
            "suspensive": suspensive_text(a),
            "judgment_on": a.judgment_on,
            "outcome": label(Appeal.Outcome, a.outcome) if a.outcome else "",
        }
        for a in sorted(appeals, key=lambda a: (a.subject, a.lodged_on, a.pk))
    ]


def detention_actions(
    case: Application, current: Placement | None, records: DetentionRecords
) -> list[str]:
    """The records of detention the case page offers now: the court's orders, reviews and
    the appeal against detention while the person is detained; an alternative to detention
    while the case is open (a release onto it for a detainee), and its end."""
    names: list[str] = []
    detained = current is not None and current.regime == Placement.Regime.DETENTION
    if detained:
        names += ["court_order", "detention_review", "detention_appeal"]
    if any(not appeal.result for appeal in records.appeals):
        names.append("detention_appeal_result")
    if case.status in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
        names.append("alternative")
    if current is not None and current.regime == Placement.Regime.RESTRICTED:
        names.append("end_alternative")
    return names


def procedure_actions(case: Application, appeals: list[Appeal]) -> list[str]:
    """The records of the procedures the case page offers now (issue 17): channelling, the
    examination of admissibility, the vulnerability assessment, the Dublin steps in their
    order, and a subsequent application once the case has ended. Each goes through
    `cases:action` to its workflow verb, which checks everything again."""
    procedure = Application.Procedure
    undecided = case.status in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION)
    names: list[str] = []
    if undecided and case.procedure in CHANNELS:
        names.append("procedure")
        if case.procedure == procedure.ADMISSIBILITY:
            names.append("admissibility_extension")
    if case.is_open:
        names.append("vulnerability")
    if undecided and case.procedure in CHANNELS:
        names.append("dublin_start")
    if case.procedure == procedure.DUBLIN and case.is_open:
        settled = case.responsibility_determined_on is not None
        if not case.dublin_request_sent_on and not settled:
            names.append("dublin_request")
        if case.dublin_request_sent_on and not case.dublin_reply:
            names += ["dublin_reply", "dublin_default"]
        if not settled:
            names.append("responsibility")
        if case.responsible_state and case.responsible_state != HOME_STATE:
            if not case.transferred_on:
                names.append("transfer")
                names += transfer_appeal_actions(case, appeals)
            if not case.transfer_extension and not case.transferred_on:
                names.append("transfer_extension")
    if case.status in (Status.CLOSED, Status.WITHDRAWN):
        names.append("subsequent")
    return names


def _age_recorded(case: Application) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    if not case.age_assessed_on:
        return [], {}
    return (
        [
            (_("Age assessed on"), case.age_assessed_on.isoformat()),
            (_("Result"), label(Application.AgeResult, case.age_assessment_result)),
        ],
        {
            "method": case.age_assessment_method,
            "assessed_on": case.age_assessed_on,
            "result": case.age_assessment_result,
            "benefit_of_doubt": case.age_benefit_of_doubt,
            "unaccompanied": case.age_unaccompanied,
        },
    )


def _representative_recorded(case: Application) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    if not case.representative_appointed_on:
        return [], {}
    return (
        [
            (_("Guardian or representative"), case.representative_name),
            (_("Appointed on"), case.representative_appointed_on.isoformat()),
        ],
        {
            "name": case.representative_name,
            "organisation": case.representative_organisation,
            "appointed_on": case.representative_appointed_on,
            "appointed_by": case.representative_appointed_by,
        },
    )


def _legal_recorded(case: Application) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    if not case.legal_representative_name:
        return [], {}
    return (
        [(_("Legal representative"), case.legal_representative_name)],
        {
            "name": case.legal_representative_name,
            "organisation": case.legal_representative_organisation,
            "contact": case.legal_representative_contact,
        },
    )


def _interview_rows(interviews: list[Interview], now) -> dict[str, list[dict[str, Any]]]:
    """The case's interviews as the page lists them: those to come (scheduled, soonest
    first) and the others (held, missed, cancelled, or scheduled and past without a
    record of how it went), latest first."""
    rows: dict[str, list[dict[str, Any]]] = {"upcoming": [], "past": []}
    for interview in interviews:
        pending = interview.is_scheduled and interview.scheduled_at > now
        row = {
            "pk": interview.pk,
            "scheduled_at": interview.scheduled_at,
            "interviewer": person(interview.interviewer),
            "interpreter": interview.interpreter,
            "language": interview.language,
            "status": interview.status,
            "status_label": _("scheduled, not yet recorded as held or missed")
            if interview.is_scheduled and not pending
            else label(Interview.Status, interview.status),
            "held_on": interview.held_on,
            "missed_on": interview.missed_on,
            "record_url": _document_url(interview.record) if interview.record_id else "",
            "record_name": interview.record.display_name if interview.record_id else "",
        }
        rows["upcoming" if pending else "past"].append(row)
    rows["past"].reverse()
    return rows


PERSON_RECORDS = {
    "age_assessment": _age_recorded,
    "representative": _representative_recorded,
    "legal_representative": _legal_recorded,
}


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: applicant, facts, placement, deadlines, timeline, notes, documents, and what
    the user may do next (blocked steps say why)."""
    user = request.user
    case = access.get_application_for_user(
        user,
        pk,
        # Not who assessed the age: few cases have an assessment, and the join cost every
        # view of a case a fifth of this statement (read when shown, for those few).
        queryset=Application.objects.select_related("applicant", "unit", "assigned_to"),
    )
    access.log_access(case, user, request, what="case")
    now = timezone.now()
    today = timezone.localdate()

    placements = list(case.placements.select_related("facility").order_by("-starts_at"))
    current = next((p for p in placements if p.ends_at is None), None)
    records = DetentionRecords.of(case, placements)
    interviews = list(
        case.interviews.select_related("interviewer", "record").order_by("scheduled_at")
    )
    documents = list(case.documents.select_related("uploaded_by"))
    deadlines = list(case.deadlines.select_related("rule").order_by("status", "due_at"))
    # Running entitlements (the right to work) are listed with the open limits.
    running = ("open", "entitlement")
    open_deadlines = [_deadline_row(d, now, today) for d in deadlines if d.status in running]
    closed_deadlines = [_deadline_row(d, now, today) for d in deadlines if d.status not in running]
    # The latest TIMELINE_SHOWN events unless the whole timeline is asked for (`?all=1`);
    # the window count says how many there are in the same query.
    show_all = request.GET.get("all") == "1"
    # Kinds chosen with `?kind=...` (any number; none: all), filtered in SQL.
    kinds = chosen_kinds(request.GET.getlist("kind"))
    # Their actors are read by the timeline's builder, with the people the events name.
    events = list(
        filter_kinds(case.events.timeline(), kinds).annotate(timeline_total=Window(Count("*")))[
            : TIMELINE_LIMIT if show_all else TIMELINE_SHOWN
        ]
    )
    timeline_total = events[0].timeline_total if events else 0
    # The notes in one query: the panel's latest NOTES_SHOWN (all with `?notes=all`) and
    # those the shown events point at, with the case's number of notes.
    all_notes = request.GET.get("notes") == "all"
    pointed = [
        e.data.get("note")
        for e in events
        if isinstance(e.data, dict) and isinstance(e.data.get("note"), int)
    ]
    counted = (
        Note.objects.filter(application_id=case.pk)
        .order_by()
        .values("application_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Their authors are read by the timeline's builder, with the events' actors.
    wanted = case.notes.annotate(notes_total=Subquery(counted))
    if not all_notes:
        latest = case.notes.order_by("-created_at", "-id").values("pk")[:NOTES_SHOWN]
        wanted = wanted.filter(Q(pk__in=latest) | Q(pk__in=pointed))
    timeline_notes = list(wanted.order_by("-created_at", "-id"))
    # Newest first: the latest NOTES_SHOWN come first (any other is older than all of them).
    notes = timeline_notes if all_notes else timeline_notes[:NOTES_SHOWN]
    notes_total = timeline_notes[0].notes_total if timeline_notes else 0
    timeline = TimelineBuilder.grouped(
        TimelineBuilder(
            case,
            events,
            notes=timeline_notes,
            documents=documents,
            placements=placements,
            document_url=_document_url,
            detention=records,
        ).rows()
    )

    # Sensitive facts: hidden unless this view follows a recorded reveal (cases.sensitive).
    revealed = sensitive.take_revealed(request.session, case.pk)
    facts = sensitive.case_facts(case, sensitive.hidden_facts(), revealed=revealed)
    appeals = list(case.appeals.all())
    can_work = access.can_work_on(user, case)
    is_decider = user.has_perm("cases.decide_case", case)
    transitions = workflow.available_transitions(case, user)
    action_forms = []
    if can_work:
        names = []
        if case.status in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
            names.append("interview_schedule")
            if any(i.is_scheduled for i in interviews):
                names += ["interview_reschedule", "interview_cancel"]
            names.append("interview")
            if not case.interviewed_on:
                names.append("interview_missed")
        names += detention_actions(case, current, records)
        if case.status == Status.DECIDED and not (case.served_on and case.service_method):
            names.append("service")
        names += appeal_actions(case, appeals)
        if case.recorded_as_of and case.is_open:
            names.append("up_to_date")
        names += procedure_actions(case, appeals)
        # The person behind the case, while it is open: the age assessment and the legal
        # representative at any time; the minor's representative once the person is an
        # unaccompanied minor (or one is on record, to correct it).
        if case.is_open:
            names.append("age_assessment")
            if case.is_unaccompanied_minor() or case.representative_appointed_on:
                names.append("representative")
            names.append("legal_representative")
        # The assessment's categories are corrected only once they are shown: a form
        # filled without them would record "none found" over the hidden ones.
        if facts["vulnerabilities"]["hidden"] and "vulnerability" in names:
            names.remove("vulnerability")
        for name in dict.fromkeys(names):  # once each (a step may be offered twice)
            recorded, initial = _recorded(name, case, current, appeals)
            action_forms.append(
                {
                    "name": name,
                    "title": forms.ACTION_LABELS[name],
                    "url": reverse("cases:action", args=[case.pk, name]),
                    # What is on record, and the same form filled with it to correct it
                    # through the same workflow step.
                    "recorded": recorded,
                    "form": forms.empty_form_html(
                        forms.ACTION_FORMS[name],
                        auto_id=f"{name}_%s",
                        initial=initial,
                        case=case,
                        interviews=interviews,
                        documents=documents,
                    ),
                }
            )
    # Reading through emergency access: the page says so, until when, and whether to work.
    my_grant = None
    if user.unit_id != case.unit_id and access.readable_unit(user) != access.ALL_UNITS:
        my_grant = (
            case.break_glass_grants.live(now)
            .filter(user=user)
            .select_related("extended_by")
            .order_by("-ends_at")
            .first()
        )
    sees_access_log = access.can_see_access_log(user, case)
    grants = _grant_rows(case, user, now) if sees_access_log else []
    applicant = case.applicant
    # The applicant's other cases, of those the user may read.
    other_cases = [
        {
            "url": reverse("cases:detail", args=[other["pk"]]),
            "reference": other["reference"],
            "submitted_on": other["submitted_on"],
            "status": other["status"],
            "status_label": label(Status, other["status"]),
            "outcome": label(Application.Outcome, other["decision_outcome"])
            if other["decision_outcome"]
            else "",
        }
        for other in access.visible_applications(user)
        .filter(applicant_id=case.applicant_id)
        .exclude(pk=case.pk)
        .order_by("-submitted_on", "-pk")
        .values("pk", "reference", "submitted_on", "status", "decision_outcome")[:OTHER_CASES_SHOWN]
    ]
    # The earlier application of a subsequent one, through the one door: its reference only
    # when the user may read it (another unit's case is named as such, not by reference).
    earlier_case = (
        access.visible_applications(user)
        .filter(pk=case.previous_application_id)
        .values("pk", "reference")
        .first()
        if case.previous_application_id
        else None
    )
    context = {
        "other_cases": other_cases,
        "earlier_case": earlier_case,
        "guarantees": case.special_guarantees(),
        "case": case,
        "applicant": applicant,
        "aliases": [] if facts["aliases"]["hidden"] else applicant.alias_list(),
        "facts": facts,
        "has_hidden": any(f["hidden"] for f in facts.values()),
        "revealed": revealed and any(f["sensitive"] and f["value"] for f in facts.values()),
        "nationality": applicant.nationality.name if applicant.nationality else "",
        "grounds": case.get_grounds_display(),
        "current": current,
        "appeals": appeal_rows(appeals),
        "past_placements": [p for p in placements if p.ends_at is not None],
        "detention_records": records,
        "open_deadlines": open_deadlines,
        "closed_deadlines": closed_deadlines,
        "limits_missed": limits_missed(deadlines, now),
        "timeline": timeline,
        "timeline_total": timeline_total,
        "timeline_shown": len(events),
        "timeline_truncated": len(events) < timeline_total,
        "timeline_all_url": ""
        if show_all
        else "?" + urlencode([("all", "1"), *(("kind", k) for k in kinds)]) + "#timeline",
        "timeline_kinds": [
            {"value": value, "label": text, "checked": not kinds or value in kinds}
            for value, (text, _kinds) in KIND_FILTERS.items()
        ],
        "timeline_filtered": bool(kinds),
        "show_all": show_all,
        "notes": notes,
        "notes_total": notes_total,
        "notes_truncated": len(notes) < notes_total,
        "interviews": _interview_rows(interviews, now),
        "documents": [
            {
                "url": _document_url(d),
                "name": d.display_name,
                "file_name": d.original_name if d.title else "",
                "kind": d.get_kind_display(),
                "description": d.description,
                "size": d.size,
                "content_type": d.content_type,
                "uploaded_by": person(d.uploaded_by),
                "uploaded_at": d.uploaded_at,
            }
            for d in documents
        ],
        "transitions": [
            {
                "name": t.name,
                "label": t.label,
                "help_text": t.help_text,
                "allowed": t.allowed,
                "blocked_reason": t.blocked_reason,
                "url": reverse("cases:transition", args=[case.pk, t.name]),
            }
            for t in transitions
        ],
        "can_work": can_work,
        "is_decider": is_decider,
        "action_forms": action_forms,
        "note_form": forms.empty_form_html(forms.NoteForm, auto_id="note_%s") if can_work else None,
        "document_form": forms.empty_form_html(forms.DocumentForm, auto_id="document_%s")
        if can_work
        else None,
        "assign_form": forms.AssignForm(
            unit_id=case.unit_id,
            auto_id="assign_%s",
            initial={"assignee": case.assigned_to_id},
        )
        if is_decider and case.is_open
        else None,
        # "Assign to me": an open, unassigned case of the user's own unit they may take.
        "may_take": case.is_open
        and case.assigned_to_id is None
        and user.unit_id == case.unit_id
        and user.has_perm("cases.take_case", case),
        "access_log": _access_rows(case, grants) if sees_access_log else None,
        "my_grant": my_grant,
        "grants": grants,
        **family_context(case, user, can_work=can_work),
    }
    return render(request, "cases/case_detail.html", context)
