"""The case list (search, filters, sort orders, pages) and the assignment of the selected
cases at once.

The list counts at most COUNT_CAP + 1 rows and fetches a page's ids before its rows, so
that a deep page costs about what the first page costs (STACK.md, "Deep pages").
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import roles
from reports import exports, tables

from .. import access, forms, sensitive, workflow
from ..filters import SELECTS, STATIC_SELECTS, ApplicationFilter, clean_query, select_field_group
from ..labels import label, person
from ..models import Application, Placement, Status
from ..names import fold_word
from .breakglass import break_glass_url
from .common import (
    COUNT_CAP,
    _days_text,
    _may_use_cases,
    _no_access,
    _positive_int,
    _refused,
    case_url,
)

PAGE_SIZES = (25, 50, 100)


# A search by name counts at most this many: each match of a trigram search is read from
# the table to be checked (a page of the table each), a common name matches thousands of
# cases at a national caseload, and a search with more than two hundred answers (eight
# pages) asks for a date of birth or a first name, not for paging.
SEARCH_COUNT_CAP = 200


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows (COUNT_CAP unless told): an exact count of a million rows
    costs more than the page itself, and nobody pages past ten thousand results."""

    def __init__(self, *args, cap: int = COUNT_CAP, counted=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cap = cap
        # The same rows as they are counted (`ApplicationFilter.counted`), when that differs.
        self.counted = counted

    @cached_property
    def count(self) -> int:
        counted = self.object_list if self.counted is None else self.counted
        return counted.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class IdsFirstPaginator(CappedPaginator):
    """Pages whose rows are fetched in two steps inside one query: the page's ids along the
    sort order's index (for the default order `app_unit_submitted_idx`, an index-only walk
    past the OFFSET), then the full rows, joins and all, for those ids only. A deep page
    (OFFSET 5,000) then costs about what the first page costs (STACK.md, "Deep pages").

    `object_list` is the filtered and sorted queryset of cases; `rows` the queryset that
    fetches what a row shows (select_related, prefetches).
    """

    def __init__(self, object_list, per_page, *, rows, cap: int = COUNT_CAP, counted=None) -> None:
        super().__init__(object_list, per_page, cap=cap, counted=counted)
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


def _clean_params(params: QueryDict) -> QueryDict:
    """Query parameters without NUL bytes (PostgreSQL refuses them in text) and bounded."""
    cleaned = QueryDict(mutable=True)
    for key in list(params.keys())[:50]:
        cleaned.setlist(key, [clean_query(v) for v in params.getlist(key)[:20]])
    return cleaned


def _with_row_data(cases):
    """Cases with what a row shows: applicant, assignee, current placement."""
    return cases.select_related("applicant", "assigned_to").prefetch_related(
        Prefetch(
            "placements",
            queryset=Placement.objects.current().select_related("facility"),
            to_attr="current_placements",
        )
    )


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
    # An exact case reference (the header's search box) opens that case at once; asked for
    # as a file (`format=`), it is exported like any other search.
    # A reference of another unit's case answers "not in your unit: request emergency
    # access" to a caseworker of some unit, and nothing to anyone else.
    # A reference always carries its year (LT-2024-000123): a query without a digit is a
    # name, and looking it up as a reference (twice: this unit's, another's) is skipped.
    reference = clean_query(params.get("q")).upper()
    emergency = None
    if (
        any(c.isdigit() for c in reference)
        and "format" not in request.GET
        and not any(c.isspace() for c in reference)
    ):
        match = visible.filter(reference=reference).values_list("pk", flat=True).first()
        if match is not None:
            return redirect("cases:detail", pk=match)
        candidate = access.emergency_candidate(user, reference)
        if candidate is not None:
            emergency = {"reference": candidate.reference, "url": break_glass_url(candidate)}
    rows_qs = _with_row_data(visible)
    filterset = ApplicationFilter(params, queryset=visible, request=request)
    export = exports.export_or_none(request, tables.CASES, _with_row_data(filterset.qs))
    if export is not None:
        return export
    per_page = _positive_int(params.get("per_page"), PAGE_SIZES[0])
    if per_page not in PAGE_SIZES:
        per_page = PAGE_SIZES[0]
    query = clean_query(params.get("q"))
    cap = SEARCH_COUNT_CAP if query else COUNT_CAP
    paginator = IdsFirstPaginator(
        filterset.qs, per_page, rows=rows_qs, cap=cap, counted=filterset.counted
    )
    page = paginator.get_page(_positive_int(params.get("page"), 1))

    now = timezone.now()
    today = timezone.localdate()
    hidden = sensitive.hidden_facts()
    rows = []
    for case in page.object_list:
        applicant = case.applicant
        placement = case.current_placements[0] if case.current_placements else None
        deadline_day = timezone.localdate(case.next_deadline_at) if case.next_deadline_at else None
        overdue = bool(case.next_deadline_at and case.next_deadline_at < now)
        rows.append(
            {
                "pk": case.pk,
                "url": case_url(case.pk),
                "reference": case.reference,
                "name": applicant.full_name,
                "applicant_url": case_url(case.pk) + "#applicant-heading",
                "name_original": sensitive.shown(
                    applicant.name_original, "applicant.name_original", hidden
                ),
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
            "count_cap": paginator.cap,
            "assign_form": forms.AssignForm(unit_id=user.unit_id, auto_id="bulk_%s")
            if may_bulk_assign
            else None,
            "current_url": request.get_full_path(),
            "emergency": emergency,
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
