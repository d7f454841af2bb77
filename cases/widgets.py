"""Form widgets that render without a template per part.

Django renders every <option> of a <select> through its own template. For the few lists
that can be long (a unit's staff, every country, the facilities) that cost more than the
rest of a page: the case page's "Schedule a personal interview" form, whose interviewer
list holds a unit's 200-odd caseworkers, took half of that page's time.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def option_tags(options: Iterable[tuple[str, str, str]], current: str) -> str:
    """`<option>` tags of (value, escaped value, escaped label), the one whose value is
    `current` selected: the markup of Django's option template."""
    return "".join(
        f'<option value="{ev}"{" selected" if v == current else ""}>{el}</option>'
        for v, ev, el in options
    )


class Select(forms.Select):
    """Django's <select>, the same markup (its attributes, option groups, the selected
    option), written in Python."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(widget["name"])}"{flatatt(widget["attrs"])}>']
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(f'<optgroup label="{escape(group)}">')
            parts.extend(
                f'<option value="{escape(str(option["value"]))}"'
                f"{flatatt(option['attrs']) if option['attrs'] else ''}>"
                f"{escape(str(option['label']))}</option>"
                for option in options
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped
