"""In-app notifications (and, through the reminder sweep, email).

In-app notifications are rows written in the same transaction as the change they report,
so they are delivered exactly once: never lost, never doubled.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from .models import Application, CaseEvent, Notification


def case_link(application: Application) -> str:
    try:
        return reverse("cases:detail", args=[application.pk])
    except NoReverseMatch:  # the UI is not mounted (for example in a management shell)
        return ""


def notify(recipient, text: str, application: Application | None = None) -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        text=text[:500],
        link=case_link(application) if application is not None else "",
    )


def case_changed(application: Application, event: CaseEvent, *, actor) -> None:
    """Tell the assigned caseworker when someone else moved their case."""
    assignee = application.assigned_to
    if assignee is None or actor is None or assignee.pk == actor.pk or not assignee.is_active:
        return
    notify(
        assignee,
        _("%(ref)s: %(from)s → %(to)s by %(actor)s.")
        % {
            "ref": application.reference,
            "from": event.get_from_status_display() or "—",
            "to": event.get_to_status_display(),
            "actor": actor.get_full_name() or actor.username,
        },
        application,
    )
