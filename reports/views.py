"""The management reports: the open backlog by status and the age of open cases, each a
chart (server-rendered SVG, no script) and the same figures as a table.

For decision-makers (their unit) and administrators (every unit, or one with `?unit=`);
everyone else gets 404 (`cases.access.report_unit`). The backlog reads the stored counts
per unit and status (`cases.models.cases_by_status`), not the case table.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pygal
from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from accounts.models import Unit
from cases import access
from cases.labels import label
from cases.models import OPEN_STATUSES, Application, Status, cases_by_status

# Days since the application was made: (label, first day, last day or None).
AGE_BANDS = (
    (gettext_lazy("up to 30 days"), 0, 30),
    (gettext_lazy("31–90 days"), 31, 90),
    (gettext_lazy("91–180 days"), 91, 180),
    (gettext_lazy("181–365 days"), 181, 365),
    (gettext_lazy("over a year"), 366, None),
)
CHARTS = ("backlog", "age")


class UnitForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All units"),
    )


def _scope(request: HttpRequest) -> tuple[int | None, UnitForm | None]:
    """The unit whose figures are shown (None: all units) and, for administrators, the unit
    form. 404 for whoever may not see reports; 400 (Http404 is not it) for a bad unit."""
    scope = access.report_unit(request.user)
    if scope is None:
        raise Http404
    if scope != access.ALL_UNITS:
        return scope, None
    form = UnitForm(request.GET)
    if not form.is_valid():
        return None, form
    unit = form.cleaned_data["unit"]
    return (unit.pk if unit else None), form


def backlog(unit_id: int | None) -> list[dict[str, Any]]:
    """Open cases by status, from the stored counts."""
    counts = cases_by_status(unit_id)
    return [{"status": label(Status, s), "cases": counts.get(s, 0)} for s in OPEN_STATUSES]


def ages(unit_id: int | None, today: dt.date) -> list[dict[str, Any]]:
    """Open cases by status and by days since the application was made, in AGE_BANDS."""
    cases = Application.objects.filter(status__in=OPEN_STATUSES)
    if unit_id is not None:
        cases = cases.filter(unit_id=unit_id)
    bands = {}
    for i, (_label, first, last) in enumerate(AGE_BANDS):
        window = Q(submitted_on__lte=today - dt.timedelta(days=first))
        if last is not None:
            window &= Q(submitted_on__gte=today - dt.timedelta(days=last))
        bands[f"band{i}"] = Count("pk", filter=window)
    counted = {row["status"]: row for row in cases.order_by().values("status").annotate(**bands)}
    return [
        {
            "status": label(Status, s),
            "bands": [counted.get(s, {}).get(f"band{i}", 0) for i in range(len(AGE_BANDS))],
        }
        for s in OPEN_STATUSES
    ]


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    unit_id, form = _scope(request)
    if form is not None and not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    backlog_rows = backlog(unit_id)
    age_rows = ages(unit_id, timezone.localdate())
    query = request.GET.urlencode()
    return render(
        request,
        "reports/index.html",
        {
            "form": form,
            "backlog": backlog_rows,
            "backlog_total": sum(r["cases"] for r in backlog_rows),
            "bands": [b[0] for b in AGE_BANDS],
            "ages": age_rows,
            "query": f"?{query}" if query else "",
        },
    )


def _svg(chart) -> str:
    svg = chart.render(is_unicode=True)
    # pygal adds its tooltip configuration as a <script> even with js=[]: the chart needs none.
    return re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)


@login_required
@require_GET
@csp_override({"default-src": [CSP.NONE], "style-src": [CSP.UNSAFE_INLINE]})
def chart(request: HttpRequest, name: str) -> HttpResponse:
    """A report's chart as SVG (shown as an image, so no script can run in it)."""
    if name not in CHARTS:
        raise Http404
    unit_id, form = _scope(request)
    if form is not None and not form.is_valid():
        return HttpResponse(status=400)
    options = {"js": [], "disable_xml_declaration": True, "width": 800, "height": 400}
    if name == "backlog":
        chart = pygal.Bar(title=_("Open cases by status"), show_legend=False, **options)
        rows = backlog(unit_id)
        chart.x_labels = [r["status"] for r in rows]
        chart.add(_("Cases"), [r["cases"] for r in rows])
    else:
        chart = pygal.StackedBar(title=_("Open cases by days since application"), **options)
        chart.x_labels = [str(b[0]) for b in AGE_BANDS]
        for row in ages(unit_id, timezone.localdate()):
            chart.add(row["status"], row["bands"])
    return HttpResponse(_svg(chart), content_type="image/svg+xml")
