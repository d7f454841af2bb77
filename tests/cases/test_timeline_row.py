"""A timeline entry written by `{% timeline_row %}`, and the whole list written by
`{% timeline_items %}`, are what the templates they replaced wrote, for every entry of a real
case (each kind of event, a reason and a note with markup and line breaks, Haven's
consequences under the action that caused them), in both languages."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation

from cases import workflow

pytestmark = pytest.mark.django_db

# cases/_timeline_row.html as it was, included once per entry.
OLD = '{% load i18n haven %}<div class="timeline__meta"><time datetime="{{ row.at|stamp:"iso" }}">{% if row.day_only %}{{ row.at|stamp:"day" }}{% else %}{{ row.at|stamp }}{% endif %}</time>{% if row.recorded_at %} <span class="muted">({% translate "recorded" %} {{ row.recorded_at|stamp }})</span>{% endif %} · <span class="timeline__by">{{ row.actor }}{% if row.because %}, {{ row.because }}{% endif %}</span> · <span class="muted">{{ row.kind_label }}</span></div>\n<div class="timeline__title">{{ row.title }}</div>\n{% if row.details %}<div class="timeline__details">{{ row.details }}</div>{% endif %}\n{% if row.link %}<div><a href="{{ row.link }}">{{ row.link_text }}</a></div>{% endif %}\n{% if row.text %}<div class="timeline__text">{{ row.text|linebreaksbr }}</div>{% endif %}\n{% if row.reason %}<div class="timeline__reason"><span class="muted">{% translate "Reason" %}:</span> {{ row.reason|linebreaksbr }}</div>{% endif %}\n'  # noqa: E501 - verbatim

HOSTILE = '<script>alert("x")</script> & line one\nline two'


@pytest.fixture
def response(client, build_case, alice):
    """The whole timeline of an appealed case with a note of markup and line breaks."""
    case = build_case("appealed")
    workflow.add_note(case, actor=alice, text=HOSTILE)
    client.force_login(alice)
    return client.get(reverse("cases:detail", args=[case.pk]), {"all": "1"})


@pytest.mark.parametrize("language", ["en", "lt"])
def test_each_entry_is_written_as_the_template_wrote_it(language, response):
    # Rendered here in `language` (the request activated the user's own).
    with translation.override(language):
        rows = [
            r for row in response.context["timeline"] for r in (row, *row.get("system_rows", []))
        ]
        assert len(rows) > 10 and any(r["reason"] for r in rows) and any(r["text"] for r in rows)
        for row in rows:
            old = Template(OLD).render(Context({"row": row}))
            new = Template("{% load haven %}{% timeline_row row %}").render(Context({"row": row}))
            assert parse_html(new) == parse_html(old), row["kind"]
    page = response.content.decode()
    assert "<script>alert" not in page and "line one<br>line two" in page


# The case page's loop over the entries as it was (templates/cases/case_detail.html).
OLD_ITEMS = """{% load i18n haven %}{% for row in timeline %}
  <li class="timeline__item timeline__item--{{ row.kind }}{% if row.system %} timeline__item--system{% endif %}" id="event-{{ row.id }}">
    {% timeline_row row %}
    {% if row.system_rows %}
    <ul class="timeline__consequences" aria-label="{% translate 'What Haven did as a result' %}">
      {% for row in row.system_rows %}
      <li class="timeline__item timeline__item--{{ row.kind }} timeline__item--system" id="event-{{ row.id }}">{% timeline_row row %}</li>
      {% endfor %}
    </ul>
    {% endif %}
  </li>
{% endfor %}"""  # noqa: E501 - verbatim


@pytest.mark.parametrize("language", ["en", "lt"])
def test_the_entries_are_listed_as_the_template_listed_them(language, response):
    with translation.override(language):
        timeline = response.context["timeline"]
        assert any(row["system_rows"] for row in timeline)
        context = Context({"timeline": timeline})
        old = Template(OLD_ITEMS).render(context)
        new = Template("{% load haven %}{% timeline_items timeline %}").render(context)
        assert parse_html(new) == parse_html(old)
    label = {"en": "What Haven did as a result", "lt": "Ką Haven atliko dėl šio veiksmo"}
    assert f'aria-label="{label[language]}"' in new
