"""`{% figures_rows figures report %}`: the body of a report's table.

The same markup as a template loop over rows and cells, written in Python: the workload
report has a row per assignee (about 1,900 in the largest unit of a 1,000,000-case
database), and the template's per-cell work took more time than computing the figures.
Each value is written as the template engine writes it (`render_value_in_context`: local
number formats, escaped).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Reports whose second column is a figure too (the first is always the row's name or day).
NUMERIC_FROM_SECOND = frozenset({"stages", "workload"})


@register.simple_tag(takes_context=True)
def figures_rows(context, figures, report) -> SafeString:
    numeric_from = 1 if report.slug in NUMERIC_FROM_SECOND else 2

    grouping = settings.USE_THOUSAND_SEPARATOR

    def cell(value) -> str:
        if value is None:
            return "–"
        if type(value) is int and not grouping:
            return str(value)  # what `localize` writes for a whole number without grouping
        return render_value_in_context(value, context)

    out = []
    for row in figures.rows:
        if not row:
            out.append("<tr></tr>\n")
            continue
        first = date_filter(row[0], "Y-m-d") or render_value_in_context(row[0], context)
        parts = [f'<tr><th scope="row">{conditional_escape(first)}</th>']
        for i, value in enumerate(row[1:], start=1):
            parts.append(
                f'<td class="num">{cell(value)}</td>'
                if i >= numeric_from
                else f"<td>{cell(value)}</td>"
            )
        parts.append("</tr>\n")
        out.append("".join(parts))
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
