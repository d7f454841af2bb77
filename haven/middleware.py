"""Project middleware."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from pghistory.middleware import HistoryMiddleware as _PgHistoryMiddleware


class HistoryMiddleware(_PgHistoryMiddleware):
    """pghistory's context (who changed a row, through which URL) on PostgreSQL only.

    The context is injected as `set_config(...)` SQL, which SQLite (the embedded default of
    `make run`) does not have; there the history triggers are not installed anyway.
    """

    def __call__(self, request):
        if connection.vendor != "postgresql":
            return self.get_response(request)
        return super().__call__(request)


class SessionIdleMiddleware:
    """Keeps a signed-in session alive while it is in use, writing it at most once per
    SESSION_REFRESH_SECONDS.

    A session ends SESSION_COOKIE_AGE after it was last saved. Django's
    SESSION_SAVE_EVERY_REQUEST would save it on every request: an UPDATE and a commit that
    waits for the disk, on every page. Here a signed-in session is marked (and so saved,
    with a new expiry) only when its last mark is older than the interval, so the idle limit
    holds to within that interval: a workstation left alone signs out between AGE - REFRESH
    and AGE after its last page. Signing in marks it (`mark_sign_in`, connected to
    `user_logged_in` by the accounts app). Sessions without a signed-in user are never
    touched: a stray cookie creates nothing.
    """

    KEY = "_haven_refreshed_at"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if not session.is_empty() and SESSION_KEY in session:
            now = int(time.time())
            last = session.get(self.KEY)
            fresh = isinstance(last, int) and 0 <= now - last < settings.SESSION_REFRESH_SECONDS
            if not fresh:
                session[self.KEY] = now  # modified: SessionMiddleware saves it, expiry anew
                if last is not None:
                    from accounts.sessions import record_use

                    record_use(request)  # the "Sessions" page's last use, at the same pace
        return self.get_response(request)


def mark_sign_in(sender, request, user, **kwargs) -> None:
    """Signing in saves the session: it counts as its first renewal."""
    if request is not None and hasattr(request, "session"):
        request.session[SessionIdleMiddleware.KEY] = int(time.time())


class AdminInputGuardMiddleware:
    """Answers 400 to admin requests carrying input that the Django admin turns into a 500.

    The admin passes list-filter values to the database and date-hierarchy values to
    `datetime()` unchecked, and casts the selected rows of a bulk action to ids unchecked: a
    NUL byte (PostgreSQL refuses it in text), a year that overflows (`?at__year=99999999999`, or
    9999, whose next year does not exist) or `_selected_action=abc` each raise deep inside
    Django. Browsers never send these; crafted requests get a plain 400 instead.
    """

    DATE_PARTS = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        from django.urls import reverse

        if request.path.startswith(reverse("admin:index")) and self._bad(request):
            from django.core.exceptions import BadRequest

            raise BadRequest("Malformed admin request parameters.")
        return self.get_response(request)

    def _bad(self, request) -> bool:
        from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

        params = [*request.GET.lists()]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            params += [*request.POST.lists()]
        for key, values in params:
            if "\x00" in key or any("\x00" in v for v in values):
                return True
            part = key.rpartition("__")[2]
            if part in self.DATE_PARTS and "__" in key:
                low, high = self.DATE_PARTS[part]
                if not all(_int_between(v, low, high) for v in values):
                    return True
            if key == ACTION_CHECKBOX_NAME and not all(
                _int_between(v, 1, 2**63 - 1) for v in values
            ):
                return True
        return False


def _int_between(value: str, low: int, high: int) -> bool:
    value = value.strip()
    return value.isascii() and value.isdigit() and len(value) < 20 and low <= int(value) <= high


logger = logging.getLogger("haven.conflicts")


class ConflictMiddleware:
    """Answers a lock conflict that outlived its retries with 409, never 500.

    `cases.conflicts.retried` runs a lost unit of work again; when every attempt lost (or the
    conflict reached a view outside a workflow verb), the transaction was rolled back whole,
    so nothing is half-written. Pages get the "case changed" page (409); API clients get a
    JSON 503 with `Retry-After`, which tells a program to try again shortly.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from cases.conflicts import is_conflict

        if not isinstance(exception, DatabaseError) or not is_conflict(exception):
            return None
        logger.warning(
            "%s %s: lock conflict after retries: %s",
            request.method,
            request.path,
            str(exception).splitlines()[0] if str(exception) else "",
        )
        message = _(
            "The case changed while you were looking at it, or others were changing it at the "
            "same moment. Nothing was saved; look at the case again and repeat what you did."
        )
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "errors": {}}, status=503)
            response["Retry-After"] = "1"
            return response
        return render(
            request,
            "cases/case_refused.html",
            {"case": None, "message": message, "stale": True},
            status=409,
        )
