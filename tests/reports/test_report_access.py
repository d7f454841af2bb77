"""Who may open each report, its chart and its exports: decision-makers and administrators;
caseworkers (of the unit or another), people without a role get 404; signed out, sign in.
Refused exports are not recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.figures import REPORTS
from reports.models import Export
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def urls() -> list[tuple[str, dict]]:
    found = []
    for slug in REPORTS:
        page = reverse("reports:report", args=[slug])
        found += [
            (page, {}),
            (page, {"format": "csv"}),
            (page, {"format": "xlsx"}),
            (reverse("reports:chart", args=[slug]), {}),
        ]
    return found


def test_caseworkers_outsiders_and_people_without_a_role_get_404(client, alice, oscar):
    nobody = make_user("nobody", None, None)
    for user in (alice, oscar, nobody):
        client.force_login(user)
        for url, params in urls():
            assert client.get(url, params).status_code == 404, (user, url, params)
    assert not Export.objects.exists()


def test_signed_out_is_sent_to_sign_in(client):
    for url, params in urls():
        response = client.get(url, params)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_decision_makers_and_administrators_may_open_every_report_and_export(client, dora, adam):
    for user in (dora, adam):
        client.force_login(user)
        for url, params in urls():
            assert client.get(url, params).status_code == 200, (user, url, params)
    assert Export.objects.filter(user=dora).count() == 2 * len(REPORTS)
    assert Export.objects.filter(user=adam).count() == 2 * len(REPORTS)
