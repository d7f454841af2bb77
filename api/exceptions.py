"""Every API error is JSON: `{"detail": "...", "errors": {field: ["..."]}}`.

DRF's own errors, Django's 404 and validation errors, the workflow's refusals (403 with the
reason, 409 when the case changed) and the 404/500 of any URL under /api/ all take this one
shape, in the request's language.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cases.workflow import WorkflowError

logger = logging.getLogger("haven.api")


def error_body(detail, errors: dict | None = None) -> dict:
    return {"detail": str(detail), "errors": errors or {}}


def field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as {field: [messages]} ("non_field_errors" for the rest)."""
    if hasattr(error, "error_dict"):
        return {
            (field if field != "__all__" else "non_field_errors"): [str(m) for m in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _flatten(data) -> dict[str, list[str]]:
    """DRF's validation data ({field: [..]} or [..], nested for nested fields) as
    {field: [messages]}."""
    if isinstance(data, dict):
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    out[f"{key}.{sub}"] = messages
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(data, list):
        return {"non_field_errors": [str(v) for v in data]}
    return {"non_field_errors": [str(data)]}


def exception_handler(exc, context):
    if isinstance(exc, WorkflowError):
        return Response(error_body(exc.message), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            error_body(_("The request has errors."), field_errors(exc)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handler answers (JSON under /api/)
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(_("The request has errors."), _flatten(exc.detail))
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = error_body(detail or _("The request failed."))
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """Django's 404 (no URL matched, or Http404 outside DRF): JSON under /api/."""
    if _is_api(request):
        return JsonResponse(error_body(_("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body(_("Something went wrong on our side.")), status=500)
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(_("The request is malformed.")), status=400)
    return defaults.bad_request(request, exception)


def forbidden(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(_("You may not do this.")), status=403)
    return defaults.permission_denied(request, exception)
