"""The form renderer (`haven.form_rendering.FastTemplates`) writes what Django's own templates
write: every form of Haven, empty, refused with errors and filled with hostile text, renders
to the same HTML both ways (compared as parsed HTML, as a browser reads it)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms as django_forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from accounts.views import CodeForm, LoginForm
from cases import forms
from cases.models import Status
from haven.form_rendering import FastTemplates
from reports import figures
from reports.views import ReportForm

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'quote' =1+1"


def same(fast: str, django_s: str) -> bool:
    """The same HTML: as parsed, and as written but for the layout between tags (so that a
    space a reader sees, say between a radio button and its label, counts)."""
    return parse_html(fast) == parse_html(django_s) and squeeze(fast) == squeeze(django_s)


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def both(build) -> tuple[str, str]:
    """The same form rendered by Django's templates and by the fast renderer."""
    return (
        build(renderer=DjangoTemplates()).render(),
        build(renderer=FastTemplates()).render(),
    )


def hostile_data(form: django_forms.Form) -> dict[str, str]:
    return {form.add_prefix(name): HOSTILE for name in form.fields}


def form_builders(case, unit):
    """(name, a function of `data` and `renderer` building the form) for every form."""
    for name in forms.ACTION_FORMS:
        yield (
            name,
            lambda name=name, **kw: forms.action_form(name, case, auto_id=f"{name}_%s", **kw),
        )
    for name, form_class in forms.TRANSITION_FORMS.items():
        yield name, lambda form_class=form_class, **kw: form_class(case=case, **kw)
    yield "note", lambda **kw: forms.NoteForm(**kw)
    yield "document", lambda **kw: forms.DocumentForm(**kw)
    yield "break_glass", lambda **kw: forms.BreakGlassForm(**kw)
    yield "assign", lambda **kw: forms.AssignForm(unit_id=unit.pk, **kw)
    yield "bulk_assign", lambda **kw: forms.BulkAssignForm(unit_id=unit.pk, case_ids=[1], **kw)
    yield "intake", lambda **kw: forms.IntakeForm(**kw)
    for report in figures.REPORTS.values():
        yield (
            f"report_{report.slug}",
            lambda report=report, **kw: ReportForm(report=report, all_units=True, **kw),
        )
    yield "login", lambda **kw: LoginForm(**kw)
    yield "code", lambda **kw: CodeForm(**kw)


@pytest.mark.parametrize("language", ["en", "lt"])
def test_every_form_renders_the_same_both_ways(language, build_case, alice, unit):
    case = build_case("detention")
    forms.workflow.schedule_interview(
        case,
        actor=alice,
        scheduled_at=timezone.now() + dt.timedelta(days=7),
        interviewer=alice,
        language="Russian",
    )
    assert case.status == Status.DETENTION
    checked = 0
    with translation.override(language):
        for name, build in form_builders(case, unit):
            django_s, fast = both(build)
            assert same(fast, django_s), f"{name}, empty"
            # Refused: every required field's error, beside it and at the top.
            django_s, fast = both(lambda build=build, **kw: _validated(build(data={}, **kw)))
            assert same(fast, django_s), f"{name}, refused"
            # Hostile text in every field, written back as text.
            data = hostile_data(build())
            django_s, fast = both(
                lambda build=build, data=data, **kw: _validated(build(data=data, **kw))
            )
            assert same(fast, django_s), f"{name}, hostile"
            assert "<script>" not in fast
            checked += 1
    assert checked > 50


def _validated(form):
    form.is_valid()
    return form


def test_haven_renders_its_forms_with_it():
    assert settings.FORM_RENDERER == "haven.form_rendering.FastTemplates"
    assert isinstance(forms.NoteForm().renderer, FastTemplates)


@pytest.mark.parametrize(
    "widget",
    [
        django_forms.TextInput(attrs={"maxlength": 5, "data-x": 0, "hidden": True}),
        django_forms.TextInput(attrs={"title": mark_safe("<b>kept</b>"), "placeholder": "<i>"}),
        django_forms.DateInput(attrs={"type": "date"}),
        django_forms.NumberInput(),
        django_forms.CheckboxInput(),
        django_forms.HiddenInput(),
        django_forms.Textarea(attrs={"rows": 3}),
        django_forms.Select(choices=[("", "—"), (1, "One <1>"), ("G", [(2, 2.5), (3, "Three")])]),
        django_forms.RadioSelect(choices=[("a", "A & B"), ("b", "<b>")]),
        django_forms.RadioSelect(choices=[("Group {x}", [("a", "A")]), ("b", "B")]),
        django_forms.CheckboxSelectMultiple(choices=[("a", "A"), ("b", "B")]),
        django_forms.SelectMultiple(choices=[("a", "A"), ("b", "B")]),
    ],
    ids=lambda w: type(w).__name__,
)
@pytest.mark.parametrize(
    "value", [None, "", "b", ["a", "b"], 2, 3.5, HOSTILE, dt.date(2024, 8, 11)]
)
def test_each_widget_writes_what_its_template_writes(widget, value):
    with translation.override("lt"):  # a decimal comma in localised numbers
        django_s = widget.render("f", value, attrs={"id": "id_f"}, renderer=DjangoTemplates())
        fast = widget.render("f", value, attrs={"id": "id_f"}, renderer=FastTemplates())
    assert same(fast, django_s)
    if isinstance(widget, django_forms.Textarea):
        assert fast.split(">", 1)[1] == django_s.split(">", 1)[1]  # a textarea's text exactly
