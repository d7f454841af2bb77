"""What each list exports: its columns, in the order and wording of the page."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.labels import label, person
from cases.models import Application, Placement, Status

from .exports import Column, Table


def _placement(case: Application) -> str:
    placements = getattr(case, "current_placements", None) or []
    if not placements:
        return ""
    placement = placements[0]
    return f"{placement.facility.name} ({label(Placement.Regime, placement.regime)})"


def _days_waiting(case: Application) -> int:
    return (timezone.localdate() - case.submitted_on).days


CASES = Table(
    "cases",
    (
        Column(_("Reference"), lambda c: c.reference),
        Column(_("Procedure"), lambda c: label(Application.Procedure, c.procedure)),
        Column(_("Applicant"), lambda c: c.applicant.full_name),
        Column(
            _("Name in original script"),
            lambda c: c.applicant.name_original,
            fact="applicant.name_original",
        ),
        Column(
            _("Nationality"),
            lambda c: c.applicant.nationality.name if c.applicant.nationality else "",
        ),
        Column(_("Status"), lambda c: label(Status, c.status)),
        Column(_("Submitted"), lambda c: c.submitted_on),
        Column(_("Days since submission"), _days_waiting),
        Column(_("In this status since"), lambda c: c.status_changed_at),
        Column(_("Nearest deadline"), lambda c: c.next_deadline_at),
        Column(
            _("Overdue"),
            lambda c: bool(c.next_deadline_at and c.next_deadline_at < timezone.now()),
        ),
        Column(_("Placement"), _placement),
        Column(_("Assigned to"), lambda c: person(c.assigned_to)),
    ),
)

FACILITIES = Table(
    "facilities",
    (
        Column(_("Facility"), lambda r: r["facility"].name),
        Column(_("Code"), lambda r: r["facility"].code),
        Column(_("Kind"), lambda r: r["kind"]),
        Column(_("In use"), lambda r: r["facility"].is_active),
        Column(_("Places"), lambda r: r["facility"].capacity),
        Column(_("Taken"), lambda r: r["taken"]),
        Column(_("Free"), lambda r: r["free"]),
        *(
            Column(regime.label, lambda r, i=i: r["by_regime"][i]["count"])
            for i, regime in enumerate(Placement.Regime)
        ),
    ),
)
