"""Subsequent applications (DOMAIN.md §3 row 5): linked to the applicant's earlier case, with
a preliminary examination of 10 working days from lodging under the APR. Dates by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import workflow
from cases.models import Application, Deadline
from tests.conftest import submit

pytestmark = pytest.mark.django_db

D = dt.date


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=ZoneInfo("Europe/Vilnius")), tick=False)


def again(alice, earlier: Application, **extra) -> Application:
    return workflow.submit_application(
        actor=alice,
        applicant=earlier.applicant,
        submitted_on=D(2026, 7, 1),
        lodged_on=D(2026, 7, 1),
        **{"procedure": "subsequent", "previous_application": earlier, **extra},
    )


def test_a_subsequent_application_is_examined_first_within_10_working_days(alice):
    with at(2026, 7, 1, 10, 0):
        earlier = submit(alice, submitted_on=D(2024, 3, 1))
        case = again(alice, earlier)
    assert case.previous_application == earlier
    # Lodged Wednesday 1 July 2026: Thu 2, Fri 3, (Mon 6 July, Statehood Day), Tue 7, Wed 8,
    # Thu 9, Fri 10, Mon 13, Tue 14, Wed 15, Thu 16: the tenth working day is 16 July.
    limit = Deadline.objects.get(application=case, rule="subsequent-preliminary-apr")
    assert limit.due_on == D(2026, 7, 16)


def test_it_refuses_a_subsequent_application_without_the_earlier_case(alice):
    with at(2026, 7, 1, 10, 0):
        earlier = submit(alice, submitted_on=D(2024, 3, 1))
        with pytest.raises(ValidationError) as refused:
            again(alice, earlier, previous_application=None)
    assert "procedure" in refused.value.message_dict


def test_it_refuses_another_applicants_case_as_the_earlier_one(alice):
    with at(2026, 7, 1, 10, 0):
        earlier = submit(alice, submitted_on=D(2024, 3, 1))
        other = submit(alice, family_name="Petrov", submitted_on=D(2025, 3, 1))
        with pytest.raises(ValidationError):
            workflow.submit_application(
                actor=alice,
                applicant=earlier.applicant,
                submitted_on=D(2026, 7, 1),
                procedure="subsequent",
                previous_application=other,
            )
    assert not Application.objects.filter(procedure="subsequent").exists()


def test_the_case_page_links_the_earlier_application(client, alice):
    with at(2026, 7, 1, 10, 0):
        earlier = submit(alice, submitted_on=D(2024, 3, 1))
        case = again(alice, earlier)
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:detail", args=[earlier.pk]) in page
    assert earlier.reference in page
    assert "Subsequent application" in page


def test_the_case_page_does_not_name_an_earlier_application_the_reader_may_not_read(
    client, alice, oscar
):
    with at(2026, 7, 1, 10, 0):
        earlier = submit(oscar, submitted_on=D(2024, 3, 1))
        case = again(alice, earlier)
        client.force_login(alice)
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Earlier application" in page
    assert earlier.reference not in page
    assert reverse("cases:detail", args=[earlier.pk]) not in page
    assert "in a unit whose cases you may not read" in page
