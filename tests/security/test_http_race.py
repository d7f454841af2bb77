"""Twenty people press a button on the same case at once, over real HTTP.

The case is under examination (interview recorded). Twenty sessions, caseworkers and
decision-makers of the case's unit, each open the form of a transition that is allowed from
`examination` (detain, withdraw, or, for decision-makers, decide), so each form carries the
status its user saw. They wait at a barrier, then all submit to pytest-django's live server
(a threaded WSGI server, one thread per connection, each with its own database connection).

Exactly one wins (a redirect to the case) with exactly one transition event; the other
nineteen get 409 with a page that says the case changed, never 403 or 500; the case's hash
chain stays intact. The server's own request signals show the requests were in flight at the
same time, so the test proves the locking rather than a lucky order.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import threading
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.test import Client
from django.urls import reverse

from cases import workflow
from cases.audit import verify_chain
from cases.models import CaseEvent

RACERS = 20
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SEEN = re.compile(r'name="expected_status" value="([^"]*)"')


@dataclass
class Racer:
    name: str
    session: str
    step: str
    fields: dict[str, str]
    csrf_cookie: str = ""
    form: dict[str, str] | None = None
    status: int = 0
    location: str = ""
    body: str = ""
    error: str = ""


class InFlight:
    """Counts the requests the live server is handling at once, from Django's own signals
    (sent in the server's threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def started(self, **kwargs) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def finished(self, **kwargs) -> None:
        with self.lock:
            self.now -= 1

    def reset(self) -> None:
        with self.lock:
            self.now = self.most = 0


def _request(base: str, method: str, path: str, cookies: dict[str, str], body: str = ""):
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_transitions_one_wins_nineteen_get_409(
    live_server, build_case, alice, dora, pabrade
):
    case = build_case("examination")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    events_before = CaseEvent.objects.filter(application=case).count()

    detain = {
        "facility": str(pabrade.pk),
        "legal_basis": "Law on the Legal Status of Aliens Art. 113",
        "order_reference": "SBGS-20",
        "reason": "Risk of absconding",
    }
    withdraw = {"kind": "explicit", "reason": "The applicant left"}
    decide = {"outcome": "rejected", "decided_on": "2024-01-10", "reason": "Assessed"}
    plan = [
        ("alice", "detain", detain),
        ("dora", "withdraw", withdraw),
        ("dora", "decide", decide),
        ("alice", "withdraw", withdraw),
        ("dora", "detain", detain),
    ]
    users = {"alice": alice, "dora": dora}
    racers = [
        Racer(name, _session(users[name]), step, fields)
        for name, step, fields in (plan[i % len(plan)] for i in range(RACERS))
    ]

    # Each racer opens its form, as its user would: the form carries the status they saw.
    for racer in racers:
        path = reverse("cases:transition", args=[case.pk, racer.step])
        status, headers, html = _request(
            live_server.url, "GET", path, {settings.SESSION_COOKIE_NAME: racer.session}
        )
        assert status == 200, (racer.name, racer.step, status)
        cookie = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                cookie.load(value)
        racer.csrf_cookie = cookie[settings.CSRF_COOKIE_NAME].value
        seen = SEEN.search(html)
        assert seen and seen.group(1) == "examination"
        racer.form = {
            **racer.fields,
            "expected_status": seen.group(1),
            "csrfmiddlewaretoken": TOKEN.search(html).group(1),
        }

    in_flight = InFlight()
    request_started.connect(in_flight.started)
    request_finished.connect(in_flight.finished)
    barrier = threading.Barrier(RACERS, timeout=60)

    def submit(racer: Racer) -> None:
        path = reverse("cases:transition", args=[case.pk, racer.step])
        cookies = {
            settings.SESSION_COOKIE_NAME: racer.session,
            settings.CSRF_COOKIE_NAME: racer.csrf_cookie,
        }
        body = urlencode(racer.form)
        try:
            barrier.wait()
            racer.status, headers, racer.body = _request(
                live_server.url, "POST", path, cookies, body
            )
            racer.location = {k.lower(): v for k, v in headers}.get("location", "")
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            racer.error = repr(exc)

    try:
        in_flight.reset()
        threads = [threading.Thread(target=submit, args=(r,)) for r in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        request_started.disconnect(in_flight.started)
        request_finished.disconnect(in_flight.finished)

    answers = [(r.name, r.step, r.status, r.error) for r in racers]
    assert not any(r.error for r in racers), answers
    winners = [r for r in racers if r.status == 302]
    losers = [r for r in racers if r.status != 302]
    assert len(winners) == 1, answers
    assert winners[0].location.endswith(reverse("cases:detail", args=[case.pk])), answers
    # Every loser is told the case changed (409), not that they may not (403), nor a 500.
    assert [r.status for r in losers] == [409] * (RACERS - 1), answers
    for loser in losers:
        assert "changed while you were looking at it" in loser.body, loser.body[:500]
        assert "Nothing was changed" in loser.body
    # The server really handled the requests at the same time.
    assert in_flight.most >= 2, in_flight.most

    case.refresh_from_db()
    winner = winners[0]
    assert (
        case.status
        == {"detain": "detention", "withdraw": "withdrawn", "decide": "decided"}[winner.step]
    )
    transitions = CaseEvent.objects.filter(
        application=case, kind=CaseEvent.Kind.TRANSITION, from_status="examination"
    )
    assert list(transitions.values_list("action", flat=True)) == [winner.step]
    assert transitions.get().actor == users[winner.name]
    # Nothing but the winner's transition and its consequences was written, besides the
    # record that each loser was shown the case on its 409 page.
    new = CaseEvent.objects.filter(application=case).order_by("pk")[events_before:]
    changes = [e for e in new if e.kind != "access"]
    assert {e.kind for e in changes} <= {"transition", "placement", "deadline"}, changes
    assert {(e.kind, e.action) for e in new if e.kind == "access"} <= {("access", "form")}
    report = verify_chain(case.pk)
    assert report.problem is None, report.problem


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_waivers_of_one_deadline_one_wins_nineteen_get_409(
    live_server, build_case, dora
):
    """The same deadline waived twenty times at once (each request also records that the
    form page named the applicant): one waiver, nineteen 409s, no 500, chain intact."""
    case = build_case("examination")
    deadline = case.deadlines.open().get(rule="examination")
    path = reverse("cases:waive_deadline", args=[case.pk, deadline.pk])
    session = _session(dora)
    forms = []
    for _ in range(RACERS):
        status, headers, html = _request(
            live_server.url, "GET", path, {settings.SESSION_COOKIE_NAME: session}
        )
        assert status == 200, status
        cookie = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                cookie.load(value)
        forms.append(
            (
                cookie[settings.CSRF_COOKIE_NAME].value,
                urlencode(
                    {"reason": "Court extended it", "csrfmiddlewaretoken": TOKEN.search(html)[1]}
                ),
            )
        )
    barrier = threading.Barrier(RACERS, timeout=60)
    answers: list[int | str] = []

    def submit(csrf: str, body: str) -> None:
        cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: csrf}
        try:
            barrier.wait()
            answers.append(_request(live_server.url, "POST", path, cookies, body)[0])
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            answers.append(repr(exc))

    threads = [threading.Thread(target=submit, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert sorted(answers, key=str) == [302] + [409] * (RACERS - 1), answers
    deadline.refresh_from_db()
    assert deadline.status == "waived"
    waived = CaseEvent.objects.filter(application=case, kind="deadline", action="waived")
    assert waived.count() == 1
    assert verify_chain(case.pk).problem is None
