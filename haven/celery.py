"""The Celery application. Broker: REDIS_URL; without it tasks run in-process (eager)."""

from __future__ import annotations

import logging
import os

from celery import Celery, bootsteps
from celery.signals import before_task_publish

from . import logs  # noqa: F401 - connects the signals that carry the request id into tasks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")

log = logging.getLogger(__name__)

app = Celery("haven")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEUE_TASK = "cases.tasks.requeue_unsent"


class RequeueOnConnect(bootsteps.StartStopStep):
    """Each time the worker's consumer connects to the broker (at start, and again after it
    lost the connection: Celery restarts the consumer's steps then), enqueue
    `cases.tasks.requeue_unsent`, and once more a grace period later.

    Sends whose enqueue failed while Redis was down are found unsent after the grace period;
    the first run sends those already older than that, the second those that were younger
    when the connection came back, so delivery resumes within the grace period instead of
    waiting for a sweep. The timer entry belongs to this connection: Celery cancels it when
    the connection is lost, and `stop` cancels it at shutdown. The task is sent by name, so
    this module imports nothing from `cases`.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.again = None

    def start(self, parent) -> None:
        from django.conf import settings

        self._send(parent)
        self.again = parent.timer.call_after(settings.REMINDER_GRACE_SECONDS, self._send, (parent,))

    def stop(self, parent) -> None:
        if self.again is not None:
            self.again.cancel()
            self.again = None

    shutdown = stop

    def _send(self, parent) -> None:
        try:
            parent.app.send_task(REQUEUE_TASK)
        except Exception:  # noqa: BLE001 - the next connection or sweep does it again
            log.warning("Could not enqueue %s; the next sweep re-sends.", REQUEUE_TASK)


app.steps["consumer"].add(RequeueOnConnect)


@app.task(name="haven.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat sends this every HEARTBEAT_SECONDS; the worker that runs it records that a worker
    is taking tasks (`/health/` reports both ages)."""
    from . import ops

    ops.record_quietly(ops.WORKER)


@before_task_publish.connect
def _beat_heartbeat(sender=None, **kwargs) -> None:
    """Publishing the heartbeat task (only beat does) records that beat is alive."""
    if sender == "haven.heartbeat":
        from . import ops

        ops.record_quietly(ops.BEAT)
