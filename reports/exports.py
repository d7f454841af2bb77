"""CSV and XLSX exports of the lists: the same URL with `?format=csv` or `?format=xlsx`.

A list view describes its table once (a `Table`: a name and its `Column`s) and asks
`export_or_none(request, table, rows)` first: it answers None when no export was asked
for (the view then renders its page), a 400 page for a format it does not know, and else
the file, built from the same rows the page shows (the same filter, the same order), every
page of them.

- Through the one door: the rows come from the view's queryset, which starts from
  `cases.access.visible_applications(user)`. The export is recorded before the first byte
  (`record_export`): one `Export` row and one link per case, written in one statement, and
  the file is then read through those links, so that the cases recorded are exactly the
  cases in the file.
- Constant memory: CSV is streamed (`StreamingHttpResponse`) from a server-side cursor
  (`.iterator(chunk_size=CHUNK)`); XLSX is written row by row by openpyxl's write-only
  workbook into a temporary file, which is then streamed back and removed.
- Discreet: a column that shows a sensitive fact (`cases.sensitive`) writes "[hidden]" while
  administrators list that fact as sensitive; exports offer no reveal.
- Safe: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
  leading `'`, so that a spreadsheet shows it as text instead of running it as a formula;
  CSV is UTF-8 with a byte order mark (Excel then reads Cyrillic and Lithuanian letters);
  headers are translated; dates are written YYYY-MM-DD.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cases import sensitive
from cases.access import client_ip
from cases.labels import person

from .models import Export, ExportedCase

FORMATS = ("csv", "xlsx")
# Rows fetched per round trip from the server-side cursor.
CHUNK = 500
# Query parameters that choose a page or the file, not the rows.
NOT_FILTERS = ("format", "page", "per_page")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Column:
    """One column of an export: its (translated) header, how a row gives its value, and
    the sensitive fact it shows, if any (`cases.models.SensitiveField.Fact`)."""

    header: Any
    value: Callable[[Any], Any]
    fact: str = ""


@dataclass(frozen=True)
class Table:
    """What a list exports: `name` (the file's name and the record's list) and columns."""

    name: str
    columns: tuple[Column, ...]

    def masked(self, hidden: frozenset[str]) -> Table:
        """The table with every column of a hidden sensitive fact writing HIDDEN_TEXT in
        place of a value: an export never carries a fact that the pages hide."""
        return Table(
            self.name,
            tuple(
                Column(
                    c.header,
                    lambda row, c=c: sensitive.shown(c.value(row), c.fact, hidden),
                    c.fact,
                )
                if c.fact in hidden
                else c
                for c in self.columns
            ),
        )


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made plain text with a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _day(value: Any) -> Any:
    """A moment as the local day; days and everything else unchanged."""
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def _csv_text(value: Any) -> str:
    value = neutralise(_day(value))
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _filter_text(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in NOT_FILTERS:
        params.pop(key, None)
    return params.urlencode()[:2000]


def bad_format(request: HttpRequest, value: str) -> HttpResponse:
    return render(
        request,
        "reports/bad_format.html",
        {"value": value[:100], "formats": [f.upper() for f in FORMATS]},
        status=400,
    )


def record_export(
    request: HttpRequest, table: Table, fmt: str, *, cases: QuerySet | None, rows: int = 0
) -> Export:
    """Record the export: who, when, which list and filter, and how many rows. With `cases`
    (a queryset of cases, the list's filter applied), link every one of them to the record
    in one `INSERT ... SELECT`; the record's row count is then the number linked."""
    with transaction.atomic():
        export = Export.objects.create(
            user=request.user,
            list_name=table.name,
            format=fmt,
            query=_filter_text(request),
            rows=rows,
            ip=client_ip(request) or None,
        )
        if cases is not None:
            sql, params = cases.order_by().values("pk").query.sql_with_params()
            link = ExportedCase._meta
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {link.db_table} (export_id, application_id) "  # noqa: S608
                    f"SELECT %s, chosen.* FROM ({sql}) AS chosen",
                    [export.pk, *params],
                )
                export.rows = cursor.rowcount
            export.save(update_fields=["rows"])
    return export


def exported_only(cases: QuerySet, export: Export) -> QuerySet:
    """The cases of `cases` that `export` recorded (its filter and order kept)."""
    return cases.filter(pk__in=ExportedCase.objects.filter(export=export).values("application_id"))


def export_or_none(
    request: HttpRequest,
    table: Table,
    rows: Iterable | QuerySet,
    *,
    cases: QuerySet | None = None,
) -> HttpResponse | None:
    """The export the request asks for (`?format=csv|xlsx`), None when it asks for none.

    `rows`: a queryset of cases (filtered and ordered like the page; recorded and read
    through the export's links) or, for a list that is not of cases, any iterable of rows
    (recorded with its count).
    """
    if "format" not in request.GET:
        return None
    fmt = request.GET.get("format", "")
    if fmt not in FORMATS:
        return bad_format(request, fmt)
    table = table.masked(sensitive.hidden_facts())
    if isinstance(rows, QuerySet):
        export = record_export(request, table, fmt, cases=rows)
        rows = exported_only(rows, export).iterator(chunk_size=CHUNK)
    else:
        rows = list(rows)
        record_export(request, table, fmt, cases=None, rows=len(rows))
    language = translation.get_language()
    filename = f"{table.name}-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(table, rows, language), content_type=CONTENT_TYPES["csv"]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(
        _xlsx_file(table, rows),
        as_attachment=True,
        filename=filename,
        content_type=CONTENT_TYPES["xlsx"],
    )


class _Line:
    """A file-like object for `csv.writer` that hands back what is written."""

    def write(self, text: str) -> str:
        return text


def _csv_lines(table: Table, rows: Iterator, language: str) -> Iterator[bytes]:
    writer = csv.writer(_Line())
    with translation.override(language):
        yield (BOM + writer.writerow([str(c.header) for c in table.columns])).encode("utf-8")
        batch: list[str] = []
        for row in rows:
            batch.append(writer.writerow([_csv_text(c.value(row)) for c in table.columns]))
            if len(batch) >= 500:
                yield "".join(batch).encode("utf-8")
                batch = []
        if batch:
            yield "".join(batch).encode("utf-8")


def _xlsx_value(sheet, value: Any):
    value = neutralise(_day(value))
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str):
        # Control characters are not allowed in the file format.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _xlsx_file(table: Table, rows: Iterator):
    """The workbook, written row by row into a temporary file (removed when closed)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.append([str(c.header) for c in table.columns])
    for row in rows:
        sheet.append([_xlsx_value(sheet, c.value(row)) for c in table.columns])
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by FileResponse
    workbook.save(out)
    out.seek(0)
    return out


def case_exports(application_id: int, limit: int) -> list[dict[str, Any]]:
    """The exports that contained the case, newest first, as access log rows."""
    exports = (
        Export.objects.filter(cases__application_id=application_id)
        .select_related("user")
        .order_by("-at", "-pk")[:limit]
    )
    rows = []
    for export in exports:
        what = _("Exported in a list (%(format)s, %(rows)s rows: %(list)s)") % {
            "format": export.get_format_display(),
            "rows": export.rows,
            "list": f"{export.list_name}?{export.query}" if export.query else export.list_name,
        }
        rows.append(
            {"at": export.at, "actor": person(export.user), "what": what, "ip": export.ip or ""}
        )
    return rows
