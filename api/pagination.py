"""Cursor pages of the case list in any of the case list's sort orders.

DRF's `CursorPagination` keeps only the first ordering column in its cursor and counts an
offset past rows that tie on it, and it cannot order by a nullable column: thousands of cases
made on one day, or without an open deadline, would make its pages slow or wrong. Here the
cursor holds the values of every column of the sort order (the last one is always the id), and
the next page is the rows strictly after them in that order (a keyset), so a page costs the
same at any depth and no row is skipped or repeated while cases are added.

The sort orders are the case list's own (`cases.filters.SORT_ORDERS`), read as keys: a column,
its direction, and where its NULLs go. NULL compares as larger than any value when it sorts
last in ascending order (PostgreSQL's default), smaller otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, OrderBy, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cases.filters import DEFAULT_SORT, SORT_ORDERS
from cases.models import Application

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Key:
    """One column of a sort order."""

    path: str  # as in order_by(): "submitted_on", "applicant__family_name"
    descending: bool
    nulls_largest: bool  # NULL sorts after every value in ascending order

    def ordering(self, *, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        # Spelled out, but the same as PostgreSQL's defaults for nulls_largest (ASC NULLS LAST,
        # DESC NULLS FIRST), so the case list's indexes serve these orders too.
        if descending:
            if self.nulls_largest:
                return F(self.path).desc(nulls_first=True)
            return F(self.path).desc(nulls_last=True)
        if self.nulls_largest:
            return F(self.path).asc(nulls_last=True)
        return F(self.path).asc(nulls_first=True)

    def after(self, value: Any, *, reverse: bool = False) -> Q:
        """Rows that come strictly after `value` in this key's order (before, `reverse`)."""
        larger = self.descending == reverse  # the rows after are the larger ones
        null = Q(**{f"{self.path}__isnull": True})
        not_null = Q(**{f"{self.path}__isnull": False})
        if value is None:
            # NULL is the largest (or smallest) value: after it come either no rows or every
            # row with a value.
            return Q(pk__in=[]) if larger == self.nulls_largest else not_null
        compared = Q(**{f"{self.path}__{'gt' if larger else 'lt'}": value})
        return compared | null if larger == self.nulls_largest else compared

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})

    def value_of(self, row: Model) -> Any:
        value: Any = row
        for part in self.path.split("__"):
            value = getattr(value, part)
        return value

    def field(self):
        model, field = Application, None
        for part in self.path.split("__"):
            field = model._meta.get_field(part)
            model = field.related_model or model
        return field


def keys_of(order: Sequence[str | OrderBy]) -> list[Key]:
    """A sort order of `SORT_ORDERS` as keys, ended by the id when it is not already."""
    keys = []
    for item in order:
        if isinstance(item, OrderBy):
            descending = item.descending
            if item.nulls_first:
                nulls_largest = descending
            elif item.nulls_last:
                nulls_largest = not descending
            else:
                nulls_largest = True
            keys.append(Key(item.expression.name, descending, nulls_largest))
        else:
            keys.append(Key(item.removeprefix("-"), item.startswith("-"), True))
    if keys[-1].path not in ("id", "pk"):
        keys.append(Key("id", False, True))
    return keys


SORT_KEYS = {name: keys_of(order) for name, order in SORT_ORDERS.items()}


def _text(value: Any) -> Any:
    if value is None or isinstance(value, int | str):
        return value
    return value.isoformat()  # a date or an aware datetime


class CasePagination:
    """Pages of `queryset` in the sort order `sort`; `cursor` and `page_size` from the
    request's query. An unknown, damaged or other order's cursor is a 400 naming `cursor`."""

    def __init__(self, request, *, sort: str | None) -> None:
        self.request = request
        self.sort = sort or DEFAULT_SORT
        self.keys = SORT_KEYS[self.sort]
        self.page_size = self._page_size(request.query_params.get("page_size"))
        self.position, self.reverse = self._decode(request.query_params.get("cursor"))

    @staticmethod
    def _page_size(raw: str | None) -> int:
        if raw and raw.isascii() and raw.isdigit() and int(raw) > 0:
            return min(int(raw), MAX_PAGE_SIZE)
        return PAGE_SIZE

    def _decode(self, raw: str | None) -> tuple[list[Any] | None, bool]:
        if not raw:
            return None, False
        refused = exceptions.ValidationError(
            {"cursor": [_("This cursor is not valid for this list: start from the first page.")]}
        )
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            sort, values, reverse = data["s"], data["v"], data["r"]
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
            raise refused from None
        if (
            sort != self.sort
            or not isinstance(values, list)
            or len(values) != len(self.keys)
            or not isinstance(reverse, bool)
        ):
            raise refused
        position = []
        for key, value in zip(self.keys, values, strict=True):
            if value is not None and not isinstance(value, int | str):
                raise refused
            try:
                position.append(None if value is None else key.field().to_python(value))
            except DjangoValidationError:
                raise refused from None
        return position, reverse

    def _encode(self, row: Model, *, reverse: bool) -> str:
        values = [_text(key.value_of(row)) for key in self.keys]
        data = json.dumps({"s": self.sort, "v": values, "r": reverse}, separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode("ascii")

    def _beyond(self, position: list[Any], *, reverse: bool) -> Q:
        """Rows strictly after `position` in the sort order (before it, `reverse`)."""
        beyond = Q(pk__in=[])
        ties = Q()
        for key, value in zip(self.keys, position, strict=True):
            beyond |= ties & key.after(value, reverse=reverse)
            ties &= key.equal(value)
        first, value = self.keys[0], position[0]
        if value is not None and not first.field().null:
            # The same rows, with a bound on the first column that an index can use.
            lookup = "gte" if first.descending == reverse else "lte"
            beyond &= Q(**{f"{first.path}__{lookup}": value})
        return beyond

    def paginate(self, queryset: QuerySet) -> list[Model]:
        reverse = self.reverse
        if self.position is not None:
            queryset = queryset.filter(self._beyond(self.position, reverse=reverse))
        ordered = queryset.order_by(*(key.ordering(reverse=reverse) for key in self.keys))
        rows = list(ordered[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
            self.has_previous, self.has_next = more, self.position is not None
        else:
            self.has_next, self.has_previous = more, self.position is not None
        self.rows = rows
        return rows

    def _link(self, cursor: str) -> str:
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)

    def response(self, results) -> Response:
        next_link = previous_link = None
        if self.rows and self.has_next:
            next_link = self._link(self._encode(self.rows[-1], reverse=False))
        if self.rows and self.has_previous:
            previous_link = self._link(self._encode(self.rows[0], reverse=True))
        return Response({"next": next_link, "previous": previous_link, "results": results})
