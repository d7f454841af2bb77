"""generate_cases: synthetic cases that look like the workflow's own, loaded with COPY.

The generator simulates each case's story instead of calling `cases.workflow` (for speed), so
these tests hold the generated rows to the workflow's invariants: transitions that the state
machine allows and that lead to the stored status, placements and deadlines that match the
status, due dates computed by the rules, and timelines that are valid hash chains.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Min

from accounts import roles
from accounts.models import Unit
from cases.audit import verify_chains
from cases.deadlines import rule_due
from cases.filters import search_applications
from cases.models import (
    FINAL_STATUSES,
    Applicant,
    Application,
    CaseEvent,
    Deadline,
    DeadlineRule,
    Facility,
    Placement,
    Status,
)
from cases.names import search_key
from loadgen.loader import Report, generate
from loadgen.story import LONG_CASE_EVENTS, SYNTHETIC_MARK
from loadgen.world import UNITS

ROOT = Path(__file__).resolve().parents[2]
COUNT = 60
SEED = 7


@pytest.fixture
def generated(db) -> Report:
    return generate(COUNT, seed=SEED)


def _allowed_transitions() -> dict[str, tuple[set[str], str]]:
    """Transition name -> (sources, target), from the state machine declared on the model."""
    allowed: dict[str, tuple[set[str], str]] = {}
    for t in Application._meta.get_field("status").get_all_transitions(Application):
        sources, target = allowed.setdefault(t.name, (set(), str(t.target)))
        sources.add(str(t.source))
    return allowed


@pytest.mark.django_db
def test_it_generates_every_status_marked_synthetic(generated):
    cases = Application.objects.all()
    assert cases.count() == COUNT == generated.cases
    assert set(cases.values_list("status", flat=True)) == set(Status.values)
    assert all(ref.startswith("SYN-") for ref in cases.values_list("reference", flat=True))
    assert all(
        summary == SYNTHETIC_MARK for summary in cases.values_list("claim_summary", flat=True)
    )
    assert all(name.startswith("SYN ") for name in Unit.objects.values_list("name", flat=True))


@pytest.mark.django_db
def test_each_cases_transitions_lead_to_its_status(generated):
    allowed = _allowed_transitions()
    chains: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in CaseEvent.objects.filter(kind=CaseEvent.Kind.TRANSITION).order_by("pk"):
        chains[event.application_id].append(event)
    for case in Application.objects.all():
        events = chains[case.pk]
        assert events[0].action == "submit" and events[0].to_status == Status.SUBMITTED
        status = Status.SUBMITTED
        for event in events[1:]:
            sources, target = allowed[event.action]
            assert event.from_status == status, (case.reference, event.action)
            assert status in sources and event.to_status == target, (case.reference, event.action)
            status = event.to_status
        assert status == case.status, case.reference
        assert case.status_changed_at == events[-1].at


@pytest.mark.django_db
def test_placements_and_deadlines_match_the_status(generated):
    detained = set(
        Placement.objects.current()
        .filter(regime=Placement.Regime.DETENTION)
        .values_list("application_id", flat=True)
    )
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert {pk for pk, s in statuses.items() if s == Status.DETENTION} == detained
    with_open = set(Deadline.objects.open().values_list("application_id", flat=True))
    ended = {pk for pk, s in statuses.items() if s in FINAL_STATUSES}
    assert ended and not (ended & with_open)
    assert not Placement.objects.current().filter(application_id__in=ended).exists()
    for facility in Facility.objects.all():
        assert facility.occupancy() <= facility.capacity
    nearest = dict(
        Deadline.objects.open()
        .values("application_id")
        .annotate(m=Min("due_at"))
        .values_list("application_id", "m")
    )
    for pk, next_deadline_at in Application.objects.values_list("pk", "next_deadline_at"):
        assert next_deadline_at == nearest.get(pk)


@pytest.mark.django_db
def test_deadlines_follow_the_rules(generated):
    rules = {r.code: r for r in DeadlineRule.objects.all()}
    deadlines = list(Deadline.objects.select_related("application"))
    assert {d.status for d in deadlines} >= {"open", "met", "missed", "cancelled"}
    for d in deadlines:
        rule = rules[d.rule_id]
        assert (d.due_on, d.due_at) == rule_due(rule, d.starts_at), (d.rule_id, d.pk)
        assert rule.applies_to(d.application.submitted_on)
        if d.status == Deadline.Status.OPEN:
            assert d.closed_at is None
        elif d.status == Deadline.Status.MET:
            assert d.closed_at <= d.due_at
        elif d.status == Deadline.Status.MISSED:
            assert d.closed_at > d.due_at


@pytest.mark.django_db
def test_timelines_are_valid_hash_chains_of_5_to_50_events_and_one_of_200(generated):
    reports = verify_chains(Application.objects.values_list("pk", flat=True))
    assert [r for r in reports if r.problem] == []
    sizes = dict(
        CaseEvent.objects.values("application_id")
        .annotate(n=Count("pk"))
        .values_list("application_id", "n")
    )
    long_cases = [pk for pk, n in sizes.items() if n == LONG_CASE_EVENTS]
    assert long_cases == [generated.long_case_id]
    assert all(5 <= n <= 50 for pk, n in sizes.items() if pk != generated.long_case_id)
    assert generated.events == sum(sizes.values())


@pytest.mark.django_db
def test_staff_and_assignments_belong_to_the_case_unit(generated):
    per_unit = Counter(Application.objects.values_list("unit__name", flat=True))
    assert per_unit.most_common(1)[0][0] == UNITS[0][0]
    for case in Application.objects.exclude(assigned_to=None).select_related("assigned_to"):
        assert case.assigned_to.unit_id == case.unit_id
        assert case.assigned_to.has_role(roles.CASEWORKER)
    for unit in Unit.objects.all():
        members = unit.members.all()
        assert any(m.has_role(roles.CASEWORKER) for m in members)
        assert any(m.has_role(roles.DECISION_MAKER) for m in members)
        assert not any(m.has_usable_password() for m in members)


@pytest.mark.django_db
def test_cyrillic_names_are_found_by_their_search_key(generated):
    cyrillic = [
        a
        for a in Applicant.objects.exclude(name_original="")
        if any("\u0400" <= ch <= "\u04ff" for ch in a.name_original)
    ]
    assert len(cyrillic) >= 5
    for applicant in Applicant.objects.all():
        expected = search_key(
            f"{applicant.given_names} {applicant.family_name}",
            f"{applicant.family_name} {applicant.given_names}",
            applicant.name_original,
            *applicant.alias_list(),
        )
        assert applicant.search_key == expected
    person = cyrillic[0]
    family_cyrillic = person.name_original.split()[-1]
    for query in (family_cyrillic, person.family_name, *person.alias_list()):
        found = search_applications(Application.objects.all(), query)
        assert found.filter(applicant=person).exists(), query


@pytest.mark.django_db
def test_a_second_run_adds_cases_to_the_same_units_and_staff(generated):
    units = Unit.objects.count()
    generate(10, seed=SEED + 1)
    assert Application.objects.count() == COUNT + 10
    assert Unit.objects.count() == units
    assert len(set(Application.objects.values_list("reference", flat=True))) == COUNT + 10


@pytest.mark.django_db
def test_the_command_reports_what_it_generated(capsys):
    call_command("generate_cases", count=12, seed=3)
    out = capsys.readouterr().out
    assert "12 cases" in out and "Case with 200 events" in out
    assert Application.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_standalone_run_restores_foreign_keys_and_triggers():
    def schema() -> tuple[list, list]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, convalidated FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text LIKE 'cases_%' ORDER BY 1, 2"
            )
            keys = cursor.fetchall()
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE NOT tgisinternal ORDER BY 1, 2"
            )
            return keys, cursor.fetchall()

    before = schema()
    call_command("generate_cases", count=15, seed=5, verbosity=0)
    assert schema() == before
    assert all(validated for _t, _n, validated in before[0])
    assert not [
        r for r in verify_chains(Application.objects.values_list("pk", flat=True)) if r.problem
    ]
    # Explicit ids were used: the sequences moved past them.
    submitted = Applicant.objects.create(family_name="After", given_names="Load")
    assert submitted.pk > Applicant.objects.exclude(pk=submitted.pk).order_by("-pk")[0].pk


def test_it_refuses_sqlite_with_a_clear_message(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        {
            "DEBUG": "true",
            "HAVEN_IGNORE_DOTENV": "1",
            "HAVEN_TESTING": "false",
            "TEST_DATABASE_NAME": "",
        }
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "generate_cases", "--count", "5"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "generate_cases needs PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
