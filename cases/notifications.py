"""In-app notifications and email.

In-app notifications are rows written in the same transaction as the change they report,
so they are delivered exactly once: never lost, never doubled. Email goes out through
Django's `MAILERS` (the console backend by default, SMTP when configured) with a subject,
a text body and an HTML body from `templates/emails/`; deadline reminders and the daily
digest send it from a worker (`cases.reminders`), never inside a web request's transaction.

Emails and notifications name the case by its reference and the deadline by its rule; they
never carry the applicant's name or other personal data, which stays behind the
access-checked case page they link to.

Code here does not import `cases.tasks` (imports point one way, from tasks down): it
enqueues a task by its registered name with `enqueue_task`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Application, CaseEvent, Notification

log = logging.getLogger(__name__)

CHECK_CASE_TASK = "cases.tasks.sweep_case_deadlines"


def case_link(application: Application) -> str:
    try:
        return reverse("cases:detail", args=[application.pk])
    except NoReverseMatch:  # the UI is not mounted (for example in a management shell)
        return ""


def absolute_url(path: str) -> str:
    """A link for an email: SITE_URL plus the path (the site's home when there is none)."""
    return f"{settings.SITE_URL}{path or '/'}"


def in_language_of(recipient) -> translation.override:
    """Write to `recipient` in their language: the one they chose (`User.language`), else the
    site's. A worker or another user's request must not decide the language of a message."""
    return translation.override(getattr(recipient, "language", "") or settings.LANGUAGE_CODE)


def notify(
    recipient, text: str | Callable[[], str], application: Application | None = None
) -> Notification:
    """An in-app message. `text` may be a function that builds it, called in the
    recipient's language (the row stores the text, so it is written once, for its reader)."""
    if callable(text):
        with in_language_of(recipient):
            text = text()
    return Notification.objects.create(
        recipient=recipient,
        kind=Notification.Kind.MESSAGE,
        text=text[:500],
        link=case_link(application) if application is not None else "",
    )


def case_changed(application: Application, event: CaseEvent, *, actor) -> None:
    """Tell the assigned caseworker when someone else moved their case, and check the
    case's deadlines once the change is committed.

    The check (a sweep of this one case) sends at once the reminders of a deadline that
    opened already inside its reminder window or overdue, instead of at the next periodic
    sweep. It is enqueued on commit with `robust=True`: with Redis down the change is still
    saved and the periodic sweep catches up later.
    """
    transaction.on_commit(lambda: enqueue_task(CHECK_CASE_TASK, application.pk), robust=True)
    assignee = application.assigned_to
    if assignee is None or actor is None or assignee.pk == actor.pk or not assignee.is_active:
        return
    notify(
        assignee,
        lambda: (
            _("%(ref)s: %(from)s → %(to)s by %(actor)s.")
            % {
                "ref": application.reference,
                "from": event.get_from_status_display() or "—",
                "to": event.get_to_status_display(),
                "actor": actor.get_full_name() or actor.username,
            }
        ),
        application,
    )


# ------------------------------------------------------------------------------------------
# Enqueueing by name
# ------------------------------------------------------------------------------------------


def enqueue_task(name: str, *args: Any) -> None:
    """Enqueue the Celery task registered as `name` (for example "cases.tasks.send_reminder").

    With a broker this publishes by name (`send_task`), so nothing below the tasks imports
    them. Without REDIS_URL the app is eager: `send_task` would ignore that and publish to
    the in-memory broker where no worker listens, so the task is looked up in the registry
    (importing its module by name if needed) and run here. A broker that does not answer
    raises `kombu.exceptions.OperationalError` after the short connection timeout and publish
    retry policy of the settings; callers enqueue on commit with `robust=True`.
    """
    from haven.celery import app

    if app.conf.task_always_eager:
        if name not in app.tasks:
            importlib.import_module(name.rpartition(".")[0])
        app.tasks[name].delay(*args)
    else:
        app.send_task(name, args=args)


# ------------------------------------------------------------------------------------------
# Email
# ------------------------------------------------------------------------------------------


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of `templates/emails/<template>_*`, in the language of
    `context["recipient"]` (the site's when there is none): workers have no request to take a
    language from, and one sweep writes to people of both languages."""
    with in_language_of(context.get("recipient")):
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    # A subject is one line: template whitespace and newlines must not reach the header.
    return " ".join(subject.split()), text, html


def send_email(recipient, template: str, context: dict[str, Any]) -> bool:
    """Send one email to `recipient` through the default mailer. Returns False, sending
    nothing, when the user has no address; raises whatever the mail backend raises (the
    caller records it and retries)."""
    address = (getattr(recipient, "email", "") or "").strip()
    if not address:
        return False
    subject, text, html = render_email(template, {"recipient": recipient, **context})
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
    message.attach_alternative(html, "text/html")
    message.send()
    return True
