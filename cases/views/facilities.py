"""The facilities page: capacity, occupancy by regime, and the people placed there now whose
cases the user may see.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import IntegerField, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from reports import exports, tables

from .. import access
from ..labels import label
from ..models import Facility, Placement, occupancy_by_regime, person_name
from .common import _may_use_cases, _no_access, case_url

FACILITY_PEOPLE = 20
FACILITY_COUNT_CAP = 100


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
    and stopping after FACILITY_PEOPLE rows). A unit's people are found through the
    placements' copy of the unit (`access.visible_current_placements`): the count reads
    index entries only, and the list reads only the people it shows.
    """
    user = request.user
    if not _may_use_cases(user):
        return _no_access(request)
    occupancy = occupancy_by_regime()

    here_now = access.visible_current_placements(user)
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
            people[p["facility_id"]].append(
                {
                    "url": case_url(p["application_id"]),
                    "reference": p["application__reference"],
                    "name": person_name(
                        p["application__applicant__given_names"],
                        p["application__applicant__family_name"],
                    ),
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
    export = exports.export_or_none(request, tables.FACILITIES, rows)
    if export is not None:
        return export
    return render(
        request,
        "cases/facility_list.html",
        {"rows": rows, "people_limit": FACILITY_PEOPLE, "count_cap": FACILITY_COUNT_CAP},
    )
