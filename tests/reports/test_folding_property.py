"""Property: whatever the workflow does, in whatever order, the rows it folded change by
change equal the rows rebuilt from scratch from the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import workflow
from cases.models import Application, Deadline, Facility
from reports import folding
from tests.conftest import submit

from .test_folding import snapshot
from .world import on

pytestmark = pytest.mark.django_db

ACTIONS = (
    "submit",
    "start_examination",
    "assign",
    "detain",
    "release",
    "court_order",
    "interview",
    "decide",
    "serve",
    "appeal",
    "judgment",
    "remit",
    "close",
    "withdraw",
    "waive",
    "correct_procedure",
)


class Rollback(Exception):
    pass


def act(name: str, case: Application | None, pick: int, day: dt.date, people: dict) -> None:
    alice, dora, root, pabrade = people["alice"], people["dora"], people["root"], people["pabrade"]
    status = case.status if case else None
    if name == "start_examination":
        workflow.start_examination(
            case, actor=[alice, dora][pick % 2], expected_status=status, reason="Go"
        )
    elif name == "assign":
        workflow.assign(case, actor=dora, assignee=[alice, dora, None][pick % 3])
    elif name == "detain":
        workflow.detain(
            case,
            actor=alice,
            expected_status=status,
            reason="Risk",
            facility=pabrade,
            legal_basis="Art. 113",
            order_reference=f"D-{pick}",
        )
    elif name == "release":
        workflow.release(case, actor=dora, expected_status=status, reason="Court")
    elif name == "court_order":
        workflow.record_court_order(
            case,
            actor=alice,
            court="Vilnius District Court",
            case_number=f"C-{pick}",
            order_on=day,
            until=day + dt.timedelta(days=30 + pick),
        )
    elif name == "interview":
        workflow.record_interview(case, actor=alice, interviewed_on=day)
    elif name == "decide":
        workflow.decide(
            case,
            actor=dora,
            expected_status=status,
            reason="Assessed",
            outcome=Application.Outcome.values[pick % 4],
            decided_on=day,
            served_on=day if pick % 2 else None,
        )
    elif name == "serve":
        workflow.record_service(case, actor=alice, served_on=day)
    elif name == "appeal":
        workflow.appeal(
            case,
            actor=alice,
            expected_status=status,
            reason="Appealed",
            court="Regional Administrative Court",
            lodged_on=day,
            late_reason="Late",
        )
    elif name == "judgment":
        workflow.record_judgment(case, actor=alice, judgment_on=day, outcome="upheld")
    elif name == "remit":
        workflow.remit(
            case, actor=dora, expected_status=status, reason="Sent back", judgment_final_on=day
        )
    elif name == "close":
        workflow.close(case, actor=dora, expected_status=status, reason="Final")
    elif name == "withdraw":
        workflow.withdraw(case, actor=alice, expected_status=status, reason="Left", kind="implicit")
    elif name == "waive":
        deadline = Deadline.objects.open().filter(application=case).order_by("pk").first()
        if deadline is not None:
            workflow.waive_deadline(deadline, actor=dora, reason="Not applicable")
    elif name == "correct_procedure":
        workflow.correct_record(
            case,
            actor=root,
            reason="Typed wrongly",
            procedure=Application.Procedure.values[pick % 4],
        )


steps = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 11), st.integers(0, 20)),
    min_size=5,
    max_size=24,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_incremental_rows_equal_a_rebuild_after_any_workflow_activity(
    steps, alice, dora, root, unit
):
    pabrade, _created = Facility.objects.get_or_create(
        code="frc-pabrade",
        defaults={"name": "Pabradė", "kind": Facility.Kind.DETENTION, "capacity": 5},
    )
    people = {"alice": alice, "dora": dora, "root": root, "pabrade": pabrade}
    try:
        with transaction.atomic():
            day = dt.date(2024, 1, 1)
            cases: list[Application] = []
            for name, which, gap in steps:
                day += dt.timedelta(days=gap)
                with on(day):
                    if name == "submit" or not cases:
                        cases.append(
                            submit(alice, submitted_on=day, nationality=["RU", "SY"][gap % 2])
                        )
                        continue
                    case = cases[which % len(cases)]
                    case.refresh_from_db()
                    try:
                        with transaction.atomic():
                            act(name, case, which + gap, day, people)
                    except (workflow.WorkflowError, ValidationError):
                        pass
            folded = snapshot()
            folding.rebuild()
            assert snapshot() == folded
            raise Rollback
    except Rollback:
        pass
