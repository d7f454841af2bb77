"""The case file and the COPY rows take their rules from the domain app, not from copies:
the state machine on `Application`, the deadline rules in the database, the models' columns."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from cases.deadlines import rule_due
from cases.models import CaseEvent, DeadlineRule, Note, Status
from loadgen.casefile import CaseFile, Rules, Run
from loadgen.copywriter import Ids, Table
from loadgen.loader import LOADED_MODELS
from loadgen.names import pick_person

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def case_file() -> CaseFile:
    run = Run(
        rng=random.Random(1), now=NOW, ids=Ids(LOADED_MODELS), rules=Rules(), occupancy=Counter()
    )
    person = pick_person(run.rng, run.today)
    case = CaseFile(run, dt.date(2026, 2, 2), person)
    case.submit(actor=None, at=NOW - dt.timedelta(days=28))
    return case


def test_it_refuses_a_transition_the_state_machine_does_not_allow():
    case = case_file()
    with pytest.raises(ValueError, match="no 'decide' from 'submitted'"):
        case.transition("decide", None, NOW)
    assert case.status == Status.SUBMITTED


def test_a_transition_leads_where_the_model_says():
    case = case_file()
    case.transition("start_examination", None, NOW, assignee=None)
    assert case.status == Status.EXAMINATION
    event = case.events[-1]
    assert (event.kind, event.from_status, event.to_status) == (
        CaseEvent.Kind.TRANSITION,
        Status.SUBMITTED,
        Status.EXAMINATION,
    )


def test_deadlines_are_due_as_the_rules_in_the_database_say():
    case = case_file()
    start = NOW - dt.timedelta(days=28)
    case.open_deadlines(DeadlineRule.StartEvent.SUBMITTED, start, None)
    rules = {r.code: r for r in DeadlineRule.objects.filter(is_active=True)}
    opened = list(case.deadlines.values())
    assert opened
    for row in opened:
        assert (row["due_on"], row["due_at"]) == rule_due(rules[row["rule"]], start)


def test_a_table_fills_the_columns_a_row_leaves_out_and_refuses_unknown_ones():
    notes = Table(Note)
    assert notes.columns == [f.column for f in Note._meta.concrete_fields]
    notes.add({"id": 1, "application_id": 2, "author_id": None, "text": "a\tb", "created_at": NOW})
    assert notes.lines == [f"1\t2\t\\N\ta\\tb\t{NOW.isoformat()}\n"]
    with pytest.raises(ValueError, match="no columns"):
        notes.add({"id": 2, "application_id": 2, "txt": "typo"})
