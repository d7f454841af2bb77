"""What the processes of a deployment record for the operator: heartbeats and last runs.

Beat, workers and web servers run on different machines, so what one records and another
reports (`/health/`, `/metrics`) lives in the shared cache: Redis when REDIS_URL is set, this
process's memory in the embedded default (where beat and workers do not exist). Each record
is a timestamp (seconds since the epoch) or a small dict; none holds personal data.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

PREFIX = "haven:ops:"
BEAT = "beat"  # beat published its heartbeat task
WORKER = "worker"  # a worker ran the heartbeat task
SWEEP = "sweep"  # {"at": end of the last deadline sweep, "seconds": its duration}
AUDIT = "audit"  # {"at": last chain check, "problems": chains found wrong, "by": what ran it}

HEARTBEAT_TASK = "haven.heartbeat"


def record(name: str, value: Any = None) -> None:
    """Store `value` (the time now when None) under `name`, for every process to read."""
    cache.set(PREFIX + name, time.time() if value is None else value, timeout=None)


def recorded(name: str) -> Any:
    """What was last recorded under `name`, or None. Raises when the cache is unreachable."""
    return cache.get(PREFIX + name)


def record_quietly(name: str, value: Any = None) -> None:
    """`record`, for callers whose own work must not fail because Redis did: the health
    check reports the Redis outage itself."""
    try:
        record(name, value)
    except Exception:  # noqa: BLE001 - any cache client error; /health/ names the outage
        import logging

        logging.getLogger(__name__).warning("Could not record %s in the cache.", name)
