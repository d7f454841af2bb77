"""Checks, before any test runs, that the real PostgreSQL and Redis answer.

The suite proves Haven against real services; when one is missing it says so in one line and
stops with a non-zero exit code instead of skipping tests.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest


def _answers(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        pytest.exit("Tests need PostgreSQL: set DATABASE_URL=postgres://...", returncode=3)
    ok, where = _answers(
        f"postgres://{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}", 5432
    )
    if not ok:
        pytest.exit(f"PostgreSQL is not answering at {where} (DATABASE_URL).", returncode=3)
    redis_url = os.environ.get("REDIS_URL", "")
    ok, where = _answers(redis_url, 6379)
    if not redis_url or not ok:
        pytest.exit(f"Redis is not answering at {where or '?'} (REDIS_URL).", returncode=3)
