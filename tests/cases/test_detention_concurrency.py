"""Detention records racing a release onto an alternative, on PostgreSQL with two real
connections: the row lock serialises them and the loser changes nothing."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from cases import workflow
from cases.audit import verify_chain
from cases.models import CaseEvent, DetentionReview, Facility
from tests.cases.test_concurrency import _in_thread, _wait_until_blocked


@pytest.mark.django_db(transaction=True)
def test_a_review_ending_a_detention_already_released_onto_an_alternative_is_refused(
    build_case, alice
):
    case = build_case("detention")
    rukla = Facility.objects.create(
        name="Reception centre, Rukla", code="rukla", kind=Facility.Kind.RECEPTION, capacity=5
    )
    results: dict = {}
    with transaction.atomic():
        workflow.apply_alternative(
            case.pk,
            actor=alice,
            expected_status="detention",
            reason="Reporting is enough",
            measure="reporting_duty",
            facility=rukla,
            legal_basis="Art. 115",
        )
        loser = _in_thread(
            lambda: workflow.record_detention_review(
                case.pk,
                actor=alice,
                reviewed_on=timezone.localdate(),
                reviewed_by="Utena District Court",
                result="ended",
                reason="Grounds no longer met",
            ),
            results,
            "review",
        )
        _wait_until_blocked()
    loser.join(timeout=60)

    assert isinstance(results["review"], workflow.StaleCase)
    case.refresh_from_db()
    assert case.status == "examination"
    assert case.open_alternative() is not None
    assert not DetentionReview.objects.exists()
    assert CaseEvent.objects.filter(application=case, action="release").count() == 1
    assert verify_chain(case.pk).problem is None
