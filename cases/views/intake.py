"""Registering a new application, with a check for possible duplicates of the applicant."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import roles
from accounts.models import User

from .. import access, forms, workflow
from ..models import Applicant
from ..names import fold_word
from .common import _no_access, _refused, int_or_none


def _may_open_cases(user: User) -> bool:
    return bool(
        user.unit_id
        and (
            user.is_superuser
            or user.has_role(roles.CASEWORKER)
            or user.has_role(roles.DECISION_MAKER)
        )
    )


def _duplicate_key(form: forms.IntakeForm) -> str:
    data = form.cleaned_data
    dob = data.get("date_of_birth")
    return "|".join(
        [
            fold_word(data.get("family_name", "")),
            fold_word(data.get("name_original", "")),
            dob.isoformat() if dob else "",
        ]
    )


def _possible_duplicates(user: User, form: forms.IntakeForm) -> list[dict[str, Any]]:
    """Applicants who may be this person: a similar name in any script (the folded key) or the
    same date of birth. Only applicants with a case the user may see are shown."""
    data = form.cleaned_data
    words = [
        w
        for w in fold_word(f"{data.get('family_name', '')} {data.get('name_original', '')}").split()
        if len(w) >= 3
    ]
    family = fold_word(data.get("family_name", ""))
    condition = Q(pk__in=[])
    if len(family) >= 3:
        condition |= Q(search_key__contains=family)
    for word in words:
        if word != family:
            condition |= Q(search_key__contains=word)
    dob = data.get("date_of_birth")
    if dob:
        condition |= Q(date_of_birth=dob)
    visible_ids = access.visible_applications(user).order_by().values("applicant_id")
    candidates = list(
        Applicant.objects.filter(condition, pk__in=visible_ids)
        .order_by("family_name", "given_names", "pk")
        .prefetch_related(
            Prefetch(
                "applications",
                queryset=access.visible_applications(user).order_by("-submitted_on"),
                to_attr="visible_cases",
            )
        )[:20]
    )
    rows = []
    for applicant in candidates:
        reasons = []
        if any(w in applicant.search_key for w in ([family] if len(family) >= 3 else []) + words):
            reasons.append(_("similar name"))
        if dob and applicant.date_of_birth == dob:
            reasons.append(_("same date of birth"))
        rows.append(
            {
                "pk": applicant.pk,
                "name": applicant.full_name,
                "name_original": applicant.name_original,
                "date_of_birth": applicant.date_of_birth,
                "nationality": applicant.nationality.name if applicant.nationality else "",
                "reasons": ", ".join(str(r) for r in reasons),
                "cases": [
                    {"reference": c.reference, "url": reverse("cases:detail", args=[c.pk])}
                    for c in applicant.visible_cases
                ],
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """Register a new application. Before saving, possible duplicates of the applicant are
    shown; the user links the case to one of them or confirms a new applicant."""
    user = request.user
    if not _may_open_cases(user):
        return _no_access(
            request,
            title=_("You cannot open cases"),
            text=_(
                "Cases are opened by caseworkers and decision-makers of a unit. Administrators "
                "read cases but do not open them. Ask an administrator for a role and a unit."
            ),
        )
    duplicates: list[dict[str, Any]] = []
    checked_key = ""
    choice = ""
    if request.method == "POST":
        form = forms.IntakeForm(request.POST)
        choice = request.POST.get("applicant_choice", "")[:30]
        if form.is_valid():
            key = _duplicate_key(form)
            duplicates = _possible_duplicates(user, form)
            confirmed = request.POST.get("checked_key", "") == key
            if duplicates and not confirmed:
                checked_key = key
                messages.warning(
                    request,
                    _("Possible duplicates found. Check them and choose before saving."),
                )
            elif (
                duplicates
                and choice != "new"
                and int_or_none(choice) not in {d["pk"] for d in duplicates}
            ):
                checked_key = key
                form.add_error(None, _("Choose an existing applicant, or a new applicant."))
            else:
                existing = (
                    Applicant.objects.get(pk=int(choice))
                    if duplicates and choice != "new"
                    else None
                )
                try:
                    case = workflow.intake(
                        actor=user,
                        assign_to_author=form.cleaned_data["assign_to_me"],
                        applicant=existing,
                        applicant_data=None if existing else form.applicant_data(),
                        **form.application_data(),
                        **form.family_data(),
                    )
                except workflow.WorkflowError as exc:
                    return _refused(request, None, exc)
                except ValidationError as exc:
                    forms.attach_errors(form, exc)
                    checked_key = key if duplicates else ""
                else:
                    if existing is None:
                        text = _("Case %(ref)s is registered.") % {"ref": case.reference}
                    else:
                        text = _(
                            "Case %(ref)s is registered and linked to the existing applicant "
                            "%(name)s; their other cases are listed on the case page."
                        ) % {"ref": case.reference, "name": existing.full_name}
                    messages.success(request, text)
                    return redirect("cases:detail", pk=case.pk)
        status = 200 if (duplicates and form.is_valid() and not form.non_field_errors()) else 400
    else:
        form = forms.IntakeForm(initial={"submitted_on": timezone.localdate()})
        status = 200
    return render(
        request,
        "cases/case_intake.html",
        {
            "form": form,
            "duplicates": duplicates if checked_key else [],
            "checked_key": checked_key,
            "choice": choice,
        },
        status=status,
    )
