"""The form renderer (`FORM_RENDERER`): Django's own templates, the common ones written in
Python.

Django renders every form through a chain of small templates: the form's `div.html`, a
`field.html` per field, a `label.html`, an error list, a template per widget and one more
per <option> of a select. The case page shows up to a dozen forms in its sidebar and that
chain was a quarter of its time; a country or staff list of hundreds of options cost more
than the rest of the form. This renderer writes the same markup for the same context: the
form in <div>s, a field's group, its label, its errors, the <input>s (text, date, time,
number, e-mail, hidden, checkbox, ...), <textarea> and <select>, each value escaped and
formatted as the template engine writes it. Any other template (a widget with its own
template, radio buttons, the admin's widgets) goes to Django's templates unchanged.
`tests/test_form_rendering.py` renders every form of Haven both ways and compares them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

WIDGETS = "django/forms/widgets/"
# The widget templates that are `{% include "django/forms/widgets/input.html" %}` only.
INPUTS = frozenset(
    WIDGETS + name
    for name in (
        "input.html",
        "text.html",
        "date.html",
        "datetime.html",
        "time.html",
        "number.html",
        "email.html",
        "url.html",
        "tel.html",
        "search.html",
        "password.html",
        "hidden.html",
        "color.html",
        "checkbox.html",
        "file.html",
    )
)
OPTION = WIDGETS + "select_option.html"
# Radio buttons and checkboxes of a choice (`{% include ".../input_option.html" %}`).
INPUT_OPTIONS = frozenset(
    {WIDGETS + "input_option.html", WIDGETS + "radio_option.html", WIDGETS + "checkbox_option.html"}
)


def _out(value: Any) -> str:
    """`{{ value }}`: as the template engine writes a variable (local formats, escaped).
    A plain string (most values) goes straight to the standard library's escape, which
    Django's calls."""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, str):
        return conditional_escape(value)
    return conditional_escape(localize(template_localtime(value)))


def _s(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` (a filter that keeps a safe value safe)."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/attrs.html and widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_out(name)}" if value is True else f' {_out(name)}="{_s(value)}"')
    return "".join(parts)


def _input(context: dict[str, Any]) -> str:
    widget = context["widget"]
    value = widget["value"]
    shown = f' value="{_s(value)}"' if value is not None else ""
    return (
        f'<input type="{_out(widget["type"])}" name="{_out(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _textarea(context: dict[str, Any]) -> str:
    widget = context["widget"]
    value = widget["value"]
    return (
        f'<textarea name="{_out(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_out(value) if value else ''}</textarea>"
    )


def _option(option: dict[str, Any]) -> str:
    value, attrs, label = _s(option["value"]), _attrs(option["attrs"]), _out(option["label"])
    return f'<option value="{value}"{attrs}>{label}</option>'


def _options(
    widget: dict[str, Any],
    templates: frozenset[str],
    option: Callable[[dict[str, Any]], str],
    group: tuple[str, str],
) -> str | None:
    """The options of a choice widget, in their groups (`group`: the markup before a
    group's label and after its options); None if an option has a template of its own."""
    parts = []
    for name, options, _index in widget["optgroups"]:
        if name:
            parts.append(group[0].format(label=_out(name)))
        for each in options:
            if each["template_name"] not in templates:
                return None
            parts.append(option(each))
        if name:
            parts.append(group[1])
    return "".join(parts)


def _select(context: dict[str, Any]) -> str | None:
    widget = context["widget"]
    options = _options(
        widget,
        frozenset({OPTION}),
        lambda option: f"\n  {_option(option)}",
        ('\n  <optgroup label="{label}">', "\n  </optgroup>"),
    )
    if options is None:
        return None
    return f'<select name="{_out(widget["name"])}"{_attrs(widget["attrs"])}>{options}\n</select>'


def _input_option(option: dict[str, Any]) -> str:
    field = _input({"widget": option})
    if not option["wrap_label"]:
        return field
    id_ = option["attrs"].get("id")
    for_ = f' for="{_out(id_)}"' if id_ else ""
    return f"<label{for_}>{field} {_out(option['label'])}</label>"


def _multiple_input(context: dict[str, Any]) -> str | None:
    widget = context["widget"]
    options = _options(
        widget,
        INPUT_OPTIONS,
        lambda option: f"<div>\n    {_input_option(option)}</div>",
        ("\n  <div><label>{label}</label>", "\n  </div>"),
    )
    if options is None:
        return None
    id_, css = widget["attrs"].get("id"), widget["attrs"].get("class")
    id_ = f' id="{_out(id_)}"' if id_ else ""
    css = f' class="{_out(css)}"' if css else ""
    return f"<div{id_}{css}>{options}\n</div>"


def _label(context: dict[str, Any]) -> str:
    if not context["use_tag"]:
        return _out(context["label"])
    tag = _out(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{_out(context['label'])}</{tag}>"


def _errors(context: dict[str, Any]) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_ = f' id="{_out(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_out(error)}</li>" for error in errors)
    return f'<ul class="{_out(context["error_class"])}"{id_}>{items}</ul>'


def _field(context: dict[str, Any]) -> str:
    field = context["field"]
    parts = []
    if field.use_fieldset:
        described = field.aria_describedby
        described = f' aria-describedby="{_out(described)}"' if described else ""
        parts.append(f"<fieldset{described}>")
        if field.label:
            parts.append(str(field.legend_tag()))
    elif field.label:
        parts.append(str(field.label_tag()))
    if field.help_text:
        id_ = f' id="{_out(field.auto_id)}_helptext"' if field.auto_id else ""
        parts.append(f'<div class="helptext"{id_}>{field.help_text}</div>')  # |safe
    parts.append(str(field.errors))
    parts.append(str(field) + ("</fieldset>" if field.use_fieldset else ""))
    return "\n".join(parts)


def _hidden(hidden_fields) -> str:
    return "".join(str(field) for field in hidden_fields)


def _form_div(context: dict[str, Any]) -> str:
    errors, fields, hidden = context["errors"], context["fields"], context["hidden_fields"]
    parts = [str(errors)]
    if errors and not fields:
        parts.append(f"<div>{_hidden(hidden)}</div>")
    last = len(fields) - 1
    for i, (field, _field_errors) in enumerate(fields):
        classes = field.css_classes()
        classes = f' class="{_out(classes)}"' if classes else ""
        tail = f"\n{_hidden(hidden)}" if i == last else ""
        parts.append(f"<div{classes}>\n{field.as_field_group()}{tail}\n</div>")
    if not fields and not errors:
        parts.append(_hidden(hidden))
    return "\n".join(parts)


FAST: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **dict.fromkeys(INPUTS, _input),
    WIDGETS + "textarea.html": _textarea,
    WIDGETS + "select.html": _select,
    WIDGETS + "multiple_input.html": _multiple_input,
    WIDGETS + "radio.html": _multiple_input,
    WIDGETS + "checkbox_select.html": _multiple_input,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
    "django/forms/field.html": _field,
    "django/forms/div.html": _form_div,
}


class FastTemplates(DjangoTemplates):
    """Django's form renderer, with the templates of `FAST` written in Python."""

    def render(self, template_name, context, request=None):
        fast = FAST.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html.strip()
        return super().render(template_name, context, request=request)
