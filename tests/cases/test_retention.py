"""Retention: `anonymise --closed-before DATE` removes every trace of an applicant of a case
that ended before DATE, keeps the statistics and the audit chain, and touches nothing else."""

from __future__ import annotations

import datetime as dt
import io

import pgtrigger
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cases import retention, workflow
from cases.audit import REDACTED_TEXT, verify_chain
from cases.checkpoints import write_checkpoints
from cases.models import Appeal, Applicant, Application, CaseEvent, Document, Note
from tests.conftest import stored_files

PAST = dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
CUTOFF = "2025-01-01"
KOROLEV_TRACES = (
    "korolev",
    "korolyov",
    "koroljow",
    "королёв",
    "иван",
    "ivan",
    "1987-03-14",
    "59313-39",
    "artillery",
    "bus station",
    "passport",
    "75 1234567",
    "2031-05-20",
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def database_rows() -> dict[str, list[str]]:
    """Every row of every table, as JSON text: what a thief of a dump would read."""
    rows: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            # Table names come from pg_tables, not from input.
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t ORDER BY 1')  # noqa: S608
            rows[table] = [row for (row,) in cursor.fetchall()]
    return rows


def traces(needles: tuple[str, ...]) -> list[str]:
    found = []
    for table, rows in database_rows().items():
        for row in rows:
            lowered = row.lower()
            found += [f"{table}: {n}" for n in needles if n in lowered]
    return found


def ended_case(alice, dora, pabrade, *, when: dt.datetime, family="Korolev", given="Ivan"):
    """A case with personal data everywhere it can be, closed at `when` (Ivan Korolev's
    details by default)."""
    with time_machine.travel(when, tick=False):
        case = workflow.submit_application(
            actor=alice,
            applicant_data={
                "family_name": family,
                "given_names": given,
                "name_original": "Иван Королёв" if family == "Korolev" else "",
                "aliases": "Korolyov" if family == "Korolev" else "",
                "date_of_birth": dt.date(1987, 3, 14) if family == "Korolev" else None,
                "sex": "male",
                "nationality": "RU",
                "languages": "Russian",
                "military_status": "officer",
                "military_rank": "lieutenant",
                "military_unit": "59313-39" if family == "Korolev" else "",
                "military_background": f"{given} {family}: deputy chief at an artillery depot",
                **(
                    {
                        "id_document_type": "passport",
                        "id_document_number": "75 1234567",
                        "id_document_country": "RU",
                        "id_document_expires_on": dt.date(2031, 5, 20),
                    }
                    if family == "Korolev"
                    else {}
                ),
            },
            submitted_on=dt.date(2023, 8, 11),
            apprehended_on=dt.date(2023, 8, 10),
            apprehension_place="Vilnius central bus station",
            submission_place="Vilnius, Foreigners' Registration Centre",
            claim_summary=f"{given} {family} refused to fight and deserted.",
            grounds=["political_opinion", "military_service"],
            reason=f"{given} {family} asked for asylum at the bus station",
        )
        applicant = case.applicant
        if family == "Korolev":
            applicant.aliases = "Korolyov\nKoroljow"
            applicant.save()  # a second history row with the old and new aliases
        case = workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason=f"{family}'s file opened"
        )
        case = workflow.detain(
            case,
            actor=alice,
            expected_status="examination",
            reason=f"{given} {family} may abscond",
            facility=pabrade,
            legal_basis="Law on the Legal Status of Aliens Art. 113",
            order_reference=f"SBGS-{family}",
        )
        case = workflow.release(
            case, actor=alice, expected_status="detention", reason=f"{family} released by court"
        )
        workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
        workflow.add_note(case, actor=alice, text=f"{given} {family} says he deserted.")
        workflow.add_document(
            case,
            actor=alice,
            file=SimpleUploadedFile(f"{family} passport.pdf", PDF + family.encode()),
            original_name=f"{family} passport.pdf",
            description=f"Passport of {given} {family}",
        )
        case = workflow.decide(
            case,
            actor=dora,
            expected_status="examination",
            reason=f"{family}'s account is not credible",
            outcome="rejected",
            decided_on=dt.date(2024, 1, 10),
            served_on=dt.date(2024, 1, 12),
            return_decision_reference=f"RD-{family}-2024",
        )
        case = workflow.appeal(
            case,
            actor=alice,
            expected_status="decided",
            reason=f"{family} appealed",
            court="Regional Administrative Court",
            # The court's case number names the person here: retention must redact it.
            court_case_number=f"eI3-{family}-2024",
            lodged_on=dt.date(2024, 1, 20),
        )
        # Pronounced on 20 May 2024: the time for a further appeal ended on 19 June.
        workflow.record_judgment(
            case, actor=alice, judgment_on=dt.date(2024, 5, 20), outcome="upheld"
        )
        return workflow.close(
            case, actor=dora, expected_status="appealed", reason=f"Judgment on {family} final"
        )


