"""The caseworker web UI.

Views are thin (STYLE.md 9): sign-in required; the case comes through `cases.access` (missing
and forbidden both answer 404); input goes through a form; every change is a POST that calls
`cases.workflow` and redirects (POST/redirect/GET) with a message. A refused change answers
with the workflow's status code (403 not allowed, 409 the case changed) and a page that says
why; bad input re-renders the form with messages beside the fields and what was typed.

Pages that show many rows (the timeline, the case list) build each row's text in Python with
a fixed number of queries, so that templates stay flat loops and the query count does not
grow with the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Window
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from accounts.models import User

from . import access, forms, predicates, workflow
from .filters import SELECTS, STATIC_SELECTS, ApplicationFilter, clean_query, select_field_group
from .labels import label, person, transition_labels
from .models import (
    Applicant,
    Application,
    Deadline,
    DeadlineRule,
    Document,
    Facility,
    Notification,
    Placement,
    Status,
    occupancy_by_regime,
)
from .names import fold_word
from .timeline import TimelineBuilder

PAGE_SIZES = (25, 50, 100)
COUNT_CAP = 10_000
TIMELINE_LIMIT = 1_000
TIMELINE_SHOWN = 50
ACCESS_LOG_LIMIT = 200
DASHBOARD_ROWS = 20
FACILITY_PEOPLE = 20
FACILITY_COUNT_CAP = 100


# ------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------


def _may_use_cases(user: User) -> bool:
    """Whether the user has a role that sees cases (else the UI explains why it is empty)."""
    if user.is_superuser or user.has_role(roles.ADMINISTRATOR):
        return True
    return bool(
        user.unit_id and (user.has_role(roles.CASEWORKER) or user.has_role(roles.DECISION_MAKER))
    )


def _may_open_cases(user: User) -> bool:
    return bool(
        user.unit_id
        and (
            user.is_superuser
            or user.has_role(roles.CASEWORKER)
            or user.has_role(roles.DECISION_MAKER)
        )
    )


def _no_access(request: HttpRequest, *, title: str | None = None, text: str | None = None):
    return render(
        request,
        "cases/no_access.html",
        {"title": title or _("No cases to show"), "text": text},
    )


def _refused(request: HttpRequest, case: Application | None, error: workflow.WorkflowError):
    """The page for a refused change: 403 (not allowed) or 409 (the case changed)."""
    if case is not None:  # the page names the applicant: a view of the case
        access.log_access(case, request.user, request, what="form")
    return render(
        request,
        "cases/case_refused.html",
        {"case": case, "message": error.message, "stale": error.status_code == 409},
        status=error.status_code,
    )


def _run_workflow(
    request: HttpRequest,
    case: Application,
    form,
    call: Callable[[], Any],
    *,
    done: str | Callable[[Any], str],
    next_url: str,
) -> HttpResponse | None:
    """Run one workflow call for a valid form.

    A refusal answers with its status (403, or 409 when the case changed); input errors are
    put beside the form's fields and None is returned, so the caller shows the form again;
    success redirects with a message (POST/redirect/GET).
    """
    try:
        result = call()
    except workflow.WorkflowError as exc:
        return _refused(request, case, exc)
    except ValidationError as exc:
        forms.attach_errors(form, exc)
        return None
    messages.success(request, done(result) if callable(done) else done)
    return redirect(next_url)


def _clean_params(params: QueryDict) -> QueryDict:
    """Query parameters without NUL bytes (PostgreSQL refuses them in text) and bounded."""
    cleaned = QueryDict(mutable=True)
    for key in list(params.keys())[:50]:
        cleaned.setlist(key, [clean_query(v) for v in params.getlist(key)[:20]])
    return cleaned


def _positive_int(raw: str | None, default: int) -> int:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10:
        return int(raw)
    return default


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and "\x00" not in target
    ):
        return target
    return default


def _days_text(deadline_due_on: dt.date, overdue: bool, today: dt.date) -> str:
    """'3 days left', 'due today', 'overdue by 2 days'."""
    days = (deadline_due_on - today).days
    if overdue or days < 0:
        if days >= 0:
            return _("overdue")
        return ngettext("overdue by %(n)d day", "overdue by %(n)d days", -days) % {"n": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}


def _deadline_row(deadline: Deadline, now: dt.datetime, today: dt.date) -> dict[str, Any]:
    overdue = deadline.is_overdue(now)
    is_open = deadline.status == Deadline.Status.OPEN
    return {
        "pk": deadline.pk,
        "name": deadline.rule.name,
        "legal_source": deadline.legal_reference,
        "due_on": deadline.due_on,
        "due_at": deadline.due_at,
        "hours": deadline.rule.unit == DeadlineRule.TimeUnit.HOURS,
        "status": deadline.status,
        "status_label": label(Deadline.Status, deadline.status),
        "is_open": is_open,
        "overdue": overdue,
        "days_text": _days_text(deadline.due_on, overdue, today) if is_open else "",
        "waive_reason": deadline.waive_reason,
        "closed_at": deadline.closed_at,
    }


# ------------------------------------------------------------------------------------------
# Dashboard
# ------------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: my open cases, deadlines due soon or overdue, the unit's cases by
    status, unread notifications."""
    user = request.user
    unread = [
        {"text": n.text, "link": _safe_link(n.link), "created_at": n.created_at}
        for n in Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
            "-created_at", "-id"
        )[:10]
    ]
    if not _may_use_cases(user):
        return _no_access(request)
    visible = access.visible_applications(user)
    now = timezone.now()
    today = timezone.localdate()

    mine = list(
        visible.open()
        .filter(assigned_to=user)
        .select_related("applicant")
        .order_by("next_deadline_at", "id")[: DASHBOARD_ROWS + 1]
    )
    my_rows = [
        {
            "url": reverse("cases:detail", args=[c.pk]),
            "reference": c.reference,
            "name": c.applicant.full_name,
            "status": c.status,
            "status_label": label(Status, c.status),
            "next_deadline_at": c.next_deadline_at,
            "overdue": bool(c.next_deadline_at and c.next_deadline_at < now),
        }
        for c in mine[:DASHBOARD_ROWS]
    ]

    # Decision-makers (and administrators) watch their whole scope; a caseworker their cases.
    if user.has_role(roles.DECISION_MAKER) or not user.has_role(roles.CASEWORKER):
        scope = visible
        scope_label = _("cases of my unit") if user.unit_id else _("all cases")
    else:
        scope = visible.filter(assigned_to=user)
        scope_label = _("my cases")
    due_soon = Deadline.objects.open().filter(
        application__in=scope.order_by().values("pk"), due_at__lt=now + dt.timedelta(days=14)
    )
    overdue_count = due_soon.filter(due_at__lt=now).order_by()[: COUNT_CAP + 1].count()
    soon_count = due_soon.filter(due_at__gte=now).order_by()[: COUNT_CAP + 1].count()
    deadline_rows = []
    for d in due_soon.select_related("rule", "application__applicant").order_by("due_at")[:50]:
        row = _deadline_row(d, now, today)
        row["case_url"] = reverse("cases:detail", args=[d.application_id])
        row["reference"] = d.application.reference
        row["applicant"] = d.application.applicant.full_name
        deadline_rows.append(row)

    counts = access.visible_cases_by_status(user)
    list_url = reverse("cases:list")
    by_status = [
        {
            "status": value,
            "label": label,
            "count": counts.get(value, 0),
            "url": f"{list_url}?status={value}",
        }
        for value, label in Status.choices
    ]
    unassigned = (
        visible.open().filter(assigned_to__isnull=True).order_by()[: COUNT_CAP + 1].count()
        if user.unit_id
        else None
    )
    return render(
        request,
        "cases/dashboard.html",
        {
            "my_rows": my_rows,
            "my_more": len(mine) > DASHBOARD_ROWS,
            "deadline_rows": deadline_rows,
            "overdue_count": overdue_count,
            "soon_count": soon_count,
            "count_cap": COUNT_CAP,
            "scope_label": scope_label,
            "by_status": by_status,
            "total": sum(counts.values()),
            "unassigned": unassigned,
            "unread": unread,
            "unit": user.unit,
        },
    )


