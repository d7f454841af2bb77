"""The reports page: open cases by status and by age, as charts and tables, for
decision-makers (their unit) and administrators (every unit, or one)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from cases import workflow
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

INDEX = reverse("reports:index")


@pytest.fixture
def world(alice, oscar):
    """Alice's unit: 2 submitted cases (10 and 400 days old), 1 under examination (45 days
    old). The other unit: 1 submitted case (10 days old)."""
    today = timezone.localdate()
    submit(alice, submitted_on=today - dt.timedelta(days=10))
    submit(alice, submitted_on=today - dt.timedelta(days=400))
    examined = submit(alice, submitted_on=today - dt.timedelta(days=45))
    workflow.start_examination(examined, actor=alice, expected_status="submitted", reason="Go")
    submit(oscar, submitted_on=today - dt.timedelta(days=10))


def figures(response):
    assert response.status_code == 200
    backlog = {r["status"]: r["cases"] for r in response.context["backlog"]}
    ages = {r["status"]: r["bands"] for r in response.context["ages"]}
    return backlog, ages


def test_a_decision_maker_sees_their_units_figures(client, dora, world):
    client.force_login(dora)
    backlog, ages = figures(client.get(INDEX))
    assert backlog == {
        "Submitted": 2,
        "Under examination": 1,
        "In detention": 0,
        "Decided": 0,
        "Appealed": 0,
    }
    assert ages["Submitted"] == [1, 0, 0, 0, 1]
    assert ages["Under examination"] == [0, 1, 0, 0, 0]
    assert ages["Decided"] == [0, 0, 0, 0, 0]


def test_an_administrator_sees_every_unit_or_one(client, adam, world, unit, other_unit):
    client.force_login(adam)
    backlog, ages = figures(client.get(INDEX))
    assert backlog["Submitted"] == 3
    assert ages["Submitted"] == [2, 0, 0, 0, 1]
    backlog, ages = figures(client.get(INDEX, {"unit": other_unit.pk}))
    assert backlog["Submitted"] == 1
    assert backlog["Under examination"] == 0


@pytest.mark.parametrize("value", ["999999", "x", "<b>", "1\x00"])
def test_a_bad_unit_is_a_400(client, adam, world, value):
    client.force_login(adam)
    assert client.get(INDEX, {"unit": value}).status_code == 400
    assert client.get(reverse("reports:chart", args=["age"]), {"unit": value}).status_code == 400


def test_caseworkers_and_people_without_a_role_get_404(client, alice, oscar, world, db):
    nobody = make_user("nobody", None, None)
    for user in (alice, oscar, nobody):
        client.force_login(user)
        assert client.get(INDEX).status_code == 404
        assert client.get(reverse("reports:chart", args=["backlog"])).status_code == 404


def test_a_decision_maker_of_another_unit_sees_only_theirs(client, other_unit, world):
    olga = make_user("olga", roles.DECISION_MAKER, other_unit)
    client.force_login(olga)
    backlog, _ages = figures(client.get(INDEX, {"unit": ""}))
    assert backlog["Submitted"] == 1
    assert backlog["Under examination"] == 0


def test_signed_out_is_sent_to_sign_in(client, world):
    assert client.get(INDEX).status_code == 302


@pytest.mark.parametrize("name", ["backlog", "age"])
def test_charts_are_svg_without_script_with_a_title(client, dora, world, name):
    client.force_login(dora)
    response = client.get(reverse("reports:chart", args=[name]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "<title>" in svg
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_an_unknown_chart_is_404(client, dora):
    client.force_login(dora)
    assert client.get("/reports/charts/other.svg").status_code == 404


def test_no_open_cases_says_so(client, dora):
    client.force_login(dora)
    response = client.get(INDEX)
    assert response.status_code == 200
    assert "There are no open cases to report on." in response.content.decode()
    assert "<img" not in response.content.decode()


def test_the_menu_shows_reports_to_those_who_may_see_them(client, alice, dora):
    client.force_login(dora)
    assert f'href="{INDEX}"' in client.get(reverse("cases:dashboard")).content.decode()
    client.force_login(alice)
    assert f'href="{INDEX}"' not in client.get(reverse("cases:dashboard")).content.decode()
