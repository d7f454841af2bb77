"""The pages' fast paths write exactly what Django's slower ones do: `|stamp` as `|date` with
the UI's formats, `labels.label` as `get_FOO_display()`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template

UTC = dt.UTC
VALUES = [
    dt.date(2024, 8, 11),
    dt.date(999, 1, 2),
    dt.datetime(2024, 8, 10, 21, 30, 5, tzinfo=UTC),  # 11 August in Vilnius
    dt.datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC),  # the spring clock change
    dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC),  # the autumn one
    dt.datetime(2024, 12, 31, 22, 0, tzinfo=UTC),  # New Year in Vilnius
    dt.datetime(2024, 1, 5, 9, 7, 3),  # naive: as it is
]
FORMATS = {"day": "Y-m-d", "minute": "Y-m-d H:i", "second": "Y-m-d H:i:s", "iso": "c"}


@pytest.mark.parametrize("value", VALUES, ids=str)
@pytest.mark.parametrize("precision", FORMATS)
def test_it_writes_what_the_date_filter_writes(settings, value, precision):
    assert settings.TIME_ZONE == "Europe/Vilnius"
    fmt = FORMATS[precision]
    if precision in ("minute", "second") and not isinstance(value, dt.datetime):
        fmt = "Y-m-d"  # a date has no time of day to show
    expected = render(f'{{{{ v|date:"{fmt}" }}}}', value)
    assert render(f'{{% load haven %}}{{{{ v|stamp:"{precision}" }}}}', value) == expected
    assert expected


@pytest.mark.parametrize("nothing", [None, "", "2024-08-11", 0])
def test_nothing_or_not_a_date_writes_nothing(nothing):
    assert render("{% load haven %}{{ v|stamp }}", nothing) == ""


def render(source: str, value) -> str:
    return Template(source).render(Context({"v": value}))


@pytest.mark.parametrize("language", ["en", "lt"])
def test_labels_are_what_get_display_gives_in_each_language(language):
    from django.utils import translation

    from cases.labels import label
    from cases.models import Application, CaseEvent, Placement, Status

    with translation.override(language):
        for status in Status.values:
            assert label(Status, status) == Application(status=status).get_status_display()
        for kind in CaseEvent.Kind.values:
            assert label(CaseEvent.Kind, kind) == CaseEvent(kind=kind).get_kind_display()
        for regime in Placement.Regime.values:
            assert label(Placement.Regime, regime) == Placement(regime=regime).get_regime_display()
        assert label(Status, "no-such-code") == "no-such-code"
