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
