"""The time of apprehension at intake (issue 17, item 1): with its day it becomes
`apprehended_at`, from which the 48-hour limit on detention without a court order runs.
Expected moments are written out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases import workflow
from cases.models import Application, Deadline
from tests.cases.test_views_intake import INTAKE, form_data

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


def detain(case: Application, alice, pabrade) -> None:
    workflow.detain(
        case,
        actor=alice,
        expected_status="submitted",
        reason="Risk of absconding",
        facility=pabrade,
        legal_basis="Law on the Legal Status of Aliens Art. 113",
        order_reference="SBGS-7",
    )


def test_the_time_of_apprehension_starts_the_48_hours(client, alice, pabrade):
    with at(2024, 2, 1, 10, 0):
        client.force_login(alice)
        response = client.post(
            INTAKE,
            form_data(
                submitted_on="2024-02-01",
                lodged_on="",
                apprehended_on="2024-01-31",
                apprehension_time="21:30",
            ),
        )
        assert response.status_code == 302
        case = Application.objects.get()
        detain(case, alice, pabrade)
    assert case.apprehended_at == dt.datetime(2024, 1, 31, 21, 30, tzinfo=VILNIUS)
    limit = Deadline.objects.get(application=case, rule_id="detention-48h")
    # Apprehended Wednesday 31 January 2024 at 21:30 + 48 hours = Friday 2 February, 21:30.
    assert limit.due_at == dt.datetime(2024, 2, 2, 21, 30, tzinfo=VILNIUS)


def test_the_48_hours_are_real_hours_across_the_spring_clock_change(client, alice, pabrade):
    with at(2024, 3, 30, 12, 0):
        client.force_login(alice)
        response = client.post(
            INTAKE,
            form_data(
                submitted_on="2024-03-30",
                lodged_on="",
                apprehended_on="2024-03-30",
                apprehension_time="03:00",
            ),
        )
        assert response.status_code == 302
        case = Application.objects.get()
        detain(case, alice, pabrade)
    limit = Deadline.objects.get(application=case, rule_id="detention-48h")
    # 03:00 EET on 30 March 2024 is 01:00 UTC; clocks go forward on 31 March: 48 real hours
    # later is 01:00 UTC on 1 April, 04:00 EEST.
    assert limit.due_at == dt.datetime(2024, 4, 1, 4, 0, tzinfo=VILNIUS)


def test_a_time_without_its_day_or_in_the_future_is_refused(client, alice):
    with at(2024, 2, 1, 10, 0):
        client.force_login(alice)
        response = client.post(INTAKE, form_data(apprehended_on="", apprehension_time="09:00"))
        assert response.status_code == 400
        assert "Give the day of apprehension too." in response.content.decode()
        response = client.post(
            INTAKE,
            form_data(
                submitted_on="2024-02-01",
                lodged_on="",
                apprehended_on="2024-02-01",
                apprehension_time="11:00",
            ),
        )
        assert response.status_code == 400
        assert "This moment is in the future." in response.content.decode()
        response = client.post(
            INTAKE, form_data(apprehended_on="2024-01-31", apprehension_time="25:00")
        )
        assert response.status_code == 400
    assert not Application.objects.exists()


def test_the_intake_page_asks_for_the_time(client, alice):
    client.force_login(alice)
    html = client.get(INTAKE).content.decode()
    assert 'name="apprehension_time"' in html
    assert 'type="time"' in html
