"""A small world for the reports, built by calling the workflow on the days it happened.

Unit "Asylum Division" (alice caseworker, dora decision-maker), detention centre Pabradė:

- case 1 (RU, regular): made and lodged 2024-01-02; examination 2024-01-10 (alice);
  interview 2024-01-20; refugee status decided 2024-02-05.
- case 2 (RU, regular): made and lodged 2024-01-03; examination 2024-01-05 (alice);
  detained at Pabradė 2024-01-08; released 2024-01-15; withdrawn 2024-01-31.
- case 3 (SY, border): made and lodged 2024-01-04; still submitted, unassigned.
- case 4 of the other unit (oscar), RU regular, made 2024-01-04, still submitted.

The world ends on 2024-08-01 (`END`), when case 3's six-month examination limit (due
2024-07-04) is overdue.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import time_machine

from cases import workflow
from cases.deadlines import VILNIUS
from tests.conftest import submit

END = dt.datetime(2024, 8, 1, 12, 0, tzinfo=VILNIUS)


@contextmanager
def on(day: dt.date, hour: int = 12):
    with time_machine.travel(dt.datetime.combine(day, dt.time(hour), VILNIUS), tick=False):
        yield


def build(alice, dora, oscar, pabrade) -> dict:
    d = dt.date
    with on(d(2024, 1, 2)):
        one = submit(alice, submitted_on=d(2024, 1, 2), lodged_on=d(2024, 1, 2))
    with on(d(2024, 1, 3)):
        two = submit(alice, submitted_on=d(2024, 1, 3), lodged_on=d(2024, 1, 3))
    with on(d(2024, 1, 4)):
        three = submit(
            alice,
            family_name="Haddad",
            nationality="SY",
            submitted_on=d(2024, 1, 4),
            lodged_on=d(2024, 1, 4),
            procedure="border",
        )
        four = submit(oscar, submitted_on=d(2024, 1, 4))
    with on(d(2024, 1, 5)):
        workflow.start_examination(two, actor=alice, expected_status="submitted", reason="Go")
    with on(d(2024, 1, 8)):
        workflow.detain(
            two,
            actor=alice,
            expected_status="examination",
            reason="Risk of absconding",
            facility=pabrade,
            legal_basis="Art. 113(4)",
            order_reference="D-1",
        )
    with on(d(2024, 1, 10)):
        workflow.start_examination(one, actor=alice, expected_status="submitted", reason="Go")
    with on(d(2024, 1, 15)):
        workflow.release(two, actor=dora, expected_status="detention", reason="Court")
    with on(d(2024, 1, 20)):
        workflow.record_interview(one, actor=alice, interviewed_on=d(2024, 1, 20))
    with on(d(2024, 1, 31)):
        workflow.withdraw(
            two, actor=alice, expected_status="examination", reason="Left", kind="explicit"
        )
    with on(d(2024, 2, 5)):
        workflow.decide(
            one,
            actor=dora,
            expected_status="examination",
            reason="Well-founded fear",
            outcome="refugee_status",
            decided_on=d(2024, 2, 5),
        )
    return {"one": one, "two": two, "three": three, "four": four}
