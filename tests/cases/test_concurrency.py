"""Two transitions of one case at once, on PostgreSQL with two real connections."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, models, transaction

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


def _wait_for_advisory_waiter(timeout: float = 30.0) -> None:
    """Wait until some connection waits for a case's chain lock (an advisory lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the change never waited for the chain lock")


@pytest.mark.django_db(transaction=True)
def test_a_view_record_and_a_change_of_one_case_at_once_do_not_deadlock(case, alice, caplog):
    """The order that deadlocked: a view's access record holds the chain lock while a change
    holds the case row; the change then waits for the chain, and the access record's commit
    checks its foreign key against the row. Both must go through, first time, no retry."""
    from cases.audit import record_event

    caplog.set_level("WARNING", logger="cases.conflicts")
    results: dict = {}
    holding = threading.Event()

    def view_record():
        with transaction.atomic():
            record_event(case, kind=CaseEvent.Kind.ACCESS, action="case", actor=alice)
            holding.set()
            _wait_for_advisory_waiter()  # the change now holds the row and waits for the chain
        return "committed"

    reader = _in_thread(view_record, results, "view")
    assert holding.wait(timeout=30)
    note = workflow.add_note(case.pk, actor=alice, text="Interview booked for Monday.")
    reader.join(timeout=60)

    assert results["view"] == "committed", results
    assert note.pk is not None
    assert not [r for r in caplog.records if "lock conflict" in r.getMessage()]
    events = CaseEvent.objects.filter(application=case).order_by("pk")
    actions = list(events.values_list("action", flat=True))
    assert actions[-2:] == ["case", "note_added"]
    assert verify_chain(case.pk).problem is None


@pytest.mark.django_db(transaction=True)
def test_a_change_that_loses_a_deadlock_runs_again_whole(case, alice, caplog):
    """A conflict the lock order cannot prevent (here made on purpose on a row outside the
    case) aborts one transaction; the workflow verb runs again and succeeds once."""
    from django.db import OperationalError

    from cases import conflicts

    calls = {"n": 0}
    original = workflow.Note.objects.create

    def flaky_create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            with connection.cursor() as cursor:  # a real 40P01 from PostgreSQL's own check
                cursor.execute(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', "
                    "MESSAGE = 'deadlock detected'; END $$"
                )
        return original(**kwargs)

    caplog.set_level("WARNING", logger="cases.conflicts")
    workflow.Note.objects.create = flaky_create
    try:
        note = workflow.add_note(case.pk, actor=alice, text="Second try.")
    finally:
        workflow.Note.objects.create = original

    assert calls["n"] == 2
    assert list(case.notes.values_list("text", flat=True)) == ["Second try."]
    assert CaseEvent.objects.filter(application=case, action="note_added").count() == 1
    assert note.pk is not None
    assert any("lock conflict" in r.getMessage() for r in caplog.records)
    assert conflicts.is_conflict(OperationalError("x")) is False
    assert verify_chain(case.pk).problem is None


@pytest.mark.django_db(transaction=True)
def test_a_conflict_that_outlives_its_retries_answers_409_and_saves_nothing(
    client, case, alice, monkeypatch
):
    def always_deadlocked(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute(
                "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', "
                "MESSAGE = 'deadlock detected'; END $$"
            )

    monkeypatch.setattr(workflow.Note.objects, "create", always_deadlocked)
    monkeypatch.setattr("cases.conflicts.time.sleep", lambda seconds: None)
    before = CaseEvent.objects.filter(application=case).count()
    client.force_login(alice)

    response = client.post(f"/cases/{case.pk}/notes/", {"text": "Lost in a conflict."})

    assert response.status_code == 409
    assert "Nothing was saved" in response.content.decode()
    assert not case.notes.exists()
    assert CaseEvent.objects.filter(application=case).count() == before


@pytest.mark.django_db(transaction=True)
def test_two_cases_of_a_unit_moving_in_opposite_directions_do_not_deadlock(
    build_case, alice, caplog
):
    """The stored counts (one row per unit and status) are locked in key order by the
    trigger. Here a transaction holds the unit's `detention` count and then needs its
    `examination` count, as a release does; a detention of another case meanwhile needs
    both. Locked in opposite orders they deadlock; in key order the detention just waits."""
    from cases.models import StatusCount

    case = build_case("examination")
    results: dict = {}
    holding = threading.Event()

    def moving_the_other_way():
        with transaction.atomic():
            list(
                StatusCount.objects.select_for_update().filter(
                    unit_id=case.unit_id, status="detention"
                )
            )
            holding.set()
            _wait_until_blocked()  # the detention below waits for this row
            StatusCount.objects.filter(unit_id=case.unit_id, status="examination").update(
                cases=models.F("cases")
            )
        return "committed"

    caplog.set_level("WARNING", logger="cases.conflicts")
    StatusCount.objects.get_or_create(unit_id=case.unit_id, status="detention")
    other = _in_thread(moving_the_other_way, results, "other")
    assert holding.wait(timeout=30)
    with transaction.atomic():
        Application.objects.filter(pk=case.pk).update(status="detention")
    other.join(timeout=60)

    assert results["other"] == "committed", results
