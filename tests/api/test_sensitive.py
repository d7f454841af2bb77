"""The API shows a hidden sensitive fact as "[hidden]": it offers no reveal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import SensitiveField

pytestmark = pytest.mark.django_db


@pytest.fixture
def original_hidden(db):
    return SensitiveField.objects.create(fact="applicant.name_original", note="Safety")


def test_the_api_shows_a_hidden_fact_as_hidden(alice, case, original_hidden, api_as):
    data = api_as(alice).get(reverse("api:case", args=[case.pk])).json()
    assert data["applicant"]["name_original"] == "[hidden]"
    listed = api_as(alice).get(reverse("api:cases")).json()
    assert "Королёв" not in str(listed)


# The special-category facts hidden by default (health, sexual orientation and gender
# identity, trafficking or torture history, vulnerability), each with a marker value.
SECRETS = {
    "health_notes": "zq-health needs insulin",
    "sogi_notes": "zq-sogi persecuted as a gay man",
    "trauma_history": "zq-trauma held by traffickers",
    "vulnerability_details": "zq-vulnerable unaccompanied minor",
}


def test_the_api_never_carries_the_default_sensitive_facts_and_reveals_nothing(alice, case, api_as):
    from cases.models import Applicant, CaseEvent
    from cases.sensitive import ensure_default_sensitive_fields

    ensure_default_sensitive_fields()
    Applicant.objects.filter(pk=case.applicant_id).update(**SECRETS)
    client = api_as(alice)
    for url in (
        reverse("api:case", args=[case.pk]),
        reverse("api:case_events", args=[case.pk]),
        reverse("api:cases"),
        reverse("api:cases") + "?q=Korolev",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "zq-" not in body, url
    # Nothing was revealed, so no reveal is on record.
    assert not case.events.filter(kind=CaseEvent.Kind.ACCESS, action="reveal").exists()
