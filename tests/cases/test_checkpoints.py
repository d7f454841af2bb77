"""Checkpoints of the case chains: the newest events removed behind Haven's back (which the
hash chain alone cannot show) are reported by `verify_audit`, and the periodic run writes a
checkpoint only for the chains that grew."""

from __future__ import annotations

import io
import json
import logging
import threading

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import ProgrammingError

from cases import tasks, workflow
from cases.audit import event_hash, record_event, verify_chain
from cases.checkpoints import run_digest, verify, write_checkpoints
from cases.models import AuditCheckpoint, CaseEvent


def chain(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(application=case).order_by("pk"))


def remove_events(*events: CaseEvent) -> None:
    """Delete events as someone with the table owner's rights could (trigger off)."""
    with (
        pgtrigger.ignore("cases.CaseEvent:caseevent_no_delete"),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM cases_caseevent WHERE id = ANY(%s)", [[e.pk for e in events]])


def verify_fails(*args: str) -> tuple[str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    return err.getvalue(), info.value


def verify_passes() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def checkpoints_of(case) -> list[AuditCheckpoint]:
    return list(AuditCheckpoint.objects.filter(application=case).order_by("pk"))


# ---- what verify_audit sees ---------------------------------------------------------------


def test_it_reports_the_newest_events_removed_after_a_checkpoint(build_case):
    case = build_case("decided")
    other = build_case("examination")
    write_checkpoints()
    events = chain(case)
    remove_events(*events[-2:])

    err, error = verify_fails()

    assert (
        f"BROKEN {case.reference}: events after event {events[-3].pk} were removed: the "
        f"checkpoint of" in err
    )
    assert f"event {events[-1].pk} as the newest of {len(events)}" in err
    assert other.reference not in err
    assert "1 broken chain" in str(error)
    assert error.returncode != 0


def test_without_a_checkpoint_the_same_removal_goes_unseen(build_case):
    # What the checkpoints add: the links alone cannot tell a shortened chain.
    case = build_case("decided")
    remove_events(*chain(case)[-2:])

    assert "Every chain is intact" in verify_passes()


def test_a_chain_longer_than_its_checkpoint_is_intact(build_case, alice):
    case = build_case("examination")
    write_checkpoints()
    workflow.add_note(case, actor=alice, text="Called the interpreter.")
    record_event(case, kind=CaseEvent.Kind.RECORD, action="reviewed")

    assert "Every chain is intact" in verify_passes()
    assert verify([case.pk])[0].problem is None


def test_events_removed_and_others_appended_since_are_still_reported(build_case):
    case = build_case("decided")
    write_checkpoints()
    events = chain(case)
    remove_events(*events[-2:])
    for n in range(3):  # the chain links up again and ends up longer than before
        record_event(case, kind=CaseEvent.Kind.RECORD, action="after", data={"n": n})

    err, _error = verify_fails()

    assert f"BROKEN {case.reference}: events after event {events[-3].pk} were removed" in err


def test_a_rewritten_newest_event_is_reported(build_case):
    case = build_case("examination")
    write_checkpoints()
    head = chain(case)[-1]
    # A forger who rewrites the newest event and recomputes its hash keeps every link intact.
    head.data = {**head.data, "forged": True}
    with (
        pgtrigger.ignore("cases.CaseEvent:caseevent_no_update"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE cases_caseevent SET data = %s, hash = %s WHERE id = %s",
            [json.dumps(head.data), event_hash(head), head.pk],
        )
    assert verify_chain(case.pk).problem is None  # the links alone see nothing

    err, _error = verify_fails("--case", case.reference)

    assert f"BROKEN {case.reference}: event {head.pk}: it was the newest event at the " in err
    assert "the chain was rewritten" in err


def test_checkpoints_are_append_only(case):
    write_checkpoints()
    checkpoint = AuditCheckpoint.objects.get(application=case)

    with (
        pytest.raises(ProgrammingError, match="Cannot update rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE cases_auditcheckpoint SET event_count = 1 WHERE id = %s", [checkpoint.pk]
        )
    with (
        pytest.raises(ProgrammingError, match="Cannot delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM cases_auditcheckpoint WHERE id = %s", [checkpoint.pk])
    with pytest.raises(TypeError, match="append-only"):
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(event_count=1)
    with pytest.raises(TypeError, match="append-only"):
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).delete()
    assert AuditCheckpoint.objects.get().event_count == len(chain(case))


# ---- the periodic run ---------------------------------------------------------------------


def test_a_run_checkpoints_each_chain_and_a_second_run_writes_nothing(build_case):
    first = build_case("examination")
    second = build_case("detention")

    run = write_checkpoints()

    assert run.written == 2
    for case in (first, second):
        events = chain(case)
        (checkpoint,) = checkpoints_of(case)
        assert checkpoint.head_event_id == events[-1].pk
        assert checkpoint.head_hash == events[-1].hash
        assert checkpoint.event_count == len(events)
    assert write_checkpoints().written == 0
    assert AuditCheckpoint.objects.count() == 2


def test_the_task_checkpoints_only_the_chains_that_grew(build_case, alice):
    grew = build_case("examination")
    quiet = build_case("examination")
    tasks.write_audit_checkpoints()
    workflow.add_note(grew, actor=alice, text="New facts.")

    tasks.write_audit_checkpoints()

    assert len(checkpoints_of(quiet)) == 1
    latest = checkpoints_of(grew)[-1]
    assert len(checkpoints_of(grew)) == 2
    assert latest.head_event_id == chain(grew)[-1].pk
    assert latest.event_count == len(chain(grew))
    tasks.write_audit_checkpoints()
    assert AuditCheckpoint.objects.count() == 3


def test_a_run_reads_only_the_events_after_the_last_run(build_case, alice):
    cases = [build_case("examination") for _ in range(3)]
    write_checkpoints()
    workflow.add_note(cases[1], actor=alice, text="New facts.")
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run = write_checkpoints()

    assert run.written == 1
    scan = next(s for s in statements if "DISTINCT" in s and "cases_caseevent" in s)
    assert '"cases_caseevent"."id" > ' in scan  # from the last run's watermark on, by the key


def test_it_logs_one_line_with_the_digest_of_the_heads_it_wrote(build_case, caplog):
    build_case("examination")
    build_case("submitted")

    with caplog.at_level(logging.INFO, logger="cases.checkpoints"):
        run = write_checkpoints()

    lines = [r.getMessage() for r in caplog.records if r.name == "cases.checkpoints"]
    assert len(lines) == 1
    assert f"chains checkpointed: 2, events read up to {run.through_event_id}" in lines[0]
    assert f"digest sha256:{run.digest}" in lines[0]
    assert run_digest(run.at) == run.digest  # recomputable from the rows


def test_a_run_does_not_checkpoint_a_chain_that_lost_its_newest_events(build_case, caplog):
    case = build_case("decided")
    write_checkpoints()
    remove_events(*chain(case)[-2:])
    record_event(case, kind=CaseEvent.Kind.RECORD, action="after")

    with caplog.at_level(logging.ERROR, logger="cases.checkpoints"):
        run = write_checkpoints()

    assert run.written == 0
    assert run.short == [case.pk]
    assert f"falls short of its last checkpoint (run verify_audit): {case.reference}" in (
        caplog.text
    )
    assert len(checkpoints_of(case)) == 1  # the loss is not blessed: verify still sees it
    assert verify([case.pk])[0].problem is not None


@pytest.mark.django_db(transaction=True)
def test_an_event_still_committing_during_a_run_is_checkpointed_by_the_next(build_case):
    slow, fast = build_case("submitted"), build_case("submitted")
    write_checkpoints()
    inserted, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                record_event(slow, kind=CaseEvent.Kind.RECORD, action="slow")
                inserted.set()
                release.wait(60)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(60)
    # A later id commits first: the run sees it while the lower one is still uncommitted.
    record_event(fast, kind=CaseEvent.Kind.RECORD, action="fast")

    during = write_checkpoints(settle_seconds=0.2)
    release.set()
    writer.join(60)
    after = write_checkpoints()

    assert not during.settled  # it does not move past an id that may still commit
    assert [c.application_id for c in AuditCheckpoint.objects.filter(created_at=during.at)] == [
        fast.pk
    ]
    assert [c.application_id for c in AuditCheckpoint.objects.filter(created_at=after.at)] == [
        slow.pk
    ]
    assert checkpoints_of(slow)[-1].head_event_id == chain(slow)[-1].pk
