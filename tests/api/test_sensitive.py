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
