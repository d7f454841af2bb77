"""The management reports: an index (open cases by status and by age) and seven reports,
each a chart (server-rendered SVG, no script), the same figures as a table, and the same
figures as CSV or XLSX on the same URL (`?format=csv|xlsx`, through `reports.exports`).

For decision-makers (their unit) and administrators (every unit, or one with `?unit=`);
everyone else gets 404 (`cases.access.report_unit`). The figures come from the daily
aggregate rows (`reports.figures`), not from scans of the case table.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pygal
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET
from django_countries import countries

from accounts.models import Unit
from cases import access
from cases.labels import label, person
from cases.models import OPEN_STATUSES, Application, BreakGlassGrant, Status, cases_by_status

from . import figures as reports
from .exports import Column, Table, export_or_none
from .figures import AGE_BANDS, Filters

# The charts: the index's open cases by status, and each report's.
CHARTS = ("status", *reports.REPORTS)
# The longest period a report covers, and the longest one shown week by week.
MAX_DAYS = 10 * 366
MAX_WEEKLY_DAYS = 2 * 366


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All units"),
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    step = forms.ChoiceField(
        label=gettext_lazy("Figures at the end of each"),
        choices=[("month", gettext_lazy("month")), ("week", gettext_lazy("week"))],
        required=False,
    )
    procedure = forms.ChoiceField(
        label=gettext_lazy("Procedure"),
        choices=[("", gettext_lazy("All procedures")), *Application.Procedure.choices],
        required=False,
    )
    nationality = forms.ChoiceField(label=gettext_lazy("Nationality"), required=False)

    def __init__(self, *args, report: reports.Report | None, all_units: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nationality"].choices = [
            ("", _("All nationalities")),
            *((code, name) for code, name in countries),
        ]
        if not all_units:
            del self.fields["unit"]
        if report is None or not report.uses_period:
            del self.fields["start"], self.fields["end"]
        if report is None or not report.uses_step:
            del self.fields["step"]
        if report is None:
            del self.fields["procedure"], self.fields["nationality"]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or dt.date(end.year - (end.month < 12), end.month % 12 + 1, 1)
        if start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most ten years."))
        if data.get("step") == "week" and (end - start).days > MAX_WEEKLY_DAYS:
            raise forms.ValidationError(
                _("Week by week covers at most two years: choose months for a longer period.")
            )
        data["start"], data["end"] = start, end
        return data


def _filters(request: HttpRequest, report: reports.Report | None) -> tuple[Filters, ReportForm]:
    """The filters the request asks for, within what the user may see, and the form; 404 for
    whoever may not see reports."""
    scope = access.report_unit(request.user)
    if scope is None:
        raise Http404
    form = ReportForm(request.GET, report=report, all_units=scope == access.ALL_UNITS)
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    unit = data.get("unit")
    unit_id = scope if scope != access.ALL_UNITS else (unit.pk if unit else None)
    filters = Filters(
        unit_id=unit_id,
        start=data.get("start") or today,
        end=data.get("end") or today,
        today=today,
        procedure=data.get("procedure") or "",
        nationality=data.get("nationality") or "",
        step=data.get("step") or "month",
    )
    return filters, form


def _query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("format", None)
    query = params.urlencode()
    return f"?{query}" if query else ""


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filters, form = _filters(request, None)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    counts = cases_by_status(filters.unit_id)
    backlog_rows = [{"status": label(Status, s), "cases": counts.get(s, 0)} for s in OPEN_STATUSES]
    age = reports.ages(filters)
    return render(
        request,
        "reports/index.html",
        {
            "form": form if "unit" in form.fields else None,
            "backlog": backlog_rows,
            "backlog_total": sum(r["cases"] for r in backlog_rows),
            "bands": [b[0] for b in AGE_BANDS],
            "ages": [{"status": r[0], "bands": r[1:-1]} for r in age.rows],
            "query": _query(request),
            "reports": reports.REPORTS.values(),
        },
    )


def _cell(value: Any) -> Any:
    return "" if value is None else value


@login_required
@require_GET
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """One report: its chart, its table, and its CSV and XLSX (`?format=`)."""
    definition = reports.REPORTS.get(slug)
    if definition is None:
        raise Http404
    filters, form = _filters(request, definition)
    context: dict[str, Any] = {"report": definition, "form": form, "reports": reports.REPORTS}
    if not form.is_valid():
        return render(request, "reports/report.html", context, status=400)
    result = reports.computed(definition, filters)
    table = Table(
        f"report-{slug}",
        tuple(
            Column(header, lambda row, i=i: _cell(row[i]))
            for i, header in enumerate(result.headers)
        ),
    )
    rows = result.rows + ([result.footer] if result.footer and result.has_data else [])
    exported = export_or_none(request, table, rows)
    if exported is not None:
        return exported
    context.update(
        figures=result,
        filters=filters,
        query=_query(request),
        unit=Unit.objects.filter(pk=filters.unit_id).first() if filters.unit_id else None,
    )
    return render(request, "reports/report.html", context)


def _svg(chart, description: str) -> str:
    svg = chart.render(is_unicode=True)
    # pygal adds its tooltip configuration as a <script> even with js=[]: the chart needs none.
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    # A description for screen readers, after the chart's title.
    return re.sub(
        r"(<title>.*?</title>)", rf"\1<desc>{escape(description)}</desc>", svg, count=1, flags=re.S
    )


CHART_TYPES = {
    "bar": pygal.Bar,
    "stacked": pygal.StackedBar,
    "line": pygal.Line,
    "hbar": pygal.HorizontalBar,
}


@login_required
@require_GET
@csp_override({"default-src": [CSP.NONE], "style-src": [CSP.UNSAFE_INLINE]})
def chart(request: HttpRequest, name: str) -> HttpResponse:
    """A report's chart as SVG (shown as an image, so no script can run in it)."""
    options = {
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 400,
        "no_data_text": _("No data for this period"),
    }
    if name not in CHARTS:
        raise Http404
    if name == "status":
        filters, form = _filters(request, None)
        if not form.is_valid():
            return HttpResponse(status=400)
        counts = cases_by_status(filters.unit_id)
        drawn = pygal.Bar(title=_("Open cases by status"), show_legend=False, **options)
        drawn.x_labels = [label(Status, s) for s in OPEN_STATUSES]
        drawn.add(_("Cases"), [counts.get(s, 0) for s in OPEN_STATUSES])
        return HttpResponse(_svg(drawn, _("Open cases by status")), content_type="image/svg+xml")
    definition = reports.REPORTS[name]
    filters, form = _filters(request, definition)
    if not form.is_valid():
        return HttpResponse(status=400)
    result = reports.computed(definition, filters)
    drawn = CHART_TYPES[result.chart](
        title=str(definition.title),
        x_label_rotation=30 if len(result.x_labels) > 6 else 0,
        legend_at_bottom=True,
        **options,
    )
    drawn.x_labels = result.x_labels
    for series in result.series:
        style = {"stroke_style": {"dasharray": "6, 4"}, "show_dots": False} if series.dashed else {}
        drawn.add(series.name, series.values, **style)
    return HttpResponse(_svg(drawn, str(definition.description)), content_type="image/svg+xml")


