"""Log lines that can be followed across processes: a request id on each, and the user's id.

`RequestIdMiddleware` takes the request id from an incoming `X-Request-ID` when it is
well-formed (a load balancer or proxy set it) or makes one, returns it in the response's
`X-Request-ID`, and logs one line per request (method, path without its query, status,
duration; `/health/` and `/metrics` are not logged: they are called every few seconds).
`RequestContext`, a logging filter, puts `request_id` and `user_id` on every record of the
process (never a name: ids only). A task published while a request is handled carries both
in its message headers (`before_task_publish`), and the worker that runs it logs with them
(`task_prerun`), so one id follows a request into the tasks it started.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.utils.functional import empty

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADERS = ("haven_request_id", "haven_user_id")
# Ids from outside are believed only when they look like one (UUIDs, hex, trace ids).
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
QUIET_PATHS = ("/health/", "/metrics")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)
_request: contextvars.ContextVar[object | None] = contextvars.ContextVar("request", default=None)

log = logging.getLogger("haven.requests")


def current_user_id() -> int | None:
    """The signed-in user's id: the request's, once authentication has loaded it (reading
    it never runs a query from inside logging), or the one a task was started with."""
    request = _request.get()
    if request is not None:
        user = request.__dict__.get("user")
        wrapped = getattr(user, "_wrapped", user)
        if wrapped is not None and wrapped is not empty and wrapped.is_authenticated:
            return wrapped.pk
        return None
    return user_id.get()


class RequestContext(logging.Filter):
    """Adds `request_id` and `user_id` to every record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = current_user_id()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = rid
        tokens = (request_id.set(rid), _request.set(request))
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            if not request.path.startswith(QUIET_PATHS):
                log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            request_id.reset(tokens[0])
            _request.reset(tokens[1])


@before_task_publish.connect
def _carry_into_task(headers=None, **kwargs) -> None:
    if headers is not None and request_id.get() is not None:
        headers["haven_request_id"] = request_id.get()
        headers["haven_user_id"] = current_user_id()


_task_tokens: dict[str, tuple] = {}


@task_prerun.connect
def _restore_in_task(task_id=None, task=None, **kwargs) -> None:
    if task is None or task.request.is_eager:
        return  # run inside the request itself: its context is already there
    _task_tokens[task_id] = (
        request_id.set(task.request.get("haven_request_id")),
        user_id.set(task.request.get("haven_user_id")),
        _request.set(None),
    )


@task_postrun.connect
def _forget_after_task(task_id=None, **kwargs) -> None:
    tokens = _task_tokens.pop(task_id, None)
    if tokens:
        request_id.reset(tokens[0])
        user_id.reset(tokens[1])
        _request.reset(tokens[2])


@setup_logging.connect
def _configure_celery_logging(**kwargs) -> None:
    """Workers and beat log through the settings' LOGGING (JSON lines, LOG_LEVEL) instead of
    Celery's own format and `--loglevel`."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
