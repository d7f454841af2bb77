"""Two transitions of one case at once, on PostgreSQL with two real connections."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from cases import workflow
from cases.audit import verify_chain
from cases.models import Application, CaseEvent


def _in_thread(fn, results: dict, key: str, barrier: threading.Barrier | None = None):
    def target():
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            results[key] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _wait_until_blocked(timeout: float = 30.0) -> None:
    """Wait until another connection waits for a lock (pg_locks is live, not a snapshot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the second transition never waited for the row lock")


@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_race_is_refused_even_where_allowed_from_the_new_state(
    build_case, alice, pabrade
):
    """Both users saw `examination`. One detains; the other withdraws, which would also be
    allowed from `detention`. The withdrawal waits for the row lock, then is refused."""
    case = build_case("examination")
    results: dict = {}

    with transaction.atomic():
        workflow.detain(
            case.pk,
            actor=alice,
            expected_status="examination",
            reason="Risk of absconding",
            facility=pabrade,
            legal_basis="Art. 113",
            order_reference="SBGS-9",
        )
        loser = _in_thread(
            lambda: workflow.withdraw(
                case.pk, actor=alice, expected_status="examination", reason="Left", kind="explicit"
            ),
            results,
            "withdraw",
        )
        _wait_until_blocked()
    loser.join(timeout=60)

    assert isinstance(results["withdraw"], workflow.StaleCase)
    assert "now “In detention”" in results["withdraw"].message
    case.refresh_from_db()
    assert case.status == "detention"
    assert not CaseEvent.objects.filter(application=case, action="withdraw").exists()
    assert CaseEvent.objects.filter(application=case, action="detain").count() == 1
    assert case.open_detention() is not None
    assert verify_chain(case.pk).problem is None


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_transitions_exactly_one_wins(build_case, alice, dora, pabrade):
    case = build_case("examination")
    results: dict = {}
    barrier = threading.Barrier(2)
    threads = [
        _in_thread(
            lambda: workflow.detain(
                case.pk,
                actor=alice,
                expected_status="examination",
                reason="Risk",
                facility=pabrade,
                legal_basis="Art. 113",
                order_reference="SBGS-10",
            ),
            results,
            "detain",
            barrier,
        ),
        _in_thread(
            lambda: workflow.withdraw(
                case.pk, actor=dora, expected_status="examination", reason="Left", kind="explicit"
            ),
            results,
            "withdraw",
            barrier,
        ),
    ]
    for thread in threads:
        thread.join(timeout=60)

    winners = [k for k, v in results.items() if isinstance(v, Application)]
    losers = [k for k, v in results.items() if isinstance(v, workflow.StaleCase)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    case.refresh_from_db()
    assert case.status == {"detain": "detention", "withdraw": "withdrawn"}[winners[0]]
    transitions = CaseEvent.objects.filter(application=case, action__in=["detain", "withdraw"])
    assert list(transitions.values_list("action", flat=True)) == winners
    assert verify_chain(case.pk).problem is None
