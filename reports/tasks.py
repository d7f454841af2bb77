"""Celery tasks of the reports: thin wrappers around `reports.folding`."""

from __future__ import annotations

import logging

from celery import shared_task

from cases.tasks import DATABASE_OPTIONS

from . import folding

log = logging.getLogger(__name__)


@shared_task(name="reports.tasks.catch_up_report_rows", **DATABASE_OPTIONS)
def catch_up_report_rows() -> int:
    """Fold into the report rows the timeline's events that no workflow change folded
    (after downtime or a bulk load). Idempotent and resumable (`folding.catch_up`)."""
    folded = folding.catch_up()
    if folded:
        log.info("report rows caught up", extra={"events": folded})
    return folded
