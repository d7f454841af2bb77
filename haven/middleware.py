"""Project middleware."""

from __future__ import annotations

from django.db import connection
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
