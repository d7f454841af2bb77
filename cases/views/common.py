"""What the caseworker pages share.

Who may use the case pages, the page that explains an empty or refused one, running one
workflow call for a valid form (POST/redirect/GET), the form page around a case, reading a
number from a query, and a deadline written as a row.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User

from .. import access, forms, workflow
from ..labels import data_text, label
from ..models import Application, Deadline, DeadlineRule
from ..rule_defaults import BORDER_FAMILY

# Counts stop past this many rows: exact counts are what grows with the data (STACK.md).
COUNT_CAP = 10_000


# A case page's address, built from one `reverse` per URL configuration and script prefix:
# the lists, the dashboard and the facilities page link every row to its case.
_CASE_URL_MARK = 2**62


@functools.cache
def _case_url_parts(urlconf, prefix: str) -> tuple[str, str]:
    head, tail = reverse("cases:detail", args=[_CASE_URL_MARK]).split(str(_CASE_URL_MARK))
    return head, tail


def case_url(pk: int) -> str:
    """What `reverse("cases:detail", args=[pk])` gives."""
    head, tail = _case_url_parts(get_urlconf(), get_script_prefix())
    return f"{head}{int(pk)}{tail}"


def _may_use_cases(user: User) -> bool:
    """Whether the user has a role that sees cases (else the UI explains why it is empty)."""
    return access.readable_unit(user) is not None


def _no_access(request: HttpRequest, *, title: str | None = None, text: str | None = None):
    return render(
        request,
        "cases/no_access.html",
        {"title": title or _("No cases to show"), "text": text},
    )


def _refused(request: HttpRequest, case: Application | None, error: workflow.WorkflowError):
    """The page for a refused change: 403 (not allowed) or 409 (the case changed)."""
    if case is not None:  # the page names the applicant: a view of the case
        access.log_access(case, request.user, request, what="form")
    return render(
        request,
        "cases/case_refused.html",
        {"case": case, "message": error.message, "stale": error.status_code == 409},
        status=error.status_code,
    )


def _submit(
    request: HttpRequest,
    case: Application,
    form,
    call: Callable[[], Any],
    *,
    done: str | Callable[[Any], str],
    next_url: str | Callable[[Any], str],
    page: dict[str, Any],
) -> HttpResponse:
    """A submitted form: run its one workflow call when the form is valid.

    A refusal answers with its status (403, or 409 when the case changed); success redirects
    with a message (POST/redirect/GET); an invalid form, or input errors the workflow found
    (put beside the form's fields), show the form page (`page`: its title, action...) again
    with 400. `call` and a callable `done` run only for a valid form.
    """
    if form.is_valid():
        try:
            result = call()
        except workflow.WorkflowError as exc:
            return _refused(request, case, exc)
        except ValidationError as exc:
            forms.attach_errors(form, exc)
        else:
            messages.success(request, done(result) if callable(done) else done)
            return redirect(next_url(result) if callable(next_url) else next_url)
    return _form_page(request, case, form, status=400, **page)


def _form_case(user: User, pk: int) -> Application:
    """The case a form is about, through the one door, with what the form page's header
    names (the applicant, the unit)."""
    return access.get_application_for_user(
        user, pk, queryset=Application.objects.select_related("applicant", "unit")
    )


def _form_page(
    request: HttpRequest,
    case: Application,
    form,
    *,
    title: str,
    action_url: str,
    submit_label: str,
    intro: str = "",
    multipart: bool = False,
    warnings: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    # The page names the applicant above the form: a view of the case, recorded as one.
    access.log_access(case, request.user, request, what="form")
    return render(
        request,
        "cases/case_form.html",
        {
            "case": case,
            "form": form,
            "title": title,
            "intro": intro,
            "action_url": action_url,
            "submit_label": submit_label,
            "multipart": multipart,
            "warnings": warnings or [],
        },
        status=status,
    )


def _positive_int(raw: str | None, default: int) -> int:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10:
        return int(raw)
    return default


def int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _safe_link(link: str) -> str:
    """Notification links are paths inside Haven; anything else is not made a link."""
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return ""


def _days_text(deadline_due_on: dt.date, overdue: bool, today: dt.date) -> str:
    """'3 days left', 'due today', 'overdue by 2 days'."""
    days = (deadline_due_on - today).days
    if overdue or days < 0:
        if days >= 0:
            return _("overdue")
        return ngettext("overdue by %(n)d day", "overdue by %(n)d days", -days) % {"n": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}


def _entitlement_text(deadline: Deadline) -> str:
    """What a running entitlement says: the right to work as "may work from <date>"."""
    day = deadline.due_on.isoformat()
    if deadline.rule.family_name.startswith("right-to-work"):
        return _("may work from %(date)s") % {"date": day}
    return _("applies from %(date)s") % {"date": day}


def _rule_set_text(deadline: Deadline) -> str:
    """Which of the case's dates chose the deadline's rule (the national rules, the APR,
    the AMMR), e.g. "rule chosen by the date the application was made: 2026-06-19"."""
    if not deadline.rule_set_key or deadline.rule_set_date is None:
        return ""
    return _("rule chosen by %(key)s: %(date)s") % {
        "key": label(DeadlineRule.KeyDate, deadline.rule_set_key),
        "date": deadline.rule_set_date.isoformat(),
    }


# What a deadline's row reads of its rule, for `only()` beside `select_related("rule")`: a
# rule's description and legal text are most of its width, and no row shows them.
RULE_FIELDS_SHOWN = ("rule__code", "rule__name", "rule__unit", "rule__kind", "rule__family")


def _deadline_row(deadline: Deadline, now: dt.datetime, today: dt.date) -> dict[str, Any]:
    """A deadline as the pages show it. On a case recorded after the fact
    (`Application.recorded_as_of`) an open clock says what was due, not that it is overdue."""
    is_open = deadline.status == Deadline.Status.OPEN
    overdue = deadline.is_overdue(now)
    as_of = deadline.application.recorded_as_of
    entitlement = deadline.rule.is_entitlement
    status_label = label(Deadline.Status, deadline.status)
    if deadline.status == Deadline.Status.ENTITLEMENT:
        # An entitlement is a start date, never a limit that runs out.
        days_text = _entitlement_text(deadline)
    elif is_open and as_of is not None:
        days_text = _("unknown after %(date)s") % {"date": as_of.isoformat()}
    elif is_open:
        days_text = _days_text(deadline.due_on, overdue, today)
    else:
        days_text = ""
    if entitlement and deadline.status == Deadline.Status.MET:
        status_label = _("began on %(date)s") % {"date": deadline.due_on.isoformat()}
    elif entitlement and deadline.status == Deadline.Status.CANCELLED:
        status_label = _("never began (decided or ended first)")
    return {
        "pk": deadline.pk,
        "name": data_text(deadline.rule.name),
        "legal_source": data_text(deadline.legal_reference),
        "due_on": deadline.due_on,
        "due_at": deadline.due_at,
        "hours": deadline.rule.unit == DeadlineRule.TimeUnit.HOURS,
        "status": deadline.status,
        "status_label": status_label,
        "entitlement": entitlement,
        "rule_set": _rule_set_text(deadline),
        "is_open": is_open or deadline.status == Deadline.Status.ENTITLEMENT,
        "overdue": overdue,
        "days_text": days_text,
        "historical": is_open and as_of is not None,
        "waive_reason": deadline.waive_reason,
        "closed_at": deadline.closed_at,
    }


def _late_text(deadline: Deadline, at: dt.datetime) -> str:
    """How late a limit was met, or is: in hours for hour limits, else in days."""
    if deadline.rule.unit == DeadlineRule.TimeUnit.HOURS:
        hours = max(1, int((at - deadline.due_at).total_seconds() // 3600))
        return ngettext("%(n)d hour late", "%(n)d hours late", hours) % {"n": hours}
    days = max(1, (timezone.localdate(at) - deadline.due_on).days)
    return ngettext("%(n)d day late", "%(n)d days late", days) % {"n": days}


def _consequence(deadline: Deadline) -> str:
    """What follows in law when the limit runs out, appended to its line: the border
    procedure's limit passed means the applicant must be let in (APD Art. 43(2), APR
    Art. 51(2))."""
    if deadline.rule.family_name == BORDER_FAMILY:
        return "; " + _("entry into the territory must be allowed")
    return ""


def limits_missed(deadlines: list[Deadline], now: dt.datetime) -> list[dict[str, Any]]:
    """The statutory limits a case missed (closed late) or is missing now (open and past
    due), oldest due first: the case page's summary and the decide form's warning."""
    rows = []
    for deadline in sorted(deadlines, key=lambda d: d.due_at):
        if deadline.status == Deadline.Status.MISSED and deadline.closed_at:
            rows.append(
                {
                    "name": data_text(deadline.rule.name),
                    "legal_source": data_text(deadline.legal_reference),
                    "due_on": deadline.due_on,
                    "open": False,
                    "text": _("missed: due %(due)s, met %(met)s (%(late)s)")
                    % {
                        "due": deadline.due_on.isoformat(),
                        "met": timezone.localdate(deadline.closed_at).isoformat(),
                        "late": _late_text(deadline, deadline.closed_at),
                    }
                    + _consequence(deadline),
                }
            )
        elif deadline.is_overdue(now):
            rows.append(
                {
                    "name": data_text(deadline.rule.name),
                    "legal_source": data_text(deadline.legal_reference),
                    "due_on": deadline.due_on,
                    "open": True,
                    "text": _("overdue: due %(due)s, still open (%(late)s)")
                    % {"due": deadline.due_on.isoformat(), "late": _late_text(deadline, now)}
                    + _consequence(deadline),
                }
            )
    return rows
