"""Twenty clients run the same transition at once, through the API, on PostgreSQL with
twenty real connections: exactly one succeeds, the others get 409, and one event is
written."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.urls import reverse

from cases.audit import verify_chain
from cases.models import CaseEvent

from .conftest import Api, token_for

CLIENTS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_transitions_one_wins(alice, dora, case):
    tokens = [token_for(alice if i % 2 else dora, name=f"client {i}") for i in range(CLIENTS)]
    url = reverse("api:case_transition", args=[case.pk, "start_examination"])
    barrier = threading.Barrier(CLIENTS)
    answers: list = [None] * CLIENTS

    def run(i: int) -> None:
        try:
            api = Api(tokens[i])
            barrier.wait(timeout=60)
            answers[i] = api.post(url, {"expected_status": "submitted", "reason": f"Run {i}"})
        except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    codes = sorted(getattr(a, "status_code", repr(a)) for a in answers)
    assert codes == [200] + [409] * (CLIENTS - 1), codes
    assert all(a.json()["detail"] for a in answers if a.status_code == 409)
    case.refresh_from_db()
    assert case.status == "examination"
    assert CaseEvent.objects.filter(application=case, action="start_examination").count() == 1
    assert verify_chain(case.pk).problem is None