# ------------------------------------------------------------------------------------------
# Case list
# ------------------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows: an exact count of a million rows costs more than
    the page itself, and nobody pages past ten thousand results."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


class IdsFirstPaginator(CappedPaginator):
    """Pages whose rows are fetched in two steps inside one query: the page's ids along the
    sort order's index (for the default order `app_unit_submitted_idx`, an index-only walk
    past the OFFSET), then the full rows, joins and all, for those ids only. A deep page
    (OFFSET 5,000) then costs about what the first page costs (STACK.md, "Deep pages").

    `object_list` is the filtered and sorted queryset of cases; `rows` the queryset that
    fetches what a row shows (select_related, prefetches).
    """

    def __init__(self, object_list, per_page, *, rows) -> None:
        super().__init__(object_list, per_page)
        self.rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ordering = list(self.object_list.query.order_by) or list(Application._meta.ordering)
        ids = self.object_list.order_by(*ordering).values("pk")[bottom:top]
        rows = self.rows.filter(pk__in=ids).order_by(*ordering)
        return self._get_page(rows, number, self)


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """All cases the user may see: search, filters, sort orders, pages; decision-makers may
    assign the selected cases at once."""
    user = request.user
    if not _may_use_cases(user):
        return _no_access(request)
    params = _clean_params(request.GET)
    visible = access.visible_applications(user)
    rows_qs = visible.select_related("applicant", "assigned_to").prefetch_related(
        Prefetch(
            "placements",
            queryset=Placement.objects.current().select_related("facility"),
            to_attr="current_placements",
        )
    )
    filterset = ApplicationFilter(params, queryset=visible, request=request)
    per_page = _positive_int(params.get("per_page"), PAGE_SIZES[0])
    if per_page not in PAGE_SIZES:
        per_page = PAGE_SIZES[0]
    paginator = IdsFirstPaginator(filterset.qs, per_page, rows=rows_qs)
    page = paginator.get_page(_positive_int(params.get("page"), 1))

    now = timezone.now()
    today = timezone.localdate()
    rows = []
    for case in page.object_list:
        applicant = case.applicant
        placement = case.current_placements[0] if case.current_placements else None
        deadline_day = timezone.localdate(case.next_deadline_at) if case.next_deadline_at else None
        overdue = bool(case.next_deadline_at and case.next_deadline_at < now)
        rows.append(
            {
                "pk": case.pk,
                "url": reverse("cases:detail", args=[case.pk]),
                "reference": case.reference,
                "name": applicant.full_name,
                "name_original": applicant.name_original,
                "nationality": applicant.nationality.name if applicant.nationality else "",
                "status": case.status,
                "status_label": label(Status, case.status),
                "procedure": label(Application.Procedure, case.procedure),
                "assigned": person(case.assigned_to),
                "submitted_on": case.submitted_on,
                "days_waiting": (today - case.submitted_on).days,
                "in_state_since": case.status_changed_at,
                "days_in_state": (now - case.status_changed_at).days,
                "placement": (
                    f"{placement.facility.name} ({label(Placement.Regime, placement.regime)})"
                    if placement
                    else ""
                ),
                "deadline_on": deadline_day,
                "deadline_text": _days_text(deadline_day, overdue, today) if deadline_day else "",
                "overdue": overdue,
            }
        )
    may_bulk_assign = bool(
        user.unit_id and (user.is_superuser or user.has_role(roles.DECISION_MAKER))
    )
    query = clean_query(params.get("q"))
    words = fold_word(query).split()
    return render(
        request,
        "cases/case_list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "selects": {
                name: select_field_group(filterset.form[name], static=name in STATIC_SELECTS)
                for name in SELECTS
            },
            "page": page,
            "paginator": paginator,
            "rows": rows,
            "query": query,
            "short_query": bool(words) and max(len(w) for w in words) < 3,
            "name_search": getattr(filterset, "name_search", None),
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "count_cap": COUNT_CAP,
            "assign_form": forms.AssignForm(unit_id=user.unit_id, auto_id="bulk_%s")
            if may_bulk_assign
            else None,
            "current_url": request.get_full_path(),
        },
    )


