"""Revealing a case's sensitive facts: one click (a POST), recorded in the access log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import access, sensitive
from ..models import Application


@login_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the case's hidden facts on the next view of its page, once. Anyone who may read
    the case may reveal them (emergency access included); the access log records who
    revealed which facts (their names, never their values), from where and when."""
    case = access.get_application_for_user(
        request.user, pk, queryset=Application.objects.select_related("applicant")
    )
    facts = sensitive.revealable(case, sensitive.hidden_facts())
    if not facts:
        messages.info(request, _("This case has no hidden facts."))
        return redirect("cases:detail", pk=case.pk)
    access.log_access(case, request.user, request, what="reveal", durable=True, facts=facts)
    sensitive.mark_revealed(request.session, case.pk)
    messages.warning(
        request,
        _("The sensitive facts are shown below and your reveal is recorded; reload to hide them."),
    )
    return redirect(reverse("cases:detail", args=[case.pk]) + "#applicant-heading")