def anonymise(*args: str) -> str:
    out = io.StringIO()
    call_command("anonymise", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def korolev(alice, dora, pabrade, media):
    return ended_case(alice, dora, pabrade, when=PAST)


def test_it_leaves_no_trace_of_the_applicant_anywhere_in_the_database(korolev, media):
    assert traces(KOROLEV_TRACES)  # the check finds them before
    assert len(stored_files(media)) == 1

    out = anonymise("--closed-before", CUTOFF)

    assert f"{korolev.reference}: anonymised" in out
    assert traces(KOROLEV_TRACES) == []
    assert stored_files(media) == []


def test_it_replaces_names_with_a_stable_pseudonym(korolev):
    anonymise("--closed-before", CUTOFF)

    applicant = Applicant.objects.get(pk=korolev.applicant_id)
    assert applicant.family_name == retention.pseudonym(applicant.pk)
    assert applicant.family_name.startswith("ANON-")
    assert applicant.given_names == applicant.name_original == applicant.aliases == ""
    assert applicant.date_of_birth is None
    assert applicant.search_key and "korolev" not in applicant.search_key
    assert applicant.history.filter(family_name="Korolev").count() == 0


def test_it_redacts_the_case_text_notes_documents_and_event_reasons(korolev):
    anonymise("--closed-before", CUTOFF)

    case = Application.objects.get(pk=korolev.pk)
    assert case.claim_summary == case.apprehension_place == REDACTED_TEXT
    assert case.return_decision_reference == REDACTED_TEXT
    assert Note.objects.get(application=case).text == REDACTED_TEXT
    document = Document.objects.get(application=case)
    assert document.original_name == document.description == REDACTED_TEXT
    assert not document.file
    assert len(document.sha256) == 64
    reasons = set(
        CaseEvent.objects.filter(application=case)
        .exclude(kind=CaseEvent.Kind.RETENTION)
        .exclude(reason="")
        .values_list("reason", flat=True)
    )
    assert reasons == {REDACTED_TEXT}


def test_it_keeps_statistics_and_appends_a_retention_event(korolev):
    before = Application.objects.get(pk=korolev.pk)
    events_before = CaseEvent.objects.filter(application=korolev).count()

    anonymise("--closed-before", CUTOFF)

    after = Application.objects.get(pk=korolev.pk)
    for name in (
        "status",
        "procedure",
        "submitted_on",
        "apprehended_on",
        "decided_on",
        "served_on",
        "decision_outcome",
        "grounds",
        "reference",
    ):
        assert getattr(after, name) == getattr(before, name), name
    # The appeal keeps its court, dates and outcome; its court case number names the person.
    appeal = Appeal.objects.get(application=korolev)
    assert (appeal.court, appeal.lodged_on) == (
        "Regional Administrative Court",
        dt.date(2024, 1, 20),
    )
    assert (appeal.judgment_on, appeal.outcome) == (dt.date(2024, 5, 20), "upheld")
    assert appeal.court_case_number == REDACTED_TEXT
    assert str(after.applicant.nationality) == "RU"
    assert after.applicant.sex == "male"
    assert CaseEvent.objects.filter(application=korolev).count() == events_before + 1
    event = CaseEvent.objects.filter(application=korolev).order_by("-pk").first()
    assert event.kind == CaseEvent.Kind.RETENTION
    assert event.data["closed_before"] == CUTOFF
    assert event.data["applicant"] == "anonymised"


def test_the_chain_still_verifies_and_reports_the_redaction(korolev):
    anonymise("--closed-before", CUTOFF)
    retention_event = CaseEvent.objects.get(application=korolev, kind="retention")

    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)

    assert err.getvalue() == ""
    assert f"redacted by retention event {retention_event.pk}" in out.getvalue()
    assert "Every chain is intact" in out.getvalue()
    report = verify_chain(korolev.pk)
    assert report.problem is None
    assert {by for _event, by in report.redacted} == {retention_event.pk}
    assert sorted(e for e, _by in report.redacted) == retention_event.data["redacted_events"]