@login_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """Assign the selected cases to one person (decision-makers). All or nothing: every case
    is checked (visible, of the user's unit) and assigned through `workflow.assign`."""
    user = request.user
    back = _safe_next(request, reverse("cases:list"))
    if not (user.is_superuser or user.has_role(roles.DECISION_MAKER)):
        return _refused(
            request, None, workflow.TransitionForbidden(_("Only a decision-maker may do this."))
        )
    ids = forms.parse_ids(request.POST.getlist("cases"))
    form = forms.BulkAssignForm(request.POST, unit_id=user.unit_id, case_ids=ids)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    assignee = form.cleaned_data["assignee"]
    try:
        with transaction.atomic():
            cases = [access.get_application_for_user(user, pk, write=True) for pk in ids]
            for case in cases:
                workflow.assign(case, actor=user, assignee=assignee, reason=_("Bulk assignment."))
    except Http404:
        messages.error(
            request, _("Some of the selected cases are not yours to assign. Nothing was changed.")
        )
        return redirect(back)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        messages.error(request, _("Nothing was changed."))
        return redirect(back)
    except workflow.WorkflowError as exc:
        return _refused(request, None, exc)
    if assignee is None:
        text = ngettext("%(n)d case unassigned.", "%(n)d cases unassigned.", len(cases))
    else:
        text = ngettext(
            "%(n)d case assigned to %(who)s.", "%(n)d cases assigned to %(who)s.", len(cases)
        )
    messages.success(request, text % {"n": len(cases), "who": person(assignee)})
    return redirect(back)


