"""The report table's body, written in Python (`{% figures_rows %}`), is what the template
loop it replaced wrote, in both languages, for every kind of cell."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

# The template loop the tag replaced, as it was.
LOOP = (
    "{% for row in figures.rows %}<tr>{% for cell in row %}{% if forloop.first %}"
    '<th scope="row">{{ cell|date:"Y-m-d"|default:cell }}</th>{% else %}'
    '<td{% if forloop.counter > 2 or report.slug == "stages" or report.slug == "workload" %}'
    ' class="num"{% endif %}>{{ cell|default_if_none:"–" }}</td>{% endif %}{% endfor %}</tr>'
    "{% endfor %}"
)
ROWS = [
    [dt.date(2024, 1, 31), "Pabradė <FRC>", 12, 0, None, 87.5],
    [dt.date(2024, 2, 29), "Rukla & Co", 1234567, 3, 0, 0.25],
    ["Ona Jonaitė", 5, None, 12.0, "<script>alert(1)</script>", ""],
    ["Nobody (unassigned)", 0, 7, -1.5, 3, 2],
]


@pytest.mark.parametrize("slug", ["backlog", "workload", "stages", "occupancy"])
@pytest.mark.parametrize("language", ["en", "lt"])
@pytest.mark.parametrize("grouping", [False, True])
def test_the_tag_writes_what_the_loop_wrote(slug, language, grouping, settings):
    settings.USE_THOUSAND_SEPARATOR = grouping
    context = {"figures": SimpleNamespace(rows=ROWS), "report": SimpleNamespace(slug=slug)}
    with translation.override(language):
        loop = Template(LOOP).render(Context(context))
        tag = Template("{% load figures_table %}{% figures_rows figures report %}").render(
            Context(context)
        )
    assert parse_html(tag) == parse_html(loop)
    assert "<script>" not in tag and "&lt;FRC&gt;" in tag
    if language == "lt":
        assert "87,5" in tag  # local number format, as the template engine writes it
