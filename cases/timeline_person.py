"""Timeline texts of the person behind the case (age assessment, the representative of an
unaccompanied minor, the legal representative, family links, the personal
interviews): kept apart from `cases.timeline` so that the person's records can grow
without touching the builder. The events hold codes, dates and user ids only, never
names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .labels import label
from .models import Application, FamilyLink

# The person's records that cause system events (the representative's clock), as the
# "because of" line names them.
PERSON_CAUSES = {
    "vulnerability_assessed": gettext_lazy("Record the vulnerability assessment"),
    "age_assessed": gettext_lazy("Record the age assessment"),
    "representative_appointed": gettext_lazy("Record the representative of the minor"),
}


def person_title(action: str, data: dict[str, Any], date: Callable[[Any], str]) -> str | None:
    """The title of a record event about the person; None for other actions."""
    if action == "age_assessed":
        title = _("Age assessed on %(date)s (%(method)s): %(result)s") % {
            "date": date(data.get("assessed_on")),
            "method": label(Application.AgeMethod, data.get("method", "")),
            "result": label(Application.AgeResult, data.get("result", "")),
        }
        if data.get("benefit_of_doubt"):
            title += "; " + _("benefit of the doubt applied")
        if data.get("unaccompanied"):
            title += "; " + _("unaccompanied")
        return title
    if action == "representative_appointed":
        if data.get("changed"):
            return _("Another representative of the unaccompanied minor appointed on %(date)s") % {
                "date": date(data.get("appointed_on"))
            }
        return _("Representative of the unaccompanied minor appointed on %(date)s") % {
            "date": date(data.get("appointed_on"))
        }
    if action in ("family_linked", "family_unlinked"):
        # The relation as read from this case's side; the relative is not named here (the
        # case page's Family section names them to readers of their case).
        relation = label(FamilyLink.Relation, data.get("relation", ""))
        if action == "family_linked":
            return _("Family member linked: %(relation)s") % {"relation": relation}
        return _("Family link removed: %(relation)s") % {"relation": relation}
    if action == "legal_representative_recorded":
        if data.get("changed"):
            return _("Legal representative changed")
        return _("Legal representative recorded")
    return None


# The record events of a scheduled interview (held and missed ones have their own titles).
INTERVIEW_ACTIONS = ("interview_scheduled", "interview_rescheduled", "interview_cancelled")


def interview_title(action: str, data: dict[str, Any], moment: Callable[[Any], str]) -> str:
    """The title of a scheduled interview's event: its time (and the time it was moved
    from). The interviewer is named by the builder; the interpreter and language are not
    on the event (the interview keeps them and retention redacts them)."""
    if action == "interview_rescheduled":
        return _("Personal interview moved from %(was)s to %(when)s") % {
            "was": moment(data.get("was")),
            "when": moment(data.get("scheduled_at")),
        }
    if action == "interview_cancelled":
        return _("Personal interview of %(when)s cancelled") % {
            "when": moment(data.get("scheduled_at"))
        }
    return _("Personal interview scheduled for %(when)s") % {
        "when": moment(data.get("scheduled_at"))
    }
