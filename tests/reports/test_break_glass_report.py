"""The administrators' report of every use of emergency access (/reports/emergency-access/)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import workflow

pytestmark = pytest.mark.django_db

URL = reverse("reports:break_glass")


@pytest.fixture
def used(case, oscar, dora):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Applicant at Medininkai post")
    return workflow.extend_break_glass(grant, actor=dora)


@pytest.mark.parametrize("who", ["adam", "root"])
def test_it_lists_every_use_for_administrators(request, client, used, case, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert (row["who"], row["who_unit"], row["reference"]) == (
        "Oscar",
        "Border Division",
        case.reference,
    )
    assert row["reason"] == "Applicant at Medininkai post"
    assert row["extended_by"] == "Dora" and row["live"]
    assert "Applicant at Medininkai post" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "dora", "oscar"])
def test_nobody_else_gets_it(request, client, used, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 404


def test_the_reports_page_links_to_it_for_administrators(client, adam, dora):
    client.force_login(adam)
    assert URL in client.get(reverse("reports:index")).content.decode()
    client.force_login(dora)
    assert URL not in client.get(reverse("reports:index")).content.decode()
