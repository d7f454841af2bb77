"""Twenty people work on one case at the same moment, through gunicorn with four workers.

The scenario (`bench/mixed_load.py`, shared with `make bench`): a case in detention; in each
of 8 rounds, 20 signed-in sessions wait at a barrier and then at once open the case page,
add a note, upload a document (a distinct small PDF or PNG each) or race for the one
transition the case's state allows (release, then detain, ...). The server is the real
production stack: gunicorn, DEBUG off, the manifest static storage, over HTTP on
127.0.0.1, against this test's PostgreSQL database.

What a user would check afterwards: nobody got a server error; every note and document the
server accepted is on the case with its timeline event, and nothing the server refused is;
each race had exactly one winner, whose transition is on the timeline, and every other
racer was told the case changed (409); the case's hash chain is intact; and the server's
log shows no deadlock.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

import pytest
from django.conf import settings
from django.db import connection

from bench import mixed_load
from cases.audit import verify_chains
from cases.models import Application, CaseEvent, Document, Note

ROUNDS = 8


def stored_as_answered(
    what: str, outcomes: list[mixed_load.Outcome], stored: dict[str, int], events: set[int]
) -> list[str]:
    """What is wrong between the answers to `outcomes` and the rows `stored` (marker -> id)
    with their timeline `events` (the ids they point at)."""
    accepted = {o.marker for o in outcomes if o.accepted}
    problems = []
    if accepted - stored.keys():
        problems.append(f"accepted {what} missing: {sorted(accepted - stored.keys())}")
    if stored.keys() - accepted:
        problems.append(f"{what} stored though refused: {sorted(stored.keys() - accepted)}")
    if set(stored.values()) - events:
        problems.append(f"{what} without their timeline event: {set(stored.values()) - events}")
    if not accepted:
        problems.append(f"no {what} accepted at all")
    return problems


@pytest.mark.slow
def test_it_keeps_every_change_and_never_answers_500_under_mixed_load(
    transactional_db, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="axes")  # twenty sign-ins, four lines each
    world = mixed_load.build_world()
    last_event_before = (
        CaseEvent.objects.filter(application_id=world.case_id).order_by("-pk").first().pk
    )
    secret_key = secrets.token_urlsafe(50)
    media_root = tmp_path / "media"
    env = mixed_load.server_environment(
        database_url=mixed_load.database_url(connection.settings_dict),
        secret_key=secret_key,
        static_root=tmp_path / "static",
        media_root=media_root,
        redis_url=settings.REDIS_URL,
    )
    mixed_load.collect_static(env)
    sessions = mixed_load.sign_in(world, secret_key=secret_key)
    log = tmp_path / "gunicorn.log"
    with mixed_load.serve(env, log=log, workers=4) as host:  # stopped however the block ends
        mixed_load.open_case_pages(host, world, sessions)
        report = mixed_load.run_rounds(host, world, sessions, rounds=ROUNDS)
    server_log = log.read_text(errors="replace")
    problems: list[str] = []

    # Nobody got a server error, and every answer is the one its request should get.
    server_errors = report.server_errors()
    if server_errors:
        problems.append(
            f"{len(server_errors)} of {len(report.outcomes)} requests answered 5xx "
            f"(by kind and status: {report.statuses()})"
        )
    other = [o for o in report.unexpected() if o.status < 500]
    if other:
        problems.append(
            f"{len(other)} other answers a correct server does not give: "
            + "; ".join(mixed_load.describe(o) for o in other[:5])
        )

    # Every note and document the server accepted is on the case with its timeline event;
    # none that it refused is. Documents hold the bytes that were sent, where the server
    # keeps them.
    case_events = CaseEvent.objects.filter(application_id=world.case_id)
    notes = dict(Note.objects.filter(application_id=world.case_id).values_list("text", "pk"))
    problems += stored_as_answered(
        "notes",
        report.of(mixed_load.NOTE),
        notes,
        set(case_events.filter(kind=CaseEvent.Kind.NOTE).values_list("data__note", flat=True)),
    )
    documents = {d.original_name: d for d in Document.objects.filter(application_id=world.case_id)}
    uploads = report.of(mixed_load.DOCUMENT)
    problems += stored_as_answered(
        "documents",
        uploads,
        {name: d.pk for name, d in documents.items()},
        set(
            case_events.filter(kind=CaseEvent.Kind.DOCUMENT).values_list(
                "data__document", flat=True
            )
        ),
    )
    sent = {o.marker: o.sha256 for o in uploads}
    for name, document in documents.items():
        path = media_root / document.file.name
        if document.sha256 != sent.get(name):
            problems.append(f"document {name} stored with another checksum than was sent")
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != document.sha256:
            problems.append(f"document {name}: its file {path} is missing or differs")

    # Each race had exactly one winner, whose transition (and only it) is on the timeline.
    winners = []
    for round_no in range(1, ROUNDS + 1):
        racers = [o for o in report.of(mixed_load.TRANSITION) if o.round == round_no]
        won = [o for o in racers if o.accepted]
        if len(won) != 1:
            problems.append(
                f"round {round_no}: {len(won)} winners of the {racers[0].step} race "
                f"(answers {sorted(o.status for o in racers)})"
            )
        winners.extend(won)
    transitions = list(
        CaseEvent.objects.filter(
            application_id=world.case_id, kind=CaseEvent.Kind.TRANSITION, pk__gt=last_event_before
        )
        .order_by("pk")
        .values_list("action", "reason", "actor__username")
    )
    expected = [
        (o.step, f"{'Released' if o.step == 'release' else 'Detained'}: {o.marker}", o.username)
        for o in winners
    ]
    if transitions != expected:
        problems.append(f"transitions on the timeline {transitions}, winners {expected}")
    status = Application.objects.values_list("status", flat=True).get(pk=world.case_id)
    if status != ("detention" if len(transitions) % 2 == 0 else "examination"):
        problems.append(f"the case is {status} after {len(transitions)} transitions")

    # The timeline is the one Haven wrote, and the server never met a deadlock.
    chain = verify_chains([world.case_id])[0]
    if chain.problem is not None:
        problems.append(f"verify_audit: event {chain.problem.event_id}: {chain.problem.problem}")
    deadlocks = mixed_load.deadlock_lines(server_log)
    if deadlocks:
        problems.append(f"{len(deadlocks)} lines with 'deadlock detected' in the server log")

    assert not problems, "\n".join(problems) + "\n\n" + mixed_load.summary(report, server_log)
