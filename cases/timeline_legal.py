"""Timeline texts of the legal procedures (decisions' details, Dublin): kept apart from
`cases.timeline` so that the procedures can grow without touching the builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from .labels import label
from .models import Appeal, Application

# The appeal records that cause system events (the time for a further appeal opened or
# met, the transfer period stopped or started again), as the "because of" line names them.
APPEAL_CAUSES = {
    "judgment": gettext_lazy("Record the judgment on the appeal"),
    "further_appeal": gettext_lazy("Record a further appeal to the Supreme Administrative Court"),
    "suspensive_effect": gettext_lazy("Record the suspensive effect of the appeal"),
    "transfer_decision": gettext_lazy("Record service of the transfer decision"),
    "transfer_appeal": gettext_lazy("Record the appeal against the transfer decision"),
}


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


def appeal_details(data: dict[str, Any]) -> list[str]:
    """What the appeal's transition adds: the suspensive effect recorded with it."""
    if data.get("suspensive_effect"):
        return [
            _("Suspensive effect: %(effect)s")
            % {"effect": label(Appeal.Suspensive, data["suspensive_effect"])}
        ]
    return []


def appeal_title(action: str, data: dict[str, Any], date: Callable[[Any], str]) -> str | None:
    """The title of an appeal record (judgment, further appeal, suspensive effect)."""
    level = label(Appeal.Level, data.get("level", ""))
    subject = label(Appeal.Subject, data.get("subject", ""))
    if action == "judgment":
        if not data.get("level"):  # recorded before appeals had levels and outcomes
            return _("Final judgment of %(date)s") % {"date": date(data.get("judgment_on"))}
        return _("Judgment of %(date)s (%(level)s, %(subject)s): %(outcome)s") % {
            "date": date(data.get("judgment_on")),
            "level": level,
            "subject": subject,
            "outcome": label(Appeal.Outcome, data.get("outcome", "")),
        }
    if action == "transfer_decision":
        return _("Dublin transfer decision served on %(date)s") % {
            "date": date(data.get("served_on"))
        }
    if action == "transfer_appeal":
        title = _("Appeal against the transfer decision lodged on %(date)s") % {
            "date": date(data.get("lodged_on"))
        }
        if data.get("suspensive_effect"):
            title += "; " + _("Suspensive effect: %(effect)s") % {
                "effect": label(Appeal.Suspensive, data["suspensive_effect"])
            }
        return title
    if action == "further_appeal":
        return _("Further appeal lodged on %(date)s (%(level)s, %(subject)s)") % {
            "date": date(data.get("lodged_on")),
            "level": level,
            "subject": subject,
        }
    if action == "suspensive_effect":
        effect = label(Appeal.Suspensive, data.get("effect", ""))
        if data.get("suspension"):
            effect += ": " + label(Appeal.Suspension, data["suspension"])
            if data.get("decided_on"):
                effect += f" ({date(data['decided_on'])})"
        return _("Suspensive effect of the appeal (%(level)s, %(subject)s): %(effect)s") % {
            "level": level,
            "subject": subject,
            "effect": effect,
        }
    return None


def record_title(action: str, data: dict[str, Any], date: Callable[[Any], str]) -> str | None:
    """The title of a record event of the legal procedures; None for other actions."""
    title = appeal_title(action, data, date)
    if title is not None:
        return title
    country = dict(countries)
    if action == "dublin_started":
        return _("Dublin procedure: the examination waits until responsibility is settled")
    if action == "dublin_request":
        code = data.get("requested_state", "")
        return _("Dublin request: %(kind)s to %(state)s, sent on %(date)s") % {
            "kind": label(Application.DublinRequest, data.get("kind", "")),
            "state": country.get(code, code),
            "date": date(data.get("sent_on")),
        }
    if action == "dublin_reply":
        return _("Reply to the Dublin request: %(reply)s (%(date)s)") % {
            "reply": label(Application.DublinReply, data.get("reply", "")),
            "date": date(data.get("replied_on")),
        }
    if action == "transfer_extended":
        return _("Transfer period extended: %(ground)s") % {
            "ground": label(Application.TransferExtension, data.get("ground", ""))
        }
    if action == "transferred":
        return _("Transferred to the Member State responsible on %(date)s") % {
            "date": date(data.get("transferred_on"))
        }
    if action == "vulnerability_assessed":
        return _("Vulnerability assessed on %(date)s") % {"date": date(data.get("assessed_on"))}
    if action == "procedure_channelled":
        return _("Channelled: %(procedure)s (before: %(was)s)") % {
            "procedure": label(Application.Procedure, data.get("procedure", "")),
            "was": label(Application.Procedure, data.get("was", "")),
        }
    if action == "admissibility_extended":
        return _("Examination of admissibility extended, now due %(date)s") % {
            "date": date(data.get("due_on"))
        }
    if action == "interview_missed":
        return _(
            "Personal interview missed on %(date)s without a reason: the application may be "
            "treated as implicitly withdrawn"
        ) % {"date": date(data.get("missed_on"))}
    if action == "reopening_window":
        return _("The application may be reopened until %(date)s") % {
            "date": date(data.get("reopen_until"))
        }
    if action == "responsibility_determined":
        code = data.get("responsible_state", "")
        return _("Member State responsible: %(state)s (determined on %(date)s)") % {
            "state": country.get(code, code),
            "date": date(data.get("determined_on")),
        }
    return None
