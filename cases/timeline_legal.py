"""Timeline texts of the legal procedures (decisions' details, Dublin): kept apart from
`cases.timeline` so that the procedures can grow without touching the builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django_countries import countries

from .labels import label
from .models import Application


def decision_details(data: dict[str, Any]) -> list[str]:
    """What a decision event adds to its outcome: the ground of inadmissibility. (The return
    decision's reference is personal data: the event does not copy it, the case page shows
    it while the case keeps it.)"""
    details = []
    if data.get("inadmissibility_ground"):
        details.append(
            _("Ground of inadmissibility: %(ground)s")
            % {"ground": label(Application.InadmissibilityGround, data["inadmissibility_ground"])}
        )
    return details


def record_title(action: str, data: dict[str, Any], date: Callable[[Any], str]) -> str | None:
    """The title of a record event of the legal procedures; None for other actions."""
    if action == "responsibility_determined":
        code = data.get("responsible_state", "")
        return _("Member State responsible: %(state)s (determined on %(date)s)") % {
            "state": dict(countries).get(code, code),
            "date": date(data.get("determined_on")),
        }
    return None
