"""The home page: my open cases, deadlines due soon or overdue, the cases by status,
unread notifications.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles

from .. import access
from ..labels import label
from ..models import Deadline, Notification, Status
from .common import (
    COUNT_CAP,
    RULE_FIELDS_SHOWN,
    _deadline_row,
    _may_use_cases,
    _no_access,
    _safe_link,
    case_url,
)

DASHBOARD_ROWS = 20
# Deadlines listed as due soon or overdue, most urgent first.
URGENT_ROWS = 50
# The decision-makers' count of limits missed looks back this far.
MISSED_DAYS = 30
# What the rows show of a case and its person (a case row has some eighty columns): the
# deadline whole and what its row shows of the rule, of the case its reference and whether
# it is historical (and its status, which the state machine's field reads as the case is
# built).
MINE_FIELDS = (
    "reference",
    "status",
    "next_deadline_at",
    "applicant__given_names",
    "applicant__family_name",
)
URGENT_FIELDS = (
    *(f.name for f in Deadline._meta.concrete_fields),
    *RULE_FIELDS_SHOWN,
    "application__reference",
    "application__status",
    "application__recorded_as_of",
    "application__applicant__given_names",
    "application__applicant__family_name",
)


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
        .only(*MINE_FIELDS)
        .order_by("next_deadline_at", "id")[: DASHBOARD_ROWS + 1]
    )
    my_rows = [
        {
            "url": case_url(c.pk),
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
    watches_all = user.has_role(roles.DECISION_MAKER) or not user.has_role(roles.CASEWORKER)
    if watches_all:
        scope = visible
        scope_label = _("cases of my unit") if user.unit_id else _("all cases")
    else:
        scope = visible.filter(assigned_to=user)
        scope_label = _("my cases")
    until = now + dt.timedelta(days=14)
    # The 50 most urgent deadlines belong to the cases whose nearest open deadline
    # (`next_deadline_at`: none for a case recorded after the fact) is among the 50 nearest,
    # ties included: were a case's nearest deadline later than the 50th case's, 50 earlier
    # deadlines of those cases would come first. Found along an index of the scope's cases
    # by nearest deadline instead of reading every deadline of the scope.
    due_cases = scope.filter(next_deadline_at__lt=until).order_by()
    edge = (
        due_cases.order_by("next_deadline_at")
        .values_list("next_deadline_at", flat=True)[URGENT_ROWS - 1 : URGENT_ROWS]
        .first()
    )
    if edge is not None:
        due_cases = due_cases.filter(next_deadline_at__lte=edge)
    due_soon = Deadline.objects.live().filter(
        application__in=due_cases.values("pk"), due_at__lt=until
    )
    # Exact, from the stored counts; shown capped like the other counts.
    overdue_count, soon_count = (
        min(n, COUNT_CAP + 1)
        for n in access.visible_due_counts(user, now, until, mine=not watches_all)
    )
    # The 50 most urgent first by id alone (a subquery), then only those with their rule,
    # case and person: joining every due deadline of a large scope to its person before the
    # sort cost more than the rest of the page at a million cases.
    urgent = due_soon.order_by("due_at", "pk").values("pk")[:URGENT_ROWS]
    deadline_rows = []
    for d in (
        Deadline.objects.filter(pk__in=urgent)
        .select_related("rule", "application__applicant")
        .only(*URGENT_FIELDS)
        .order_by("due_at", "pk")
    ):
        row = _deadline_row(d, now, today)
        row["case_url"] = case_url(d.application_id)
        row["reference"] = d.application.reference
        row["applicant"] = d.application.applicant.full_name
        deadline_rows.append(row)

    # Limits closed late in the last 30 days (today and the 29 before it), for those who
    # answer for the unit's record: from the stored counts per unit and day of closing.
    missed_count = None
    if user.has_role(roles.DECISION_MAKER):
        since = today - dt.timedelta(days=MISSED_DAYS - 1)
        missed_count = access.visible_missed_count(user, since)

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
    unassigned = access.visible_unassigned_open_cases(user) if user.unit_id else None
    return render(
        request,
        "cases/dashboard.html",
        {
            "my_rows": my_rows,
            "my_more": len(mine) > DASHBOARD_ROWS,
            "deadline_rows": deadline_rows,
            "overdue_count": overdue_count,
            "soon_count": soon_count,
            "missed_count": missed_count,
            "missed_days": MISSED_DAYS,
            "count_cap": COUNT_CAP,
            "scope_label": scope_label,
            "by_status": by_status,
            "total": sum(counts.values()),
            "unassigned": unassigned,
            "unread": unread,
            "unit": user.unit,
        },
    )