# ------------------------------------------------------------------------------------------
# Case page
# ------------------------------------------------------------------------------------------


def _document_url(document: Document) -> str:
    """A document's link on the case page: the access-checked download."""
    return reverse("cases:document", args=[document.application_id, document.pk])


def _access_rows(case: Application) -> list[dict[str, Any]]:
    rows = []
    whats = {
        "case": _("Viewed the case"),
        "form": _("Opened a form on the case"),
        "document": _("Downloaded a document"),
    }
    documents = {d.pk: d.original_name for d in case.documents.all()}
    for event in case.events.access_log().select_related("actor")[:ACCESS_LOG_LIMIT]:
        data = event.data if isinstance(event.data, dict) else {}
        what = str(whats.get(event.action, event.action))
        if data.get("document"):
            what = f"{what}: {documents.get(data['document'], '#' + str(data['document']))}"
        rows.append(
            {"at": event.at, "actor": person(event.actor), "what": what, "ip": data.get("ip", "")}
        )
    return rows


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: applicant, facts, placement, deadlines, timeline, notes, documents, and what
    the user may do next (blocked steps say why)."""
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit", "assigned_to")
    )
    access.log_access(case, user, request, what="case")
    now = timezone.now()
    today = timezone.localdate()

    placements = list(case.placements.select_related("facility").order_by("-starts_at"))
    current = next((p for p in placements if p.ends_at is None), None)
    notes = list(case.notes.select_related("author"))
    documents = list(case.documents.select_related("uploaded_by"))
    deadlines = list(case.deadlines.select_related("rule").order_by("status", "due_at"))
    open_deadlines = [_deadline_row(d, now, today) for d in deadlines if d.status == "open"]
    closed_deadlines = [_deadline_row(d, now, today) for d in deadlines if d.status != "open"]
    # The latest TIMELINE_SHOWN events unless the whole timeline is asked for (`?all=1`);
    # the window count says how many there are in the same query.
    show_all = request.GET.get("all") == "1"
    events = list(
        case.events.timeline()
        .select_related("actor")
        .annotate(timeline_total=Window(Count("*")))[
            : TIMELINE_LIMIT if show_all else TIMELINE_SHOWN
        ]
    )
    timeline_total = events[0].timeline_total if events else 0
    timeline = TimelineBuilder(
        case,
        events,
        notes=notes,
        documents=documents,
        placements=placements,
        document_url=_document_url,
    ).rows()

    can_work = access.can_work_on(user, case)
    is_decider = predicates.DECISION_MAKER(case, user)
    transitions = workflow.available_transitions(case, user)
    action_forms = []
    if can_work and case.is_open:
        names = []
        if case.status in (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION):
            names.append("interview")
        if current is not None and current.regime == Placement.Regime.DETENTION:
            names.append("court_order")
        if case.status == Status.DECIDED and not case.served_on:
            names.append("service")
        if case.status == Status.APPEALED:
            names.append("judgment")
        for name in names:
            action_forms.append(
                {
                    "name": name,
                    "title": forms.ACTION_LABELS[name],
                    "url": reverse("cases:action", args=[case.pk, name]),
                    "form": forms.ACTION_FORMS[name](auto_id=f"{name}_%s"),
                }
            )
    applicant = case.applicant
    context = {
        "case": case,
        "applicant": applicant,
        "aliases": applicant.alias_list(),
        "nationality": applicant.nationality.name if applicant.nationality else "",
        "grounds": case.get_grounds_display(),
        "current": current,
        "past_placements": [p for p in placements if p.ends_at is not None],
        "open_deadlines": open_deadlines,
        "closed_deadlines": closed_deadlines,
        "timeline": timeline,
        "timeline_total": timeline_total,
        "timeline_truncated": len(events) < timeline_total,
        "timeline_all_url": ""
        if show_all
        else f"{reverse('cases:detail', args=[case.pk])}?all=1#timeline",
        "notes": notes,
        "documents": [
            {
                "url": _document_url(d),
                "name": d.original_name,
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
        "note_form": forms.NoteForm(auto_id="note_%s") if can_work else None,
        "document_form": forms.DocumentForm(auto_id="document_%s") if can_work else None,
        "assign_form": forms.AssignForm(
            unit_id=case.unit_id,
            auto_id="assign_%s",
            initial={"assignee": case.assigned_to_id},
        )
        if is_decider and case.is_open
        else None,
        "access_log": _access_rows(case) if access.can_see_access_log(user, case) else None,
    }
    return render(request, "cases/case_detail.html", context)


def _form_page(
    request: HttpRequest,
    case: Application,
    form,
    *,
    title: str,
    action_url: str,
    submit_label: str,
    intro: str = "",
    multipart: bool = False,
    status: int = 200,
) -> HttpResponse:
    # The page names the applicant above the form: a view of the case, recorded as one.
    access.log_access(case, request.user, request, what="form")
    return render(
        request,
        "cases/case_form.html",
        {
            "case": case,
            "form": form,
            "title": title,
            "intro": intro,
            "action_url": action_url,
            "submit_label": submit_label,
            "multipart": multipart,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A transition's form (GET) and its submission (POST) through `workflow.<name>`."""
    if name not in workflow.TRANSITIONS:
        raise Http404
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    labels = transition_labels()
    option = next((t for t in workflow.available_transitions(case, user) if t.name == name), None)
    title = _("%(step)s: %(ref)s") % {"step": labels[name], "ref": case.reference}
    action_url = reverse("cases:transition", args=[case.pk, name])
    form_class = forms.TRANSITION_FORMS[name]

    if request.method == "POST":
        seen = request.POST.get("expected_status", "")
        if seen and seen != case.status:
            return _refused(request, case, _stale(case, seen))
    blocked = workflow.blocked_reason(case, name, user)
    if blocked:
        return _refused(request, case, workflow.TransitionForbidden(blocked))

    if request.method == "GET":
        form = form_class(case=case)
        return _form_page(
            request,
            case,
            form,
            title=title,
            intro=option.help_text if option else "",
            action_url=action_url,
            submit_label=labels[name],
        )

    form = form_class(request.POST, case=case)
    if form.is_valid():
        data = form.workflow_kwargs()
        expected = form.cleaned_data["expected_status"]
        reason = data.pop("reason")
        response = _run_workflow(
            request,
            case,
            form,
            lambda: workflow.TRANSITIONS[name](
                case.pk, actor=user, expected_status=expected, reason=reason, **data
            ),
            done=lambda updated: (
                _("%(step)s: done. The case is now “%(status)s”.")
                % {"step": labels[name], "status": updated.get_status_display()}
            ),
            next_url=reverse("cases:detail", args=[case.pk]),
        )
        if response is not None:
            return response
    return _form_page(
        request,
        case,
        form,
        title=title,
        intro=option.help_text if option else "",
        action_url=action_url,
        submit_label=labels[name],
        status=400,
    )


