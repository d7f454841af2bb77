"""The pure date arithmetic of statutory deadlines (`cases.deadlines`), and the default rules.

No workflow here: each rule's arithmetic is checked on its own, with dates chosen to hit
month ends, weekends, Lithuanian public holidays and the clock changes of Europe/Vilnius.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from cases import deadlines
from cases.models import DeadlineRule
from cases.rule_defaults import APR_APPLIES_FROM, DEFAULT_RULES

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def rule(code: str) -> DeadlineRule:
    """An unsaved rule with the default values of `code` (pure: no database)."""
    spec = next(s for s in DEFAULT_RULES if s["code"] == code)
    return DeadlineRule(**spec)


# ---- months ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year: the last day of February
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2023, 8, 31), 6, D(2024, 2, 29)),
        (D(2024, 3, 31), 1, D(2024, 4, 30)),
        (D(2024, 1, 30), 1, D(2024, 2, 29)),
        (D(2023, 11, 15), 3, D(2024, 2, 15)),  # across the year end
        (D(2023, 8, 11), 6, D(2024, 2, 11)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2023, 8, 10), 18, D(2025, 2, 10)),
    ],
)
def test_it_adds_months_to_the_same_day_or_the_months_last_day(start, months, expected):
    assert deadlines.add_months(start, months) == expected


def test_it_dates_the_sample_cases_examination_limit_on_11_february_2024():
    due_on, due_at = deadlines.rule_due(rule("examination"), deadlines.at_noon(D(2023, 8, 11)))
    assert due_on == D(2024, 2, 11)  # a Sunday: Art. 81(1) has no roll-forward in the rule
    assert due_at == vilnius(2024, 2, 11, 23, 59, 59, 999999)


def test_it_dates_the_right_to_work_six_months_after_submission():
    due_on, _ = deadlines.rule_due(rule("right-to-work"), deadlines.at_noon(D(2023, 8, 11)))
    assert due_on == D(2024, 2, 11)


def test_it_dates_re_examination_three_months_after_the_judgment():
    due_on, _ = deadlines.rule_due(rule("reexamination"), deadlines.at_noon(D(2024, 11, 30)))
    assert due_on == D(2025, 2, 28)


def test_it_caps_restrictions_of_liberty_18_months_after_entry():
    due_on, _ = deadlines.rule_due(rule("restriction-cap"), deadlines.at_noon(D(2023, 8, 10)))
    assert due_on == D(2025, 2, 10)


# ---- calendar days and the roll-forward ---------------------------------------------------


@pytest.mark.parametrize(
    ("served_on", "expected", "why"),
    [
        (D(2024, 1, 12), D(2024, 1, 26), "a Friday: no move"),
        (D(2024, 1, 6), D(2024, 1, 22), "Saturday 20 January moves to Monday"),
        (D(2024, 1, 7), D(2024, 1, 22), "Sunday 21 January moves to Monday"),
        (D(2024, 3, 18), D(2024, 4, 2), "Easter Monday 1 April 2024 moves to Tuesday"),
        (D(2024, 8, 1), D(2024, 8, 16), "15 August (Assumption) moves to the 16th"),
        (D(2024, 12, 10), D(2024, 12, 27), "24, 25 and 26 December move to the 27th"),
        (D(2024, 12, 18), D(2025, 1, 2), "1 January moves to the 2nd"),
        (D(2025, 2, 2), D(2025, 2, 17), "Sunday 16 February (and the weekend) to Monday"),
    ],
)
def test_it_moves_the_appeal_windows_last_day_off_weekends_and_holidays(served_on, expected, why):
    due_on, due_at = deadlines.rule_due(rule("appeal-window"), deadlines.at_noon(served_on))
    assert due_on == expected, why
    assert due_at == deadlines.end_of_day(expected)


def test_it_keeps_a_last_day_on_a_holiday_when_the_rule_does_not_move_it():
    due_on, _ = deadlines.due_date(
        duration=14,
        unit=DeadlineRule.TimeUnit.CALENDAR_DAYS,
        roll_forward=False,
        start=deadlines.at_noon(D(2024, 8, 1)),
    )
    assert due_on == D(2024, 8, 15)


def test_it_counts_calendar_days_from_the_day_after_the_event():
    # A decision served late in the evening still starts the count on the next day.
    due_on, _ = deadlines.rule_due(rule("appeal-window"), vilnius(2024, 1, 12, 23, 30))
    assert due_on == D(2024, 1, 26)


def test_it_takes_the_vilnius_date_of_an_event_not_the_utc_date():
    # 00:30 in Vilnius on 13 January is still 12 January in UTC.
    due_on, _ = deadlines.rule_due(rule("appeal-window"), vilnius(2024, 1, 13, 0, 30))
    assert due_on == D(2024, 1, 29)  # 27 January is a Saturday: moves to Monday 29


# ---- working days over Lithuanian holidays ------------------------------------------------


@pytest.mark.parametrize(
    ("made_on", "expected"),
    [
        (D(2024, 1, 8), D(2024, 1, 11)),  # Monday: Tue, Wed, Thu
        (D(2024, 1, 12), D(2024, 1, 17)),  # Friday: Mon, Tue, Wed
        (D(2024, 1, 13), D(2024, 1, 17)),  # made on a Saturday
        (D(2024, 3, 28), D(2024, 4, 3)),  # Fri 29, (weekend, Easter Monday), Tue 2, Wed 3
        (D(2024, 8, 13), D(2024, 8, 19)),  # Wed 14, (Thu 15 August), Fri 16, Mon 19
        (D(2024, 12, 20), D(2024, 12, 30)),  # Mon 23, (24-26 December), Fri 27, Mon 30
        (D(2024, 2, 14), D(2024, 2, 20)),  # Thu 15, (Fri 16 February), Mon 19, Tue 20
    ],
)
def test_it_counts_registration_in_working_days_over_lithuanian_holidays(made_on, expected):
    due_on, due_at = deadlines.rule_due(rule("registration"), deadlines.at_noon(made_on))
    assert due_on == expected
    assert due_at == deadlines.end_of_day(expected)


@pytest.mark.parametrize(
    "day",
    [
        D(2024, 4, 1),  # Easter Monday (moves every year)
        D(2025, 4, 21),
        D(2024, 8, 15),
        D(2024, 12, 24),
        D(2024, 12, 25),
        D(2024, 12, 26),
        D(2024, 2, 16),
        D(2024, 3, 11),
        D(2024, 6, 24),
        D(2024, 11, 1),
        D(2024, 11, 2),  # a Saturday anyway
    ],
)
def test_it_knows_lithuanian_public_holidays(day):
    assert not deadlines.is_working_day(day)


def test_it_treats_an_ordinary_weekday_as_a_working_day():
    assert deadlines.is_working_day(D(2024, 12, 23))
    assert deadlines.next_working_day(D(2024, 12, 24)) == D(2024, 12, 27)


def test_it_counts_registration_under_the_apr_in_calendar_days():
    due_on, _ = deadlines.rule_due(rule("registration-apr"), deadlines.at_noon(D(2026, 6, 12)))
    assert due_on == D(2026, 6, 17)


# ---- hours, in UTC, across the clock changes ----------------------------------------------


def test_it_counts_48_hours_across_the_october_clock_change_in_real_hours():
    detained = vilnius(2023, 10, 28, 12, 0)  # EEST, UTC+3; clocks go back on the 29th
    due_on, due_at = deadlines.rule_due(rule("detention-48h"), detained)
    assert due_at == vilnius(2023, 10, 30, 11, 0)  # EET: 48 real hours, 47 on the wall clock
    assert due_at.astimezone(dt.UTC) == dt.datetime(2023, 10, 30, 9, 0, tzinfo=dt.UTC)
    assert deadlines.elapsed_hours(detained, due_at) == 48
    assert due_on == D(2023, 10, 30)


def test_it_counts_48_hours_across_the_march_clock_change_in_real_hours():
    detained = vilnius(2024, 3, 30, 12, 0)  # EET, UTC+2; clocks go forward on the 31st
    due_on, due_at = deadlines.rule_due(rule("detention-48h"), detained)
    assert due_at == vilnius(2024, 4, 1, 13, 0)  # EEST: 49 hours on the wall clock
    assert deadlines.elapsed_hours(detained, due_at) == 48
    assert due_on == D(2024, 4, 1)


def test_it_does_not_move_an_hour_limit_off_a_holiday():
    detained = vilnius(2024, 12, 23, 9, 15)
    due_on, due_at = deadlines.rule_due(rule("detention-48h"), detained)
    assert due_at == vilnius(2024, 12, 25, 9, 15)
    assert due_on == D(2024, 12, 25)


def test_it_measures_elapsed_hours_in_utc_not_on_the_wall_clock():
    before = vilnius(2023, 10, 29, 2, 30)
    after = vilnius(2023, 10, 29, 5, 30)
    assert deadlines.elapsed_hours(before, after) == 4  # 03:00-04:00 happened twice


# ---- the end of a legal day ---------------------------------------------------------------


def test_it_ends_a_legal_day_at_midnight_vilnius_time():
    winter = deadlines.end_of_day(D(2024, 2, 11))
    summer = deadlines.end_of_day(D(2024, 7, 11))
    assert winter.astimezone(dt.UTC) == dt.datetime(2024, 2, 11, 21, 59, 59, 999999, dt.UTC)
    assert summer.astimezone(dt.UTC) == dt.datetime(2024, 7, 11, 20, 59, 59, 999999, dt.UTC)
    assert vilnius(2024, 2, 11, 23, 59, 59) <= winter < vilnius(2024, 2, 12, 0, 0)


def test_it_places_a_day_only_event_at_noon_vilnius():
    assert deadlines.at_noon(D(2023, 8, 11)) == vilnius(2023, 8, 11, 12, 0)


def test_it_uses_the_recording_moment_for_a_fact_recorded_on_its_own_day():
    morning = vilnius(2024, 1, 10, 9, 0)
    assert deadlines.day_moment(D(2024, 1, 10), morning) == morning
    assert deadlines.day_moment(D(2024, 1, 9), morning) == vilnius(2024, 1, 9, 12, 0)


# ---- reminder levels ----------------------------------------------------------------------


DUE = deadlines.end_of_day(D(2024, 2, 11))


@pytest.mark.parametrize(
    ("now", "level"),
    [
        (vilnius(2024, 1, 27, 23, 59), None),  # 15 days before: no window yet
        (vilnius(2024, 1, 28, 0, 0), 14),
        (vilnius(2024, 2, 7, 18, 0), 14),
        (vilnius(2024, 2, 8, 0, 0), 3),
        (vilnius(2024, 2, 10, 9, 0), 1),
        (vilnius(2024, 2, 11, 23, 59, 59), 1),
        (vilnius(2024, 2, 12, 0, 0), 0),  # overdue
        (vilnius(2025, 1, 1, 0, 0), 0),
    ],
)
def test_it_gives_the_most_urgent_reminder_level_reached(now, level):
    assert deadlines.reminder_level([14, 3, 1], DUE, now) == level


def test_a_late_sweep_reaches_only_the_most_urgent_level():
    # Nothing ran between 20 January and 9 February: the 14-day window is skipped.
    assert deadlines.reminder_level([14, 3, 1], DUE, vilnius(2024, 2, 9, 6, 0)) == 3


def test_a_rule_without_lead_times_reminds_only_when_overdue():
    assert deadlines.reminder_level([], DUE, vilnius(2024, 2, 11, 12, 0)) is None
    assert deadlines.reminder_level([], DUE, vilnius(2024, 2, 12, 12, 0)) == 0


def test_it_opens_an_hour_limits_window_at_the_start_of_the_day_before():
    due_at = vilnius(2024, 3, 6, 10, 0)
    assert deadlines.window_opens(due_at, 1) == vilnius(2024, 3, 5, 0, 0)
    assert deadlines.reminder_level([1], due_at, vilnius(2024, 3, 4, 23, 0)) is None
    assert deadlines.reminder_level([1], due_at, vilnius(2024, 3, 5, 0, 0)) == 1


# ---- the rules as data --------------------------------------------------------------------


def test_it_reads_lead_times_largest_first_and_ignores_junk():
    assert DeadlineRule(reminder_days="3, 14,1,14").lead_days() == [14, 3, 1]
    assert DeadlineRule(reminder_days="7,²,x,").lead_days() == [7]
    assert DeadlineRule(reminder_days="").lead_days() == []


@pytest.mark.parametrize("value", ["0", "366", "3;1", "²", "-1", "1.5"])
def test_it_refuses_lead_times_that_are_not_days(value):
    field = DeadlineRule._meta.get_field("reminder_days")
    with pytest.raises(ValidationError):
        field.run_validators(value)


def test_it_chooses_the_registration_rule_by_the_date_of_submission():
    old, apr = rule("registration"), rule("registration-apr")
    assert old.applies_to(APR_APPLIES_FROM - dt.timedelta(days=1))
    assert not old.applies_to(APR_APPLIES_FROM)
    assert apr.applies_to(APR_APPLIES_FROM)
    assert not apr.applies_to(APR_APPLIES_FROM - dt.timedelta(days=1))
    assert D(2026, 6, 12) == APR_APPLIES_FROM


@pytest.mark.django_db
def test_it_seeds_every_default_rule_with_its_legal_source_and_unit():
    rules = {r.code: r for r in DeadlineRule.objects.all()}
    expected = {
        "registration": (3, "working_days", "submitted"),
        "registration-apr": (5, "calendar_days", "submitted"),
        "examination": (6, "months", "submitted"),
        "right-to-work": (6, "months", "submitted"),
        "detention-48h": (48, "hours", "detained"),
        "detention-review": (0, "calendar_days", "court_order_until"),
        "restriction-cap": (18, "months", "entered"),
        "appeal-window": (14, "calendar_days", "served"),
        "reexamination": (3, "months", "remitted"),
    }
    for code, (duration, unit, start) in expected.items():
        found = rules[code]
        assert (found.duration, found.unit, found.start_event) == (duration, unit, start), code
        assert found.legal_source.strip(), code
        assert found.is_active
    assert "Art. 81(1)" in rules["examination"].legal_source
    assert rules["appeal-window"].roll_forward
    assert rules["examination"].lead_days() == [14, 3, 1]


@pytest.mark.django_db
def test_it_never_overwrites_a_rule_an_administrator_edited():
    from cases.rule_defaults import ensure_default_rules

    DeadlineRule.objects.filter(code="examination").update(reminder_days="30,7")
    ensure_default_rules()
    assert DeadlineRule.objects.get(code="examination").reminder_days == "30,7"
