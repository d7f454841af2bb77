"""A case's notes and documents: adding them, and downloading a document after the access
check.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import access, forms, workflow
from ..models import Document
from .common import _form_case, _submit


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = _form_case(user, pk)
    form = forms.NoteForm(request.POST)
    return _submit(
        request,
        case,
        form,
        lambda: workflow.add_note(case.pk, actor=user, text=form.cleaned_data["text"]),
        done=_("The note is added."),
        next_url=reverse("cases:detail", args=[case.pk]) + "#notes",
        page={
            "title": _("Add a note: %(ref)s") % {"ref": case.reference},
            "action_url": reverse("cases:add_note", args=[case.pk]),
            "submit_label": _("Add note"),
        },
    )


@login_required
@require_POST
def add_document(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = _form_case(user, pk)
    form = forms.DocumentForm(request.POST, request.FILES)
    return _submit(
        request,
        case,
        form,
        lambda: workflow.add_document(
            case.pk,
            actor=user,
            file=form.cleaned_data["file"],
            original_name=form.cleaned_data["file"].name,
            description=form.cleaned_data["description"],
            kind=form.cleaned_data["kind"] or Document.Kind.OTHER,
            title=form.cleaned_data["title"],
        ),
        done=_("The document is added."),
        next_url=reverse("cases:detail", args=[case.pk]) + "#documents",
        page={
            "title": _("Add a document: %(ref)s") % {"ref": case.reference},
            "action_url": reverse("cases:add_document", args=[case.pk]),
            "submit_label": _("Upload"),
            "multipart": True,
        },
    )


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A case document, served as an attachment with its stored content type, after the
    access check; the download is logged on the case's access log."""
    case = access.get_application_for_user(request.user, pk)
    return access.document_download(request, case, document_pk)