def test_it_leaves_a_case_that_ended_after_the_date_untouched(korolev, alice, dora, pabrade):
    petrov = ended_case(alice, dora, pabrade, when=LATER, family="Petrov", given="Oleg")
    petrov_traces = ("petrov", "oleg")
    assert traces(petrov_traces)
    events_before = CaseEvent.objects.filter(application=petrov).count()

    out = anonymise("--closed-before", CUTOFF)

    assert petrov.reference not in out
    assert traces(petrov_traces)
    assert Applicant.objects.get(pk=petrov.applicant_id).family_name == "Petrov"
    assert Note.objects.get(application=petrov).text == "Oleg Petrov says he deserted."
    assert CaseEvent.objects.filter(application=petrov).count() == events_before


def test_it_leaves_open_cases_untouched(korolev, build_case):
    open_case = build_case("detention")
    events_before = CaseEvent.objects.filter(application=open_case).count()

    anonymise("--closed-before", CUTOFF)

    assert Applicant.objects.get(pk=open_case.applicant_id).family_name == "Korolev"
    assert CaseEvent.objects.filter(application=open_case).count() == events_before


def test_it_anonymises_a_withdrawn_case(alice, media):
    with time_machine.travel(PAST, tick=False):
        case = workflow.submit_application(
            actor=alice,
            applicant_data={"family_name": "Korolev", "given_names": "Ivan", "nationality": "RU"},
            submitted_on=dt.date(2024, 6, 1),
        )
        workflow.withdraw(
            case, actor=alice, expected_status="submitted", reason="Ivan left", kind="explicit"
        )

    anonymise("--closed-before", CUTOFF)

    assert traces(("korolev", "ivan")) == []


def test_a_dry_run_writes_nothing(korolev, media):
    before = database_rows()
    files_before = stored_files(media)

    out = anonymise("--closed-before", CUTOFF, "--dry-run")

    assert f"{korolev.reference}: would anonymise applicant" in out
    assert "Dry run: nothing was written." in out
    assert "Korolev" not in out
    assert database_rows() == before
    assert stored_files(media) == files_before


def test_a_second_run_changes_nothing(korolev):
    anonymise("--closed-before", CUTOFF)
    before = database_rows()

    out = anonymise("--closed-before", CUTOFF)

    assert "0 cases anonymised; 1 already anonymised" in out
    assert database_rows() == before


def test_a_note_added_after_a_run_is_anonymised_by_the_next_one(korolev, alice):
    anonymise("--closed-before", CUTOFF)
    workflow.add_note(korolev, actor=alice, text="Korolev called again.")

    out = anonymise("--closed-before", CUTOFF)

    assert f"{korolev.reference}: anonymised 1 note" in out
    assert traces(("korolev",)) == []
    assert verify_chain(korolev.pk).problem is None
    assert CaseEvent.objects.filter(application=korolev, kind="retention").count() == 2


def test_it_keeps_an_applicant_whose_other_case_is_not_due(korolev, alice):
    applicant = Applicant.objects.get(pk=korolev.applicant_id)
    newer = workflow.submit_application(
        actor=alice, applicant=applicant, submitted_on=dt.date(2025, 2, 1)
    )

    out = anonymise("--closed-before", CUTOFF)

    assert "applicant kept: another of their cases is not due yet" in out
    assert Applicant.objects.get(pk=applicant.pk).family_name == "Korolev"
    assert Note.objects.get(application=korolev).text == REDACTED_TEXT
    assert Application.objects.get(pk=newer.pk).status == "submitted"


def test_one_applicant_gets_one_pseudonym_across_cases(korolev, alice, dora, pabrade):
    applicant = Applicant.objects.get(pk=korolev.applicant_id)
    with time_machine.travel(PAST, tick=False):
        second = workflow.submit_application(
            actor=alice, applicant=applicant, submitted_on=dt.date(2024, 5, 1)
        )
        workflow.withdraw(
            second, actor=alice, expected_status="submitted", reason="Left", kind="implicit"
        )

    out = anonymise("--closed-before", CUTOFF)

    assert "2 cases anonymised" in out
    assert Applicant.objects.get(pk=applicant.pk).family_name == retention.pseudonym(applicant.pk)


