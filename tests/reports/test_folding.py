"""The report rows: folded by the workflow's changes, caught up from the timeline by the task,
rebuilt from scratch by the command; each figure checked against a count made by hand."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from cases.models import CaseEvent, Deadline
from reports import folding
from reports.models import ReportCase, ReportCursor, ReportRow

from .world import build

pytestmark = pytest.mark.django_db
d = dt.date


def figures(kind: str, *fields: str, with_totals: bool = False, **where) -> dict:
    """The non-zero sums of one kind of row, by the given fields (without the rows that sum
    all procedures and nationalities, unless `with_totals`)."""
    sums: dict = defaultdict(int)
    rows = ReportRow.objects.filter(kind=kind, **where)
    if not with_totals:
        rows = rows.exclude(procedure=folding.ALL)
    for row in rows.values(*fields, "value"):
        sums[tuple(row[f] for f in fields)] += row["value"]
    return {k: v for k, v in sums.items() if v}


KEY = ("day", "unit_id", "procedure", "nationality", "key", "sub", "days")
KINDS = ("status", "stage", "decision", "deadline", "place", "open", "due", "age")
ROLLED_UP = tuple(
    folding.rollup_kind(kind, grain) for kind, grains in folding.ROLLUPS.items() for grain in grains
)


def snapshot() -> tuple[dict, dict]:
    """Every figure, and what the rows know of each case."""
    everything = {kind: figures(kind, *KEY, with_totals=True) for kind in (*KINDS, *ROLLED_UP)}
    facts = {c.application_id: (c.last_event, c.facts) for c in ReportCase.objects.all()}
    return everything, facts


@pytest.fixture
def world(alice, dora, oscar, pabrade):
    return build(alice, dora, oscar, pabrade)


def test_the_backlog_rows_count_each_status_in_and_out(world, unit):
    assert figures("status", "day", "key") == {
        (d(2024, 1, 2), "submitted"): 1,
        (d(2024, 1, 3), "submitted"): 1,
        (d(2024, 1, 4), "submitted"): 2,
        (d(2024, 1, 5), "submitted"): -1,
        (d(2024, 1, 5), "examination"): 1,
        (d(2024, 1, 8), "examination"): -1,
        (d(2024, 1, 8), "detention"): 1,
        (d(2024, 1, 10), "submitted"): -1,
        (d(2024, 1, 10), "examination"): 1,
        (d(2024, 1, 15), "detention"): -1,
        (d(2024, 1, 15), "examination"): 1,
        (d(2024, 1, 31), "examination"): -1,
        (d(2024, 2, 5), "examination"): -1,
        (d(2024, 2, 5), "decided"): 1,
    }


def test_the_age_rows_count_open_cases_by_the_day_the_application_was_made(world, unit):
    # Case 1 (made 2 January) is decided, cases 3 and 4 (made 4 January) are submitted;
    # case 2 was withdrawn: its +1 and -1 cancel out.
    assert figures("age", "day", "key") == {
        (d(2024, 1, 2), "decided"): 1,
        (d(2024, 1, 4), "submitted"): 2,
    }
    assert figures("age", "unit_id", "procedure", "nationality", key="submitted") == {
        (unit.pk, "border", "SY"): 1,
        (world["four"].unit_id, "regular", "RU"): 1,
    }


def test_the_backlog_rows_are_summed_per_week_month_and_year(world):
    # Both units: January's ins and outs of 'submitted' (+4 made, -2 examined) and of
    # 'examination' (+3, -2); detention's +1 and -1 cancel out.
    assert figures("status:m", "day", "key") == {
        (d(2024, 1, 1), "submitted"): 2,
        (d(2024, 1, 1), "examination"): 1,
        (d(2024, 2, 1), "examination"): -1,
        (d(2024, 2, 1), "decided"): 1,
    }
    assert figures("status:y", "day", "key") == {
        (d(2024, 1, 1), "submitted"): 2,
        (d(2024, 1, 1), "decided"): 1,
    }
    # Weeks start on Monday: 1–7 January, 8–14 January (case 2 detained, case 1 examined).
    assert figures("status:w", "day", "key", day__lte=d(2024, 1, 8)) == {
        (d(2024, 1, 1), "submitted"): 3,
        (d(2024, 1, 1), "examination"): 1,
        (d(2024, 1, 8), "submitted"): -1,
        (d(2024, 1, 8), "detention"): 1,
    }


def test_every_row_is_also_summed_over_all_procedures_and_nationalities(world):
    by = ("day", "unit_id", "key", "sub", "days")
    for kind in (*KINDS, *ROLLED_UP):
        totals = figures(kind, *by, with_totals=True, procedure="*", nationality="*")
        assert totals == figures(kind, *by), kind


def test_the_open_cases_per_assignee_are_kept_for_today_only(world):
    assert figures("open", "day") == {(dt.date.min,): 3}


def test_time_in_state_rows_count_whole_days_in_the_status_left(world):
    assert figures("stage", "day", "key", "days") == {
        (d(2024, 1, 5), "submitted", 2): 1,
        (d(2024, 1, 8), "examination", 3): 1,
        (d(2024, 1, 10), "submitted", 8): 1,
        (d(2024, 1, 15), "detention", 7): 1,
        (d(2024, 1, 31), "examination", 16): 1,
        (d(2024, 2, 5), "examination", 26): 1,
    }


def test_decisions_are_counted_on_their_date_with_the_cases_dimensions(world, unit):
    assert figures("decision", "day", "unit_id", "procedure", "nationality", "key") == {
        (d(2024, 2, 5), unit.pk, "regular", "RU", "refugee_status"): 1
    }


def test_places_are_taken_and_given_back(world, pabrade):
    assert figures("place", "day", "key", "sub") == {
        (d(2024, 1, 8), str(pabrade.pk), "detention"): 1,
        (d(2024, 1, 15), str(pabrade.pk), "detention"): -1,
    }


def test_deadlines_are_counted_by_due_date_rule_and_how_they_ended(world, unit, other_unit):
    assert figures("deadline", "day", "unit_id", "sub", key="examination") == {
        (d(2024, 7, 2), unit.pk, "met"): 1,
        (d(2024, 7, 3), unit.pk, "cancelled"): 1,
        (d(2024, 7, 4), unit.pk, "open"): 1,
        (d(2024, 7, 4), other_unit.pk, "open"): 1,
    }
    # Detained 8 January at noon, no court order, released on the 15th: missed.
    assert figures("deadline", "day", "sub", key="detention-48h") == {(d(2024, 1, 10), "missed"): 1}


def test_open_cases_and_open_deadlines_follow_the_assignee(world, alice, unit):
    assert figures("open", "unit_id", "key") == {
        (unit.pk, "0"): 1,  # case 3
        (unit.pk, str(alice.pk)): 1,  # case 1 (decided, still open)
        (world["four"].unit_id, "0"): 1,
    }
    # The unit's open deadlines, by due day, are nobody's (case 3's); alice's case 1 has
    # none left open and case 2's were cancelled by its withdrawal.
    due = figures("due", "day", "key", unit_id=unit.pk)
    assert {key for _day, key in due} == {"0"}
    expected: dict = defaultdict(int)
    for deadline in Deadline.objects.open().filter(application__unit=unit):
        assert deadline.application_id == world["three"].pk
        expected[(deadline.due_on, "0")] += 1
    assert due == expected


def test_the_task_catches_up_from_scratch_to_the_same_rows(world):
    folded = snapshot()
    ReportRow.objects.all().delete()
    ReportCase.objects.all().delete()
    ReportCursor.objects.all().delete()
    assert folding.catch_up() > 0
    assert snapshot() == folded
    assert ReportCursor.objects.get().through_event == (
        CaseEvent.objects.filter(kind__in=folding.FOLDED_KINDS).latest("pk").pk
    )
    assert folding.catch_up() == 0
    assert snapshot() == folded


def test_the_task_resumes_where_it_stopped_and_folds_nothing_twice(world):
    folded = snapshot()
    ReportRow.objects.all().delete()
    ReportCase.objects.all().delete()
    ReportCursor.objects.all().delete()
    first = folding.catch_up(batch=5, max_batches=1)
    assert first > 0
    assert snapshot() != folded
    # Events the workflow already folded are not folded again.
    ReportCursor.objects.update(through_event=0)
    rest = folding.catch_up(batch=5)
    assert first + rest == CaseEvent.objects.filter(kind__in=folding.FOLDED_KINDS).count()
    assert snapshot() == folded


def test_a_rebuild_gives_the_rows_the_workflow_folded(world):
    folded = snapshot()
    ReportRow.objects.update(value=99)
    result = folding.rebuild()
    assert result.cases == 4
    assert snapshot() == folded


def test_the_command_rebuilds_with_a_progress_bar(world, capsys):
    from django.core.management import call_command

    folded = snapshot()
    ReportRow.objects.all().delete()
    call_command("rebuild_report_rows")
    out = capsys.readouterr()
    assert "Rebuilt" in out.out
    assert "4/4 cases" in out.err
    assert snapshot() == folded