BREAK_GLASS_PAGE = 100


@login_required
@require_GET
def break_glass(request: HttpRequest) -> HttpResponse:
    """Every use of emergency ("break-glass") access, newest first: who (and their unit),
    which case (and its unit), why, from when until when, and who extended it to work.
    Administrators and superusers only; 404 for everyone else."""
    if access.report_unit(request.user) != access.ALL_UNITS:
        raise Http404
    grants = BreakGlassGrant.objects.select_related(
        "user__unit", "application__unit", "extended_by", "revoked_by"
    ).order_by("-starts_at", "-pk")
    page = Paginator(grants, BREAK_GLASS_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "who": person(g.user),
            "who_unit": str(g.user.unit) if g.user.unit_id else "",
            "reference": g.application.reference,
            "case_url": reverse("cases:detail", args=[g.application_id]),
            "case_unit": str(g.application.unit),
            "reason": g.reason,
            "starts_at": g.starts_at,
            "ends_at": g.ends_at,
            "live": g.is_live(now),
            "extended_by": person(g.extended_by),
            "extended_at": g.extended_at,
            "revoked_by": person(g.revoked_by),
            "revoked_at": g.revoked_at,
            "revoke_reason": g.revoke_reason,
        }
        for g in page.object_list
    ]
    return render(request, "reports/break_glass.html", {"rows": rows, "page": page})
