"""Rows in PostgreSQL's COPY text format, streamed to the database from a second thread.

STACK.md ("Speed at a million cases"): COPY through psycopg 3 in blocks of about 50,000
lines, in text format (backslash, tab and newlines escaped, NULL as `\\N`), with explicit ids
and the sequences set after the load.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
from operator import itemgetter
from typing import Any

from django.db import models

CHUNK_LINES = 50_000
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(value: Any) -> str:
    """One value in COPY's text format: NULL as \\N, backslash, tab and newlines escaped,
    dates in ISO format, lists and dicts (JSON columns) as JSON."""
    kind = type(value)  # the two commonest first: this runs for every value of every row
    if kind is str:
        # Most texts (codes, hashes) need no escape: four scans in C beat a translation.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESCAPES)
        return value
    if kind is int:
        return str(value)
    if value is None:
        return NULL
    if isinstance(value, str):  # a choice (TextChoices member)
        return esc(str.__str__(value))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return esc(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    return str(value)


class Table:
    """A table loaded by COPY: every concrete column of its model, in the model's order.

    A row is a dict of column names and plain values; a column it leaves out gets the
    field's default, so a column added to the model later does not break the load, and a
    name that is no column of the table is refused.
    """

    def __init__(self, model: type[models.Model]) -> None:
        fields = model._meta.concrete_fields
        self.name = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.defaults = {f.column: f.get_default() for f in fields}
        self._in_order = itemgetter(*self.columns)
        self.copy_sql = f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN"
        self.lines: list[str] = []
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        values = self.defaults | row
        if len(values) != len(self.columns):
            raise ValueError(f"{self.name} has no columns {sorted(set(row) - set(self.columns))}")
        self.lines.append("\t".join(map(esc, self._in_order(values))) + "\n")
        self.rows += 1


class Ids:
    """Explicit ids: the next free id of each loaded table (the sequences are set after)."""

    def __init__(self, models_: tuple[type[models.Model], ...]) -> None:
        self.next: dict[type[models.Model], int] = {}
        for model in models_:
            top = model.objects.aggregate(m=models.Max("pk"))["m"] or 0
            self.next[model] = top + 1

    def take(self, model: type[models.Model]) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class CopyWriter:
    """Streams blocks of lines to PostgreSQL with COPY from a second thread, so that the
    simulation (Python, one core) and the load (PostgreSQL, the other core) overlap."""

    def __init__(self, raw_connection) -> None:
        self.raw = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synthetic-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            sql, text = item
            try:
                with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                    copy.write(text)
            except BaseException as exc:  # re-raised in the main thread
                self.error = exc

    def flush(self, table: Table, *, force: bool = False) -> None:
        """Send the table's lines once there are a block's worth (or any, with `force`)."""
        if self.error is not None:
            raise self.error
        if table.lines and (force or len(table.lines) >= CHUNK_LINES):
            self.queue.put((table.copy_sql, "".join(table.lines)))
            table.lines = []

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
