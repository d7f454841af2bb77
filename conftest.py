"""Checks, before any test runs, that the real PostgreSQL and Redis answer; gives each
pytest-xdist worker a Redis database of its own.

The suite proves Haven against real services; when one is missing it says so in one line and
stops with a non-zero exit code instead of skipping tests. (`make test` starts throwaway
servers when none answer: scripts/with-test-services.)

Under pytest-xdist (`make test` runs `-n auto`) every worker has its own test database
(pytest-django suffixes its name with `_gw0`, `_gw1`, ...) and, from here, its own Redis
database: worker `gwN` uses the number of REDIS_URL plus N. Tests that run a real Celery
worker purge the queue and watch its keys, which must not be another worker's. pytest-django
has loaded the settings before this file is imported, so the URL is changed in the
environment (which subprocesses inherit), in the settings and in the Celery app alike.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit

import pytest


def _answers(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlsplit(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `gwN`: the same server, database number plus N."""
    parsed = urlsplit(url)
    path = parsed.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise pytest.UsageError(f"REDIS_URL={url!r}: the path must be a database number.")
    number = int(path or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parsed._replace(path=f"/{number}"))


def _use_worker_redis() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("REDIS_URL")
    if not worker or not url:
        return
    from django.conf import settings

    from haven.celery import app

    mine = worker_redis_url(url, worker)
    os.environ["REDIS_URL"] = mine
    settings.REDIS_URL = mine
    settings.CELERY_BROKER_URL = mine
    settings.CACHES["default"]["LOCATION"] = mine
    app.conf.broker_url = mine


_use_worker_redis()


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
    _check_redis_database(redis_url)


def _check_redis_database(url: str) -> None:
    """A worker's database number past the server's `databases` setting says so plainly."""
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.ResponseError as exc:
        pytest.exit(
            f"Redis refuses the database of {url} ({exc}): use fewer pytest-xdist workers, "
            "a lower database number in REDIS_URL, or raise the server's `databases`.",
            returncode=3,
        )


@pytest.fixture(scope="session", autouse=True)
def _empty_shared_cache():
    """Each run starts from an empty shared cache (the worker's own Redis database): values
    kept by an earlier run (staff lists, reference names) describe another test database."""
    from django.core.cache import cache

    cache.clear()
