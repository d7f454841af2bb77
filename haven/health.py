"""`/health/`: whether this web server and what it depends on are up, for a load balancer.

JSON naming each check; HTTP 200 when all pass, 503 naming those that fail. It holds no
personal data (only check names, states, ages in seconds and error class names) and is cheap
enough to call every few seconds: one `SELECT 1`, one Redis ping, one small file written,
read and deleted, two cache reads; whether the migrations are applied is worked out once per
process and then remembered (a process is not migrated backwards under its feet).
"""

from __future__ import annotations

import time
import uuid

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import ops

NOT_USED = "not used"
_migrations_applied = False


class Failed(Exception):
    """A check failed; the message says how, without personal data."""


def check_database() -> dict:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def check_migrations() -> dict:
    global _migrations_applied  # noqa: PLW0603 - remembered per process once true
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise Failed(f"{len(pending)} migrations not applied")
        _migrations_applied = True
    return {}


def check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"state": NOT_USED}
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_storage() -> dict:
    name = default_storage.save(f"health/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as stored:
            if stored.read() != b"ok":
                raise Failed("what was written reads back different")
    finally:
        default_storage.delete(name)
    return {}


def _recent(name: str) -> dict:
    """The age of the heartbeat recorded by beat or a worker; stale after
    HEALTH_HEARTBEAT_STALE_SECONDS."""
    if not settings.REDIS_URL:
        return {"state": NOT_USED}  # tasks run in-process: no beat, no worker
    seen = ops.recorded(name)
    if seen is None:
        raise Failed("never seen")
    age = max(0, int(time.time() - seen))
    if age > settings.HEALTH_HEARTBEAT_STALE_SECONDS:
        raise Failed(f"last seen {age} seconds ago")
    return {"seconds_ago": age}


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "redis": check_redis,
    "storage": check_storage,
    "beat": lambda: _recent(ops.BEAT),
    "worker": lambda: _recent(ops.WORKER),
}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        try:
            result = {"ok": True, **check()}
        except Failed as exc:
            result = {"ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is the answer
            result = {"ok": False, "error": type(exc).__name__}
        results[name] = result
    return results


@login_not_required
@never_cache
@require_GET
def health(request):
    """200 with every check when all pass; 503 with `failing` naming those that do not."""
    checks = run_checks()
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