@pytest.mark.parametrize("bad", ["2021-13-01", "yesterday", "01/02/2021", "2021-1-1", ""])
def test_it_refuses_a_malformed_date(db, bad):
    with pytest.raises(CommandError, match="must be a date written YYYY-MM-DD"):
        call_command("anonymise", "--closed-before", bad)


def test_it_refuses_a_date_in_the_future(db):
    with pytest.raises(CommandError, match="is in the future"):
        call_command("anonymise", "--closed-before", "2999-01-01")


# ---- a timeline that is already broken keeps its evidence ---------------------------------


def anonymise_refused(*args: str) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("anonymise", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), info.value


def tamper(case) -> CaseEvent:
    """Change an event's status behind Haven's back (trigger off, as an owner could)."""
    target = CaseEvent.objects.filter(application=case, kind="transition").order_by("pk")[1]
    with (
        pgtrigger.ignore("cases.CaseEvent:caseevent_no_update"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE cases_caseevent SET to_status = 'submitted' WHERE id = %s", [target.pk]
        )
    return target


def verify_audit() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def petrov(alice, dora, pabrade, media):
    return ended_case(alice, dora, pabrade, when=PAST, family="Petrov", given="Oleg")


def test_it_leaves_a_tampered_case_as_it_is_and_anonymises_the_others(korolev, petrov):
    target = tamper(korolev)
    korolev_rows = {
        table: [row for row in rows if "orolev" in row or "оролёв" in row]
        for table, rows in database_rows().items()
    }
    events_before = CaseEvent.objects.filter(application=korolev).count()

    out, err, error = anonymise_refused("--closed-before", CUTOFF)

    assert error.returncode == 3
    assert f"{korolev.reference}: not anonymised, left as it is: its timeline is broken " in err
    assert f"(event {target.pk}: its content does not match its hash" in err
    assert korolev.reference in str(error)
    assert "1 case anonymised" in out
    assert "1 case skipped: its timeline is broken." in out
    # The tampered case: every row exactly as it was, no retention event.
    assert {
        table: [row for row in rows if "orolev" in row or "оролёв" in row]
        for table, rows in database_rows().items()
    } == korolev_rows
    assert CaseEvent.objects.filter(application=korolev).count() == events_before
    assert not CaseEvent.objects.filter(application=korolev, kind="retention").exists()
    # The case beside it is anonymised as usual.
    assert traces(("petrov", "oleg")) == []
    assert CaseEvent.objects.filter(application=petrov, kind="retention").count() == 1
    # Afterwards verify_audit still names the tampering, and only that.
    _out, err = verify_audit()
    assert f"BROKEN {korolev.reference}: event {target.pk}: its content does not match" in err
    assert petrov.reference not in err


def test_a_dry_run_names_a_tampered_case_too(korolev, petrov):
    target = tamper(korolev)
    before = database_rows()

    out, err, error = anonymise_refused("--closed-before", CUTOFF, "--dry-run")

    assert error.returncode == 3
    assert f"{korolev.reference}: would be left as it is: its timeline is broken (event " in err
    assert str(target.pk) in err
    assert f"{petrov.reference}: would anonymise applicant" in out
    assert korolev.reference not in out.split("1 case would be anonymised")[0]
    assert database_rows() == before


def test_it_leaves_a_case_whose_newest_events_were_removed_after_a_checkpoint(korolev, alice):
    workflow.add_note(korolev, actor=alice, text="Korolev's lawyer asked for the file.")
    write_checkpoints()
    newest, previous = CaseEvent.objects.filter(application=korolev).order_by("-pk")[:2]
    assert newest.kind == "note"
    with (
        pgtrigger.ignore("cases.CaseEvent:caseevent_no_delete"),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM cases_caseevent WHERE id = %s", [newest.pk])

    _out, err, error = anonymise_refused("--closed-before", CUTOFF)

    assert error.returncode == 3
    assert f"{korolev.reference}: not anonymised" in err
    assert f"events after event {previous.pk} were removed" in err
    assert traces(("korolev",))


def test_a_checkpointed_case_still_verifies_after_anonymisation(korolev, petrov):
    write_checkpoints()

    anonymise("--closed-before", CUTOFF)

    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert "Every chain is intact" in out.getvalue()
    # The retention event made the chains longer: the next run checkpoints them.
    assert write_checkpoints().written == 2


def test_it_removes_the_interpreter_and_the_languages_of_interviews_and_service(alice, dora):
    with time_machine.travel(dt.datetime(2023, 8, 20, 10, 0, tzinfo=dt.UTC), tick=False):
        case = workflow.submit_application(
            actor=alice,
            applicant_data={"family_name": "Haile", "nationality": "ER"},
            submitted_on=dt.date(2023, 8, 11),
        )
        case = workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason="Go"
        )
        interview = workflow.schedule_interview(
            case,
            actor=alice,
            scheduled_at=dt.datetime(2023, 9, 1, 7, 0, tzinfo=dt.UTC),
            interviewer=alice,
            language="Tigrinya",
            interpreter="Zinaida Quennell",
        )
    with time_machine.travel(dt.datetime(2023, 9, 5, 10, 0, tzinfo=dt.UTC), tick=False):
        workflow.record_interview(case, actor=alice, interview=interview.pk)
        case = workflow.decide(
            case,
            actor=dora,
            expected_status="examination",
            reason="Assessed",
            outcome="rejected",
            decided_on=dt.date(2023, 9, 4),
        )
        workflow.record_service(
            case, actor=alice, served_on=dt.date(2023, 9, 5), method="in_person", language="Tigre"
        )
    with time_machine.travel(dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        workflow.close(case, actor=dora, expected_status="decided", reason="Final")
    needles = ("zinaida", "quennell", "tigrinya", "tigre")
    assert traces(needles)

    out = anonymise("--closed-before", CUTOFF)

    assert f"{case.reference}: anonymised" in out
    assert "1 personal interview" in out
    assert traces(needles) == []
    case.refresh_from_db()
    interview.refresh_from_db()
    # What statistics need stays: when, who interviewed, how it went; the method of service.
    assert (interview.status, interview.held_on) == ("held", dt.date(2023, 9, 1))
    assert interview.interviewer == alice
    assert (case.service_method, case.interviewed_on) == ("in_person", dt.date(2023, 9, 1))


def test_it_removes_the_detention_s_court_numbers_and_last_resort_reason(alice, dora, pabrade):
    """Court case numbers of orders and appeals on detention lead to the person's court file,
    and a last-resort reason speaks of the minor: none is left after anonymisation."""
    with time_machine.travel(PAST, tick=False):
        case = workflow.submit_application(
            actor=alice,
            applicant_data={"family_name": "Sidorov", "given_names": "Pavel", "nationality": "RU"},
            submitted_on=dt.date(2024, 6, 1),
            reason="Asked at the border",
        )
        case = workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason="Go"
        )
        workflow.record_vulnerability_assessment(
            case,
            actor=alice,
            assessed_on=dt.date(2024, 6, 1),
            categories=["unaccompanied_minor"],
            assessor="Dr Jonaitė",
        )
        case = workflow.detain(
            case,
            actor=dora,
            expected_status="examination",
            reason="Absconding",
            facility=pabrade,
            legal_basis="Law on the Legal Status of Aliens Art. 113",
            order_reference="SBGS-7",
            last_resort_reason="Sidorov ran away from the children's home twice",
        )
        workflow.record_court_order(
            case,
            actor=alice,
            court="Utena District Court",
            case_number="e2-Sidorov-1",
            order_on=dt.date(2024, 7, 1),
            until=dt.date(2024, 9, 1),
        )
        workflow.lodge_detention_appeal(
            case,
            actor=alice,
            lodged_on=dt.date(2024, 7, 1),
            court="Regional Administrative Court",
            case_number="eI-Sidorov-2",
        )
        case = workflow.withdraw(
            case, actor=alice, expected_status="detention", reason="Withdrawn", kind="explicit"
        )
    needles = ("sidorov-1", "sidorov-2", "children's home")
    assert len(traces(needles)) >= 3

    anonymise("--closed-before", CUTOFF)

    assert traces(needles) == []
