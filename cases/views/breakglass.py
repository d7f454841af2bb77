"""Emergency ("break-glass") access: asking for it, and a decision-maker extending it.

The page that asks for a reason is reached from the header's search: an exact reference of
another unit's case answers "not in your unit: request emergency access" with a link here
that carries the reference. Without the reference that belongs to the case, this URL answers
404 as for a missing case, so that a case's id alone reveals nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, forms, workflow
from ..filters import clean_query
from ..models import Application
from .common import _refused, int_or_none


def break_glass_url(case: Application) -> str:
    return f"{reverse('cases:break_glass', args=[case.pk])}?reference={case.reference}"


def _readable(user, pk: int) -> Application | None:
    try:
        return access.get_application_for_user(user, pk)
    except Http404:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the page asking why (with `?reference=`); POST: open the case for
    BREAK_GLASS_HOURS through `workflow.open_break_glass`, then show it."""
    user = request.user
    if _readable(user, pk) is not None:  # their own unit's, or already open to them
        return redirect("cases:detail", pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    reference = clean_query(data.get("reference")).strip().upper()
    case = access.emergency_candidate(user, reference)
    if case is None or case.pk != pk:
        raise Http404
    form = forms.BreakGlassForm(
        request.POST if request.method == "POST" else None,
        initial={"reference": case.reference},
        auto_id="break_glass_%s",
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                grant = workflow.open_break_glass(
                    case, actor=user, reason=form.cleaned_data["reason"]
                )
            except workflow.WorkflowError as exc:
                return _refused(request, None, exc)
            except ValidationError as exc:
                forms.attach_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Emergency access to %(ref)s is open until %(until)s, read-only. "
                        "Its unit's decision-makers have been told."
                    )
                    % {
                        "ref": case.reference,
                        "until": timezone.localtime(grant.ends_at).strftime("%Y-%m-%d %H:%M"),
                    },
                )
                return redirect("cases:detail", pk=case.pk)
        status = 400
    return render(
        request,
        "cases/break_glass.html",
        {
            "case": case,
            "form": form,
            "hours": settings.BREAK_GLASS_HOURS,
            "action_url": reverse("cases:break_glass", args=[case.pk]),
        },
        status=status,
    )


@login_required
@require_POST
def extend_break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    """A decision-maker of the case's unit lets an emergency access holder work on the case
    (`workflow.extend_break_glass`) until the access ends."""
    user = request.user
    case = access.get_application_for_user(user, pk)
    back = reverse("cases:detail", args=[case.pk]) + "#emergency-access"
    grant_pk = int_or_none(request.POST.get("grant", ""))
    grant = case.break_glass_grants.filter(pk=grant_pk).first() if grant_pk else None
    if grant is None:
        messages.error(request, _("Choose the emergency access to extend."))
        return redirect(back)
    try:
        workflow.extend_break_glass(grant, actor=user, reason=request.POST.get("reason", ""))
    except workflow.WorkflowError as exc:
        return _refused(request, case, exc)
    messages.success(request, _("The emergency access may now be used to work on the case."))
    return redirect(back)


@login_required
@require_POST
def revoke_break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's unit's decision-maker (or an administrator) ends an emergency access before
    its time, with a reason (`workflow.revoke_break_glass`)."""
    user = request.user
    case = access.get_application_for_user(user, pk)
    back = reverse("cases:detail", args=[case.pk]) + "#emergency-access"
    grant_pk = int_or_none(request.POST.get("grant", ""))
    grant = case.break_glass_grants.filter(pk=grant_pk).first() if grant_pk else None
    if grant is None:
        messages.error(request, _("Choose the emergency access to end."))
        return redirect(back)
    try:
        workflow.revoke_break_glass(grant, actor=user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    except workflow.WorkflowError as exc:
        return _refused(request, case, exc)
    messages.success(request, _("The emergency access has ended."))
    return redirect(back)
