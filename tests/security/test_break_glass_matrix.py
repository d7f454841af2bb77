"""Emergency access, URL by persona, in each state of a grant: before it, while it lasts
(read-only), once extended to work, after it ended, and after it was ended early.

oscar (caseworker of unit B) asks every URL of the caseworker UI and the reports that names
unit A's case, with a GET, an empty POST and a forged body (`test_url_matrix`'s bodies):

- before a grant and after it ended (in time, or early), everything answers as for a
  missing case, nothing of unit A reaches him and nothing of unit A changes (the state
  "before" is also the outsider test of `test_url_matrix`, which asks the admin too);
- while a read-only grant lasts he reads the case and its document, each view in the access
  log, and no request of his changes the case (its status, notes, documents, deadlines,
  assignment: every row but the access log's);
- once extended he works on it (a note is accepted) but still may not decide, assign or read
  the access log; nobody gets a 500 in any state.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cases import workflow
from cases.models import Applicant, Application, CaseEvent

from .conftest import snapshot, snapshot_diff
from .test_url_matrix import Answer, RecordingClient, _ask, _forged_bodies, targets

pytestmark = pytest.mark.django_db

CASE_APPS = ("cases", "reports")
HEALTH = "zq-health-marker"


def case_targets(world):
    """Targets of the caseworker UI and the reports that name unit A's case."""
    return [
        t
        for t in targets(world)
        if not t.is_admin
        and t.route.name
        and t.route.name.split(":")[0] in CASE_APPS
        and t.has_object
    ]


def ask(client, world, *, compare_missing: bool, skip: tuple[str, ...] = ()) -> list[Answer]:
    answers = []
    for target in case_targets(world):
        if target.route.name in skip:
            continue
        bodies = {"get": None, "empty": {}, **_forged_bodies(target, world)}
        for name, data in bodies.items():
            answer = Answer(
                target, "GET" if data is None else "POST", name, *_ask(client, target.url, data)
            )
            if compare_missing and target.real:
                answer.missing = _ask(client, target.missing_url, data)[:2]
            answers.append(answer)
    return answers


def failures(answers) -> list[str]:
    return [f"{a}: {a.error}" for a in answers if a.status >= 500]


def signed_in(user) -> RecordingClient:
    client = RecordingClient()
    client.force_login(user)
    return client


def _assert_as_missing(world, client):
    before = snapshot()
    answers = ask(client, world, compare_missing=True)
    assert not failures(answers), "\n".join(failures(answers))
    leaked = [f"{a}: {world.leaks(a.content)}" for a in answers if world.leaks(a.content)]
    assert not leaked, "\n".join(leaked)
    wrong = [f"{a}; missing: {a.missing}" for a in answers if not a.same_as_missing()]
    wrong += [str(a) for a in answers if a.status not in (404, 405)]
    assert not wrong, "\n".join(wrong)
    assert not snapshot_diff(before, snapshot())


def test_before_a_grant_the_case_answers_as_missing(world):
    _assert_as_missing(world, signed_in(world.users["oscar"]))


def test_after_the_grant_ended_the_case_answers_as_missing(world):
    oscar = world.users["oscar"]
    grant = workflow.open_break_glass(world.case, actor=oscar, reason="Night at the border")
    workflow.extend_break_glass(grant, actor=world.users["dora"])
    with time_machine.travel(grant.ends_at + dt.timedelta(seconds=1), tick=False):
        _assert_as_missing(world, signed_in(oscar))


def test_after_the_grant_was_ended_early_the_case_answers_as_missing(world):
    oscar = world.users["oscar"]
    grant = workflow.open_break_glass(world.case, actor=oscar, reason="Night at the border")
    workflow.extend_break_glass(grant, actor=world.users["dora"])
    workflow.revoke_break_glass(grant, actor=world.users["dora"], reason="Applicant left")
    _assert_as_missing(world, signed_in(oscar))


def test_while_a_read_only_grant_lasts_he_reads_and_changes_nothing(world):
    oscar = world.users["oscar"]
    Applicant.objects.filter(pk=world.case.applicant_id).update(health_notes=HEALTH)
    workflow.open_break_glass(world.case, actor=oscar, reason="Night at the border")
    client = signed_in(oscar)
    views = CaseEvent.objects.filter(application=world.case, kind="access", actor=oscar).count()
    before = snapshot()
    answers = ask(client, world, compare_missing=False, skip=("cases:reveal",))
    assert not failures(answers), "\n".join(failures(answers))
    assert not snapshot_diff(before, snapshot()), snapshot_diff(before, snapshot())

    # Sensitive facts stay hidden from every page he asked: only a recorded reveal (a POST of
    # its own, left out here; tests/cases/test_sensitive.py) shows them.
    shown = [str(a) for a in answers if HEALTH.encode() in a.content]
    assert not shown, shown
    by_name = {(a.target.route.name, a.method, a.body): a for a in answers}
    assert by_name[("cases:detail", "GET", "get")].status == 200
    assert by_name[("cases:document", "GET", "get")].status == 200
    # Every change he tried was refused (403 with the reason, or 404/405), none done.
    refused = [
        a
        for a in answers
        if a.method == "POST"
        and a.target.route.name != "cases:break_glass"
        and a.status not in (302, 400, 403, 404, 405)
    ]
    assert not refused, "\n".join(map(str, refused))
    page = client.get(reverse("cases:detail", args=[world.case.pk]))
    assert page.context["access_log"] is None
    assert (
        CaseEvent.objects.filter(application=world.case, kind="access", actor=oscar).count() > views
    )


def test_once_extended_he_works_on_the_case_but_does_not_decide(world):
    oscar, dora, case = world.users["oscar"], world.users["dora"], world.case
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night at the border")
    workflow.extend_break_glass(grant, actor=dora)
    client = signed_in(oscar)
    answers = ask(client, world, compare_missing=False)
    assert not failures(answers), "\n".join(failures(answers))

    note = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "At the post"})
    assert note.status_code == 302
    assert case.notes.filter(author=oscar, text="At the post").exists()
    case.refresh_from_db()
    decided = client.post(
        reverse("cases:transition", args=[case.pk, "decide"]),
        {
            "expected_status": case.status,
            "reason": "Forged",
            "outcome": "rejected",
            "decided_on": "2024-01-10",
        },
    )
    assert decided.status_code == 403
    assert Application.objects.get(pk=case.pk).status == case.status
    assert client.get(reverse("cases:detail", args=[case.pk])).context["access_log"] is None
