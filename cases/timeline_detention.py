"""Detention in court and its alternatives on the case page and its timeline: the court's
orders (the first and its extensions), the periodic reviews and the appeal against
detention, read once per page (`DetentionRecords.of`), and the timeline texts of their
events. Events point at these records by id; the court's case numbers are read from the
records, never copied into the events."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .labels import label
from .models import Application, DetentionAppeal, DetentionOrder, DetentionReview, Placement

# The actions of people that cause system events (the periodic review met and restarted,
# the cap handed over), as the timeline's "because of" line names them.
DETENTION_CAUSES = {
    "detention_reviewed": gettext_lazy("Record a review of the detention"),
    "detention_appeal_lodged": gettext_lazy("Record an appeal against the detention"),
    "detention_appeal_decided": gettext_lazy("Record the result of the appeal against detention"),
    "alternative_applied": gettext_lazy("Apply an alternative to detention"),
    "alternative_ended": gettext_lazy("End the alternative to detention"),
}


@dataclasses.dataclass
class DetentionRecords:
    """A case's detention orders, reviews and appeals against detention, oldest first."""

    orders: list[DetentionOrder]
    reviews: list[DetentionReview]
    appeals: list[DetentionAppeal]

    @classmethod
    def of(cls, case: Application, placements: list[Placement] | None = None) -> DetentionRecords:
        """Three queries, whatever the case holds; none when `placements` (all of the
        case's) hold no detention, which every record is about."""
        if placements is not None and not any(
            p.regime == Placement.Regime.DETENTION for p in placements
        ):
            return cls(orders=[], reviews=[], appeals=[])
        return cls(
            orders=list(DetentionOrder.objects.filter(application=case)),
            reviews=list(DetentionReview.objects.filter(application=case)),
            appeals=list(DetentionAppeal.objects.filter(application=case)),
        )

    def __bool__(self) -> bool:
        return bool(self.orders or self.reviews or self.appeals)

    def find(self, kind: str, pk: Any):
        rows = {"order": self.orders, "review": self.reviews, "appeal": self.appeals}[kind]
        return next((row for row in rows if row.pk == pk), None)


def _court(record) -> str:
    return ", ".join(part for part in (record.court, record.case_number) if part)


def court_order_row(
    data: dict[str, Any], records: DetentionRecords, date: Callable[[Any], str], row: dict
) -> None:
    """A court order's title (the first order or an extension) and its court."""
    template = (
        _("Detention extended by the court: order of %(on)s, until %(until)s")
        if data.get("extension")
        else _("Court order on detention: of %(on)s, until %(until)s")
    )
    row["title"] = template % {"on": date(data.get("order_on")), "until": date(data.get("until"))}
    order = records.find("order", data.get("order"))
    if order is not None:
        row["details"].append(_court(order))
    if data.get("corrected"):
        row["details"].append(_("corrected"))


def detention_row(
    action: str,
    data: dict[str, Any],
    records: DetentionRecords,
    date: Callable[[Any], str],
    row: dict,
) -> bool:
    """Fill the row of a detention record event; False for other actions."""
    if action == "detention_reviewed":
        row["title"] = _("Detention reviewed on %(date)s: %(result)s") % {
            "date": date(data.get("reviewed_on")),
            "result": label(DetentionReview.Result, data.get("result", "")),
        }
        review = records.find("review", data.get("review"))
        if review is not None:
            row["details"].append(review.reviewed_by)
    elif action == "detention_appeal_lodged":
        row["title"] = _("Appeal against the detention lodged on %(date)s") % {
            "date": date(data.get("lodged_on"))
        }
        appeal = records.find("appeal", data.get("appeal"))
        if appeal is not None:
            row["details"].append(_court(appeal))
    elif action == "detention_appeal_decided":
        row["title"] = _("Appeal against the detention decided on %(date)s: %(result)s") % {
            "date": date(data.get("decided_on")),
            "result": label(DetentionAppeal.Result, data.get("result", "")),
        }
        appeal = records.find("appeal", data.get("appeal"))
        if appeal is not None:
            row["details"].append(_court(appeal))
    elif action == "alternative_applied":
        row["title"] = _("Alternative to detention applied: %(measure)s") % {
            "measure": label(Placement.Alternative, data.get("alternative", ""))
        }
    elif action == "alternative_ended":
        row["title"] = _("Alternative to detention ended: %(measure)s") % {
            "measure": label(Placement.Alternative, data.get("alternative", ""))
        }
    else:
        return False
    return True
