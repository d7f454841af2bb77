"""The timeline is append-only and tamper-evident: the database refuses changes, and
`verify_audit` names the first event of a chain that was altered behind Haven's back."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pgtrigger
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import ProgrammingError
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cases import access
from cases.audit import REDACTED_TEXT, record_event, redact_reasons, verify_chain
from cases.models import CaseEvent
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]


def verify(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def verify_fails(*args: str) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), info.value


def chain(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(application=case).order_by("pk"))


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_passes_a_clean_chain(build_case):
    closed = build_case("closed")
    build_case("detention")

    out, err = verify()

    assert f"Checked 2 cases, {CaseEvent.objects.count()} events." in out
    assert "Every chain is intact" in out
    assert err == ""
    assert verify_chain(closed.pk).events == len(chain(closed))


def test_it_names_an_event_altered_behind_the_applications_back(build_case):
    case = build_case("decided")
    target = chain(case)[2]
    with pgtrigger.ignore("cases.CaseEvent:caseevent_no_update"):
        raw("UPDATE cases_caseevent SET to_status = 'closed' WHERE id = %s", [target.pk])

    out, err, error = verify_fails()

    assert f"BROKEN {case.reference}: event {target.pk}: its content does not match its hash" in (
        err
    )
    assert "1 broken chain" in str(error)
    assert error.returncode != 0


def test_it_names_the_event_after_a_deleted_one(build_case):
    case = build_case("decided")
    events = chain(case)
    removed, following = events[2], events[3]
    with pgtrigger.ignore("cases.CaseEvent:caseevent_no_delete"):
        raw("DELETE FROM cases_caseevent WHERE id = %s", [removed.pk])

    _out, err, _error = verify_fails()

    assert f"BROKEN {case.reference}: event {following.pk}:" in err
    assert f"does not link to the event before it (event {events[1].pk})" in err


def test_it_notices_that_the_first_events_were_removed(build_case):
    case = build_case("examination")
    first, second = chain(case)[:2]
    with pgtrigger.ignore("cases.CaseEvent:caseevent_no_delete"):
        raw("DELETE FROM cases_caseevent WHERE id = %s", [first.pk])

    _out, err, _error = verify_fails()

    assert f"event {second.pk}: it is the case's first event but links to an earlier one" in err


def test_it_notices_a_case_whose_whole_timeline_was_removed(build_case):
    case = build_case("examination")
    with pgtrigger.ignore("cases.CaseEvent:caseevent_no_delete"):
        raw("DELETE FROM cases_caseevent WHERE application_id = %s", [case.pk])

    _out, err, _error = verify_fails()

    assert f"BROKEN {case.reference}: the case has no events" in err


def test_it_notices_a_reason_rewritten_through_the_column_the_trigger_lets_through(build_case):
    case = build_case("examination")
    target = chain(case)[-1]
    raw("UPDATE cases_caseevent SET reason = 'Nothing to see' WHERE id = %s", [target.pk])

    _out, err, _error = verify_fails()

    assert f"event {target.pk}: its reason was changed" in err


def test_it_notices_a_redaction_without_a_retention_event(build_case):
    case = build_case("examination")
    first, last = chain(case)[0], chain(case)[-1]
    raw(
        "UPDATE cases_caseevent SET reason = %s, redacted_by_id = %s WHERE id = %s",
        [REDACTED_TEXT, last.pk, first.pk],
    )

    _out, err, _error = verify_fails()

    assert f"event {first.pk}: its reason is marked redacted by event {last.pk}" in err


def test_it_reports_a_redaction_by_retention_as_redaction_not_tampering(build_case):
    case = build_case("examination")
    redacted = [e.pk for e in chain(case) if e.reason]
    retention = record_event(
        case, kind=CaseEvent.Kind.RETENTION, action="anonymised", data={"redacted_events": redacted}
    )
    assert redact_reasons(case, redacted, retention) == len(redacted)

    out, err = verify()

    listed = ", ".join(str(pk) for pk in redacted)
    assert f"{case.reference}: events {listed} redacted by retention event {retention.pk}" in out
    assert f"{len(redacted)} reasons redacted by retention" in out
    assert err == ""


def test_it_refuses_a_redaction_of_an_event_the_retention_event_does_not_list(build_case):
    case = build_case("examination")
    events = chain(case)
    retention = record_event(
        case,
        kind=CaseEvent.Kind.RETENTION,
        action="anonymised",
        data={"redacted_events": [events[0].pk]},
    )
    redact_reasons(case, [events[0].pk, events[1].pk], retention)

    _out, err, _error = verify_fails()

    assert f"event {events[1].pk}: its reason is marked redacted by event {retention.pk}" in err


def test_it_checks_one_case_by_reference(build_case):
    broken = build_case("examination")
    intact = build_case("submitted")
    raw("UPDATE cases_caseevent SET reason = 'x' WHERE id = %s", [chain(broken)[0].pk])

    out, _err = verify("--case", intact.reference)

    assert "Checked 1 case" in out


def test_it_refuses_an_unknown_reference(db):
    with pytest.raises(CommandError, match="No case with reference LT-1999-000001"):
        call_command("verify_audit", "--case", "LT-1999-000001")


def test_it_shows_progress_at_verbosity_2(build_case):
    for _ in range(3):
        build_case("submitted")

    out, _err = verify("--batch-size", "2", "-v", "2")

    assert "Checked 2 of 3 cases" in out
    assert "Checked 3 of 3 cases" in out


def test_the_database_refuses_an_update_of_an_event(case):
    # pgtrigger's RAISE EXCEPTION (SQLSTATE P0001) reaches Django as ProgrammingError.
    event = chain(case)[0]

    with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
        raw("UPDATE cases_caseevent SET to_status = 'closed' WHERE id = %s", [event.pk])

    event.refresh_from_db()
    assert event.to_status == "submitted"


def test_the_database_refuses_to_delete_an_event(case):
    event = chain(case)[0]

    with pytest.raises(ProgrammingError, match="Cannot delete rows"), transaction.atomic():
        raw("DELETE FROM cases_caseevent WHERE id = %s", [event.pk])

    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_the_event_queryset_refuses_update_delete_and_bulk_create(case):
    events = CaseEvent.objects.filter(application=case)

    with pytest.raises(TypeError, match="append-only"):
        events.update(reason="changed")
    with pytest.raises(TypeError, match="append-only"):
        events.delete()
    with pytest.raises(TypeError):
        CaseEvent.objects.bulk_create([CaseEvent(application=case, kind="note", hash="x")])
    assert all(e.reason != "changed" for e in events)


def test_an_event_is_two_statements_the_locks_with_the_last_hash_then_the_insert(case):
    """One round trip takes the locks and reads the chain's end (in a second statement, after
    the lock), one inserts: a view's record on every case page."""
    last = chain(case)[-1]
    with CaptureQueriesContext(connection) as ctx:
        event = record_event(case, kind=CaseEvent.Kind.RECORD, action="checked")
    sent = [
        q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(sent) == 2
    assert "pg_advisory_xact_lock" in sent[0]
    assert sent[0].index("pg_advisory_xact_lock") < sent[0].index("SELECT hash")
    assert sent[1].startswith("INSERT")
    assert event.prev_hash == last.hash
    assert verify_chain(case.pk).problem is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_valid_chain(case, alice):
    threads_count, per_thread = 6, 5
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(per_thread):
                record_event(
                    case, kind=CaseEvent.Kind.RECORD, action="stress", data={"n": n, "i": i}
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    before = CaseEvent.objects.filter(application=case).count()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    report = verify_chain(case.pk)
    assert report.problem is None
    assert report.events == before + threads_count * per_thread
    hashes = [e.prev_hash for e in chain(case)]
    assert len(set(hashes)) == len(hashes), "two events link to the same predecessor"


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_on_a_broken_chain(build_case):
    case = build_case("examination")
    target = chain(case)[1]
    with pgtrigger.ignore("cases.CaseEvent:caseevent_no_update"):
        raw("UPDATE cases_caseevent SET actor_id = NULL WHERE id = %s", [target.pk])
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {**os.environ, "DATABASE_URL": f"postgres://{credentials}@{where}/{db['NAME']}"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = run_python("manage.py", "verify_audit", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"BROKEN {case.reference}: event {target.pk}" in result.stderr


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_view_recorded_on_its_own_commits_without_waiting_for_the_disk(case, alice):
    with CaptureQueriesContext(connection) as captured:
        access.log_access(case, alice, RequestFactory().get("/"), what="case")
    assert any("'synchronous_commit', 'off'" in q["sql"] for q in captured.captured_queries)
    # Only for that transaction; and the view is recorded on a whole chain.
    assert synchronous_commit() == "on"
    assert case.events.access_log().filter(actor=alice).count() == 1
    assert verify_chain(case.pk).problem is None


def test_a_view_recorded_inside_a_change_leaves_the_change_waiting_for_the_disk(case, alice):
    with transaction.atomic():
        access.log_access(case, alice, RequestFactory().get("/"), what="case")
        assert synchronous_commit() == "on"
    assert case.events.access_log().filter(actor=alice).count() == 1
