"""The admin reads as Haven's: its title, dates as the pages write them, the deadline rules'
"time unit" filter, and an event list without access events unless asked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases.models import CaseEvent
from tests.conftest import submit

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:cases_caseevent_changelist")


def test_the_admin_is_titled_haven_administration_in_both_languages(client, root):
    client.force_login(root)
    html = client.get(reverse("admin:index")).content.decode()
    assert "<title>Administration | Haven administration</title>" in html
    assert "Haven administration" in html
    root.language = "lt"
    root.save(update_fields=["language"])
    client.cookies["django_language"] = "lt"
    html = client.get(reverse("admin:index")).content.decode()
    assert "Haven administravimas" in html


def test_admin_dates_are_written_yyyy_mm_dd_hh_mm(client, root, alice):
    # 09:30 UTC on 11 August 2023 is 12:30 in Vilnius (summer time, UTC+3).
    case = submit(alice, at=dt.datetime(2023, 8, 11, 9, 30, tzinfo=dt.UTC))
    client.force_login(root)
    html = client.get(EVENTS, {"application__id__exact": case.pk}).content.decode()
    assert "2023-08-11 12:30" in html
    assert "Aug. 11, 2023" not in html


def test_the_deadline_rule_unit_is_called_time_unit(client, root):
    client.force_login(root)
    html = client.get(reverse("admin:cases_deadlinerule_changelist")).content.decode()
    assert 'data-filter-title="time unit"' in html
    assert 'data-filter-title="unit"' not in html
    assert ">Time unit<" in html  # the column
    assert "working days</td>" in html  # the seeded registration limit, as a label


def test_the_event_list_leaves_out_access_events_unless_asked(client, root, alice):
    case = submit(alice)
    client.force_login(alice)
    client.get(reverse("cases:detail", args=[case.pk]))  # an access event
    total = case.events.count()
    access = case.events.filter(kind=CaseEvent.Kind.ACCESS).count()
    assert access == 1

    client.force_login(root)
    params = {"application__id__exact": case.pk}
    default = client.get(EVENTS, params)
    assert default.context["cl"].result_count == total - 1
    assert "All but access events" in default.content.decode()
    everything = client.get(EVENTS, {**params, "kind__exact": "all"})
    assert everything.context["cl"].result_count == total
    only_access = client.get(EVENTS, {**params, "kind__exact": "access"})
    assert only_access.context["cl"].result_count == 1
