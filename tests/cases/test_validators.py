"""The plausibility of typed dates, shared by the intake forms and the workflow."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from cases import workflow
from cases.models import Applicant, Application
from cases.validators import day_problem, validate_past_date
from tests.conftest import submit


@time_machine.travel(dt.datetime(2026, 12, 5, 21, 30, tzinfo=dt.UTC))  # 23:30 in Vilnius
def test_it_accepts_dates_from_1900_to_today_in_vilnius():
    for good in [dt.date(1900, 1, 1), dt.date(1990, 4, 2), dt.date(2026, 12, 5)]:
        validate_past_date(good)
    validate_past_date(None)
    for bad in [dt.date(104, 4, 2), dt.date(1899, 12, 31), dt.date(2026, 12, 6)]:
        with pytest.raises(ValidationError):
            validate_past_date(bad)


@time_machine.travel(dt.datetime(2026, 12, 5, 21, 30, tzinfo=dt.UTC))  # 23:30 in Vilnius
def test_a_day_of_a_step_is_given_not_early_and_not_in_the_future():
    """The one check every recorded step's day goes through (decisions, appeals, detention,
    the person's record, the Dublin steps)."""
    since = dt.date(2026, 8, 11)
    early = "Before the application (%(date)s)."
    check = {"missing": "Give the date.", "since": since, "early": early}
    assert day_problem(since, **check) is None
    assert day_problem(dt.date(2026, 12, 5), **check) is None  # today in Vilnius
    assert day_problem(None, **check) == "Give the date."
    assert day_problem("2026-09-01", **check) == "Give the date."
    assert day_problem(dt.datetime(2026, 9, 1, 10), **check) == "Give the date."
    assert day_problem(dt.date(2026, 8, 10), **check) == "Before the application (2026-08-11)."
    assert day_problem(dt.date(2026, 12, 6), **check) == "This date is in the future."
    assert day_problem(dt.date(1990, 1, 1), missing="Give the date.") is None  # no earliest


def test_it_says_what_is_wrong_in_lithuanian_too():
    with translation.override("lt"), pytest.raises(ValidationError) as caught:
        validate_past_date(dt.date(104, 4, 2))
    assert "1900" in caught.value.messages[0]
    assert "check the year" not in caught.value.messages[0]


def test_the_workflow_refuses_an_absurd_date_of_birth_or_application_date(alice):
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as caught:
        workflow.submit_application(
            actor=alice,
            applicant_data={"family_name": "Sokolov", "date_of_birth": dt.date(104, 4, 2)},
            submitted_on=dt.date(2023, 8, 11),
            apprehended_on=dt.date(1899, 12, 31),
            entered_on=tomorrow,
        )
    assert set(caught.value.message_dict) == {"date_of_birth", "apprehended_on", "entered_on"}
    assert not Application.objects.exists() and not Applicant.objects.exists()


def test_a_correction_refuses_a_date_before_1900(root, alice):
    case = submit(alice)
    with pytest.raises(ValidationError) as caught:
        workflow.correct_record(case, actor=root, reason="Typo", submitted_on=dt.date(203, 8, 11))
    assert "1900" in caught.value.message_dict["submitted_on"][0]