def _stale(case: Application, seen: str) -> workflow.StaleCase:
    seen_label = dict(Status.choices).get(seen, _("an earlier status"))
    return workflow.StaleCase(
        _(
            "This case changed while you were looking at it: it is now “%(now)s”, not "
            "“%(seen)s”. Nothing was changed; open the case again and check before you retry."
        )
        % {"now": case.get_status_display(), "seen": seen_label}
    )


def _run_action(name: str, case: Application, user: User, data: dict[str, Any]):
    if name == "interview":
        return workflow.record_interview(
            case.pk,
            actor=user,
            interviewed_on=data["interviewed_on"],
            waiver_reason=data["waiver_reason"],
        )
    if name == "court_order":
        return workflow.record_court_order(case.pk, actor=user, **data)
    if name == "service":
        return workflow.record_service(case.pk, actor=user, served_on=data["served_on"])
    if name == "judgment":
        return workflow.record_judgment(case.pk, actor=user, judgment_on=data["judgment_on"])
    raise Http404


ACTION_DONE = {
    "interview": _("The interview is recorded."),
    "court_order": _("The court order is recorded."),
    "service": _("The service of the decision is recorded."),
    "judgment": _("The final judgment is recorded."),
}


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Actions that change no state: interview, court order, service, judgment."""
    if name not in forms.ACTION_FORMS:
        raise Http404
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    form_class = forms.ACTION_FORMS[name]
    page = {
        "title": f"{forms.ACTION_LABELS[name]}: {case.reference}",
        "action_url": reverse("cases:action", args=[case.pk, name]),
        "submit_label": _("Record"),
    }
    if request.method == "GET":
        return _form_page(request, case, form_class(), **page)
    form = form_class(request.POST)
    if form.is_valid():
        response = _run_workflow(
            request,
            case,
            form,
            lambda: _run_action(name, case, user, form.cleaned_data),
            done=str(ACTION_DONE[name]),
            next_url=reverse("cases:detail", args=[case.pk]),
        )
        if response is not None:
            return response
    return _form_page(request, case, form, status=400, **page)


@login_required
@require_http_methods(["GET", "POST"])
def waive_deadline(request: HttpRequest, pk: int, deadline_pk: int) -> HttpResponse:
    """A decision-maker waives an open deadline, with a reason."""
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    deadline = (
        Deadline.objects.filter(pk=deadline_pk, application=case).select_related("rule").first()
        if 0 < deadline_pk < 2**63
        else None
    )
    if deadline is None:
        raise Http404
    page = {
        "title": _("Waive the deadline “%(name)s”: %(ref)s")
        % {"name": deadline.rule.name, "ref": case.reference},
        "intro": _("Due on %(date)s (%(source)s).")
        % {"date": deadline.due_on.isoformat(), "source": deadline.legal_reference},
        "action_url": reverse("cases:waive_deadline", args=[case.pk, deadline.pk]),
        "submit_label": _("Waive the deadline"),
    }
    refusal = predicates.DECISION_MAKER.explain(case, user)
    if refusal:
        return _refused(request, case, workflow.TransitionForbidden(refusal))
    if request.method == "GET":
        return _form_page(request, case, forms.WaiveDeadlineForm(), **page)
    form = forms.WaiveDeadlineForm(request.POST)
    if form.is_valid():
        response = _run_workflow(
            request,
            case,
            form,
            lambda: workflow.waive_deadline(
                deadline, actor=user, reason=form.cleaned_data["reason"]
            ),
            done=_("The deadline is waived."),
            next_url=reverse("cases:detail", args=[case.pk]),
        )
        if response is not None:
            return response
    return _form_page(request, case, form, status=400, **page)


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        response = _run_workflow(
            request,
            case,
            form,
            lambda: workflow.add_note(case.pk, actor=user, text=form.cleaned_data["text"]),
            done=_("The note is added."),
            next_url=reverse("cases:detail", args=[case.pk]) + "#notes",
        )
        if response is not None:
            return response
    return _form_page(
        request,
        case,
        form,
        title=_("Add a note: %(ref)s") % {"ref": case.reference},
        action_url=reverse("cases:add_note", args=[case.pk]),
        submit_label=_("Add note"),
        status=400,
    )


@login_required
@require_POST
def add_document(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        response = _run_workflow(
            request,
            case,
            form,
            lambda: workflow.add_document(
                case.pk,
                actor=user,
                file=upload,
                original_name=upload.name,
                description=form.cleaned_data["description"],
            ),
            done=_("The document is added."),
            next_url=reverse("cases:detail", args=[case.pk]) + "#documents",
        )
        if response is not None:
            return response
    return _form_page(
        request,
        case,
        form,
        title=_("Add a document: %(ref)s") % {"ref": case.reference},
        action_url=reverse("cases:add_document", args=[case.pk]),
        submit_label=_("Upload"),
        multipart=True,
        status=400,
    )


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A case document, served as an attachment with its stored content type, after the
    access check; the download is logged on the case's access log."""
    user = request.user
    case = access.get_application_for_user(user, pk)
    document = case.documents.filter(pk=document_pk).first() if 0 < document_pk < 2**63 else None
    if document is None:
        raise Http404
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    access.log_access(case, user, request, what="document", document=document.pk)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign the case to a caseworker of its unit, or unassign it (decision-makers)."""
    user = request.user
    case = access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )
    form = forms.AssignForm(request.POST, unit_id=case.unit_id)
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        response = _run_workflow(
            request,
            case,
            form,
            lambda: workflow.assign(case.pk, actor=user, assignee=assignee),
            done=_("The case is unassigned.")
            if assignee is None
            else _("The case is assigned to %(who)s.") % {"who": person(assignee)},
            next_url=reverse("cases:detail", args=[case.pk]),
        )
        if response is not None:
            return response
    return _form_page(
        request,
        case,
        form,
        title=_("Assign: %(ref)s") % {"ref": case.reference},
        action_url=reverse("cases:assign", args=[case.pk]),
        submit_label=_("Assign"),
        status=400,
    )


# ------------------------------------------------------------------------------------------
# Intake
# ------------------------------------------------------------------------------------------


def _duplicate_key(form: forms.IntakeForm) -> str:
    data = form.cleaned_data
    dob = data.get("date_of_birth")
    return "|".join(
        [
            fold_word(data.get("family_name", "")),
            fold_word(data.get("name_original", "")),
            dob.isoformat() if dob else "",
        ]
    )


def _possible_duplicates(user: User, form: forms.IntakeForm) -> list[dict[str, Any]]:
    """Applicants who may be this person: a similar name in any script (the folded key) or the
    same date of birth. Only applicants with a case the user may see are shown."""
    data = form.cleaned_data
    words = [
        w
        for w in fold_word(f"{data.get('family_name', '')} {data.get('name_original', '')}").split()
        if len(w) >= 3
    ]
    family = fold_word(data.get("family_name", ""))
    condition = Q(pk__in=[])
    if len(family) >= 3:
        condition |= Q(search_key__contains=family)
    for word in words:
        if word != family:
            condition |= Q(search_key__contains=word)
    dob = data.get("date_of_birth")
    if dob:
        condition |= Q(date_of_birth=dob)
    visible_ids = access.visible_applications(user).order_by().values("applicant_id")
    candidates = list(
        Applicant.objects.filter(condition, pk__in=visible_ids)
        .order_by("family_name", "given_names", "pk")
        .prefetch_related(
            Prefetch(
                "applications",
                queryset=access.visible_applications(user).order_by("-submitted_on"),
                to_attr="visible_cases",
            )
        )[:20]
    )
    rows = []
    for applicant in candidates:
        reasons = []
        if any(w in applicant.search_key for w in ([family] if len(family) >= 3 else []) + words):
            reasons.append(_("similar name"))
        if dob and applicant.date_of_birth == dob:
            reasons.append(_("same date of birth"))
        rows.append(
            {
                "pk": applicant.pk,
                "name": applicant.full_name,
                "name_original": applicant.name_original,
                "date_of_birth": applicant.date_of_birth,
                "nationality": applicant.nationality.name if applicant.nationality else "",
                "reasons": ", ".join(str(r) for r in reasons),
                "cases": [
                    {"reference": c.reference, "url": reverse("cases:detail", args=[c.pk])}
                    for c in applicant.visible_cases
                ],
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """Register a new application. Before saving, possible duplicates of the applicant are
    shown; the user links the case to one of them or confirms a new applicant."""
    user = request.user
    if not _may_open_cases(user):
        return _no_access(
            request,
            title=_("You cannot open cases"),
            text=_(
                "Cases are opened by caseworkers and decision-makers of a unit. Administrators "
                "read cases but do not open them. Ask an administrator for a role and a unit."
            ),
        )
    duplicates: list[dict[str, Any]] = []
    checked_key = ""
    choice = ""
    if request.method == "POST":
        form = forms.IntakeForm(request.POST)
        choice = request.POST.get("applicant_choice", "")[:30]
        if form.is_valid():
            key = _duplicate_key(form)
            duplicates = _possible_duplicates(user, form)
            confirmed = request.POST.get("checked_key", "") == key
            if duplicates and not confirmed:
                checked_key = key
                messages.warning(
                    request,
                    _("Possible duplicates found. Check them and choose before saving."),
                )
            elif (
                duplicates
                and choice != "new"
                and int_or_none(choice) not in {d["pk"] for d in duplicates}
            ):
                checked_key = key
                form.add_error(None, _("Choose an existing applicant, or a new applicant."))
            else:
                existing = (
                    Applicant.objects.get(pk=int(choice))
                    if duplicates and choice != "new"
                    else None
                )
                try:
                    case = workflow.submit_application(
                        actor=user,
                        applicant=existing,
                        applicant_data=None if existing else form.applicant_data(),
                        **form.application_data(),
                    )
                except workflow.WorkflowError as exc:
                    return _refused(request, None, exc)
                except ValidationError as exc:
                    forms.attach_errors(form, exc)
                    checked_key = key if duplicates else ""
                else:
                    messages.success(
                        request,
                        _("Case %(ref)s is registered.") % {"ref": case.reference},
                    )
                    return redirect("cases:detail", pk=case.pk)
        status = 200 if (duplicates and form.is_valid() and not form.non_field_errors()) else 400
    else:
        form = forms.IntakeForm(initial={"submitted_on": timezone.localdate()})
        status = 200
    return render(
        request,
        "cases/case_intake.html",
        {
            "form": form,
            "duplicates": duplicates if checked_key else [],
            "checked_key": checked_key,
            "choice": choice,
        },
        status=status,
    )


def int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


# ------------------------------------------------------------------------------------------
# Facilities
# ------------------------------------------------------------------------------------------


class _CappedCount(Subquery):
    """`(SELECT count(*) FROM (<sliced queryset>))`: counts at most the slice's rows, so a
    correlated count stops early instead of counting tens of thousands."""

    template = "(SELECT count(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


@login_required
@require_GET
def facilities(request: HttpRequest) -> HttpResponse:
    """Each facility: capacity, occupancy by regime (all placements), and the people placed
    there now whose cases the user may see: the FACILITY_PEOPLE most recent, then "and N more"
    linking to the case list filtered by the facility.

    Three queries whatever the number of cases: occupancy (the stored counts per facility and
    regime, `models.Occupancy`), the facilities with a capped count
    of the visible people (each count stops at FACILITY_COUNT_CAP + 1 rows), and the people
    shown (one UNION ALL branch per facility, each walking the newest-first partial index
    and stopping after FACILITY_PEOPLE rows).
    """
    user = request.user
    if not _may_use_cases(user):
        return _no_access(request)
    occupancy = occupancy_by_regime()

    visible = access.visible_applications(user).order_by().values("pk")
    here_now = Placement.objects.current().filter(application_id__in=visible)
    all_facilities = list(
        Facility.objects.order_by("-is_active", "name").annotate(
            visible_now=_CappedCount(
                # Ordered like the partial index (facility, -starts_at, -id) so that the
                # planner walks it and stops at the cap, instead of merging whole indexes.
                here_now.filter(facility_id=OuterRef("pk"))
                .order_by("-starts_at", "-id")
                .values("pk")[: FACILITY_COUNT_CAP + 1]
            )
        )
    )
    people: dict[int, list[dict[str, Any]]] = defaultdict(list)
    branches = [
        here_now.filter(facility_id=facility.pk)
        .order_by("-starts_at", "-id")
        .values(
            "facility_id",
            "regime",
            "starts_at",
            "application_id",
            "application__reference",
            "application__applicant__given_names",
            "application__applicant__family_name",
        )[:FACILITY_PEOPLE]
        for facility in all_facilities
        if facility.visible_now
    ]
    if branches:
        union = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
        for p in union:
            applicant = Applicant(
                given_names=p["application__applicant__given_names"],
                family_name=p["application__applicant__family_name"],
            )
            people[p["facility_id"]].append(
                {
                    "url": reverse("cases:detail", args=[p["application_id"]]),
                    "reference": p["application__reference"],
                    "name": applicant.full_name,
                    "regime": label(Placement.Regime, p["regime"]),
                    "since": p["starts_at"],
                }
            )
    list_url = reverse("cases:list")
    rows = []
    for facility in all_facilities:
        by_regime = occupancy.get(facility.pk, {})
        taken = sum(by_regime.values())
        shown = sorted(people.get(facility.pk, []), key=lambda r: r["since"], reverse=True)
        capped = facility.visible_now > FACILITY_COUNT_CAP
        visible_count = min(facility.visible_now, FACILITY_COUNT_CAP)
        rows.append(
            {
                "facility": facility,
                "kind": facility.get_kind_display(),
                "taken": taken,
                "free": max(facility.capacity - taken, 0),
                "full": taken >= facility.capacity,
                "by_regime": [
                    {"label": label(Placement.Regime, value), "count": by_regime.get(value, 0)}
                    for value in Placement.Regime.values
                ],
                "people": shown,
                # More of the user's people than are listed (at least this many when capped).
                "more": visible_count - len(shown),
                "more_capped": capped,
                "more_url": f"{list_url}?facility={facility.pk}",
                # People of cases the user may not see; only known while the count is exact.
                "not_shown": 0 if capped else max(taken - visible_count, 0),
            }
        )
    return render(
        request,
        "cases/facility_list.html",
        {"rows": rows, "people_limit": FACILITY_PEOPLE, "count_cap": FACILITY_COUNT_CAP},
    )


# ------------------------------------------------------------------------------------------
# Notifications
# ------------------------------------------------------------------------------------------


def _safe_link(link: str) -> str:
    """Notification links are paths inside Haven; anything else is not made a link."""
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return ""


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    items = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    paginator = Paginator(items, 50)
    page = paginator.get_page(_positive_int(request.GET.get("page"), 1))
    rows = [
        {
            "pk": n.pk,
            "text": n.text,
            "link": _safe_link(n.link),
            "created_at": n.created_at,
            "unread": n.read_at is None,
        }
        for n in page.object_list
    ]
    return render(
        request,
        "cases/notification_list.html",
        {"rows": rows, "page": page, "any_unread": any(r["unread"] for r in rows)},
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (`notification` = its id) or all unread ones as read."""
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    one = int_or_none(request.POST.get("notification", ""))
    if one is not None:
        done = unread.filter(pk=one).update(read_at=timezone.now())
    else:
        done = unread.update(read_at=timezone.now())
    messages.success(
        request,
        ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", done)
        % {"n": done},
    )
    return redirect("cases:notifications")
