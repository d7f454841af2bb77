"""The floor page: the least a signed-in case list can cost in this stack.

Behind the same sign-in and the same base template as `cases:list`, it runs one hand-written
query for the rows (the first page of the user's unit's cases, newest first, the same columns
as the case list) plus a capped count, and renders the same table. The benchmark compares
the real case list with it: what the case list costs above this floor is what django-filter,
the ORM, the filter form and the access checks add. Mounted only by `bench.urls`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from django_countries import countries

from cases.models import Application, Placement, Status

PAGE_SIZE = 25
COUNT_CAP = 10_000

# The same rows as the case list's first page for a caseworker: the unit's cases, newest
# application first, with the applicant, the assignee and the current placement.
FLOOR_SQL = """
SELECT a.id, a.reference, a.procedure, a.status, a.submitted_on, a.status_changed_at,
       a.next_deadline_at, p.family_name, p.given_names, p.name_original, p.nationality,
       u.first_name, u.last_name, u.username, f.name, pl.regime
FROM cases_application a
JOIN cases_applicant p ON p.id = a.applicant_id
LEFT JOIN accounts_user u ON u.id = a.assigned_to_id
LEFT JOIN cases_placement pl ON pl.application_id = a.id AND pl.ends_at IS NULL
LEFT JOIN cases_facility f ON f.id = pl.facility_id
WHERE a.unit_id = %s
ORDER BY a.submitted_on DESC, a.id DESC
LIMIT %s OFFSET %s
"""
COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM cases_application WHERE unit_id = %s LIMIT %s) AS capped"
)

STATUS_LABELS = dict(Status.choices)
PROCEDURE_LABELS = dict(Application.Procedure.choices)
REGIME_LABELS = dict(Placement.Regime.choices)


def fetch_rows(unit_id: int, *, page: int = 1) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [unit_id, PAGE_SIZE, (page - 1) * PAGE_SIZE])
        return cursor.fetchall()


def _days_text(due_on: dt.date, overdue: bool, today: dt.date) -> str:
    days = (due_on - today).days
    if overdue or days < 0:
        if days >= 0:
            return _("overdue")
        return ngettext("overdue by %(n)d day", "overdue by %(n)d days", -days) % {"n": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}


@login_required
@require_GET
def floor_case_list(request: HttpRequest) -> HttpResponse:
    unit_id = request.user.unit_id or 0
    raw = fetch_rows(unit_id)
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL, [unit_id, COUNT_CAP + 1])
        count = cursor.fetchone()[0]
    now = timezone.now()
    today = timezone.localdate()
    rows = []
    for (
        pk,
        reference,
        procedure,
        status,
        submitted_on,
        changed_at,
        next_deadline_at,
        family,
        given,
        original,
        nationality,
        first,
        last,
        username,
        facility,
        regime,
    ) in raw:
        deadline_day = timezone.localdate(next_deadline_at) if next_deadline_at else None
        overdue = bool(next_deadline_at and next_deadline_at < now)
        rows.append(
            {
                "pk": pk,
                "url": reverse("cases:detail", args=[pk]),
                "reference": reference,
                "name": " ".join(x for x in (given, family.upper()) if x),
                "name_original": original,
                "nationality": countries.name(nationality) if nationality else "",
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "procedure": PROCEDURE_LABELS.get(procedure, procedure),
                "assigned": (f"{first} {last}".strip() or username) if username else "",
                "submitted_on": submitted_on,
                "days_waiting": (today - submitted_on).days,
                "in_state_since": changed_at,
                "days_in_state": (now - changed_at).days,
                "placement": f"{facility} ({REGIME_LABELS.get(regime, regime)})"
                if facility
                else "",
                "deadline_on": deadline_day,
                "deadline_text": _days_text(deadline_day, overdue, today) if deadline_day else "",
                "overdue": overdue,
            }
        )
    return render(
        request,
        "bench/floor_case_list.html",
        {"rows": rows, "count": count, "capped": count > COUNT_CAP, "count_cap": COUNT_CAP},
    )
