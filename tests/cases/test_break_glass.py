"""Emergency ("break-glass") access: a caseworker of another unit finds a case by its exact
reference, asks with a reason, reads it for BREAK_GLASS_HOURS, works on it once the case's
unit's decision-maker extends the access, and loses it when it ends. The case's unit's
decision-makers are told at once, each in their language."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from cases import access, workflow
from cases.models import BreakGlassGrant, CaseEvent, Notification
from cases.retention import anonymise_case
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
START = dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.UTC)


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


def glass(case) -> str:
    return reverse("cases:break_glass", args=[case.pk])


def extend_url(case) -> str:
    return reverse("cases:extend_break_glass", args=[case.pk])


def end_url(case) -> str:
    return reverse("cases:revoke_break_glass", args=[case.pk])


@pytest.fixture
def at_start():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def fresh(user):
    """The user as a new request loads them (no cached roles or grants)."""
    return type(user).objects.get(pk=user.pk)


# -- finding the case -------------------------------------------------------------------


def test_a_caseworker_of_another_unit_is_offered_emergency_access(client, oscar, case):
    client.force_login(oscar)
    response = client.get(LIST, {"q": case.reference})
    assert response.status_code == 200
    html = response.content.decode()
    assert "not in your unit" in html
    assert f"{glass(case)}?reference={case.reference}" in html
    assert response.context["rows"] == []


def test_it_reveals_nothing_to_a_user_without_a_role(client, case):
    nobody = make_user("nobody", None, None)
    client.force_login(nobody)
    response = client.get(LIST, {"q": case.reference})
    assert (
        case.reference not in response.content.decode().replace(f"“{case.reference}”", "")
        or "not in your unit" not in response.content.decode()
    )
    assert "emergency" not in response.content.decode().lower()
    assert client.get(glass(case), {"reference": case.reference}).status_code == 404


def test_an_unknown_reference_offers_nothing(client, oscar, case):
    client.force_login(oscar)
    response = client.get(LIST, {"q": "LT-2023-999999"})
    assert "emergency" not in response.content.decode().lower()


def test_the_page_needs_the_cases_own_reference(client, oscar, case, alice):
    other = workflow.submit_application(
        actor=alice,
        applicant_data={"family_name": "Petrov"},
        submitted_on=dt.date(2023, 8, 12),
    )
    client.force_login(oscar)
    assert client.get(glass(case)).status_code == 404
    assert client.get(glass(case), {"reference": other.reference}).status_code == 404
    response = client.get(glass(case), {"reference": case.reference.lower()})
    assert response.status_code == 200
    assert "Korolev" not in response.content.decode()  # the reason comes before the case


def test_its_own_unit_goes_straight_to_the_case(client, alice, case):
    client.force_login(alice)
    response = client.get(glass(case), {"reference": case.reference})
    assert response.status_code == 302 and response.url == detail(case)
    assert client.post(glass(case), {"reference": case.reference, "reason": "x"}).url == (
        detail(case)
    )
    assert not BreakGlassGrant.objects.exists()


# -- opening it ---------------------------------------------------------------------------


def test_a_reason_opens_the_case_read_only_and_records_it(client, oscar, dora, case, at_start):
    client.force_login(oscar)
    assert client.get(detail(case)).status_code == 404
    response = client.post(
        glass(case), {"reference": case.reference, "reason": "Applicant at Medininkai post"}
    )
    assert response.status_code == 302 and response.url == detail(case)

    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.application, grant.reason) == (
        oscar,
        case,
        "Applicant at Medininkai post",
    )
    assert grant.starts_at == START
    assert grant.ends_at == START + dt.timedelta(hours=12)
    assert grant.extended_by is None
    event = case.events.get(action="break_glass")
    assert (event.kind, event.actor, event.reason) == (
        CaseEvent.Kind.RECORD,
        oscar,
        "Applicant at Medininkai post",
    )

    page = client.get(detail(case))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You have emergency access to this case until 2026-12-06 12:00" in html  # Vilnius
    assert page.context["can_work"] is False
    assert page.context["note_form"] is None
    # Reading is logged as any view is.
    assert case.events.filter(kind=CaseEvent.Kind.ACCESS, actor=oscar).count() == 1


def test_a_reason_is_required(client, oscar, case):
    client.force_login(oscar)
    response = client.post(glass(case), {"reference": case.reference, "reason": "  "})
    assert response.status_code == 400
    assert not BreakGlassGrant.objects.exists()


def test_the_setting_decides_how_long_it_lasts(settings, oscar, case, at_start):
    settings.BREAK_GLASS_HOURS = 3
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    assert grant.ends_at - grant.starts_at == dt.timedelta(hours=3)


def test_asking_twice_while_it_lasts_records_it_once(oscar, case):
    first = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    second = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    assert first == second
    assert case.events.filter(action="break_glass").count() == 1


@pytest.mark.parametrize("who", ["alice", "dora", "adam", "root", "nobody"])
def test_it_refuses_people_who_may_not_ask(request, case, who):
    user = make_user("nobody", None, None) if who == "nobody" else request.getfixturevalue(who)
    with pytest.raises(workflow.TransitionForbidden):
        workflow.open_break_glass(case, actor=user, reason="Curious")
    assert not BreakGlassGrant.objects.exists()


def test_the_units_decision_makers_are_told_at_once_in_their_language(oscar, dora, unit, case):
    dora.language = "lt"
    dora.save(update_fields=["language"])
    make_user("dana", roles.DECISION_MAKER, unit, language="en")
    workflow.open_break_glass(case, actor=oscar, reason="Applicant at Medininkai post")

    told = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    assert set(told) == {"dora", "dana"}
    assert told["dana"].text.startswith(f"Emergency access to {case.reference}: Oscar")
    assert "Skubi prieiga" in told["dora"].text and case.reference in told["dora"].text
    for notice in told.values():
        assert notice.link == detail(case)
        assert "Medininkai" not in notice.text  # the reason stays behind the case page


def test_the_access_log_and_the_timeline_show_it(client, oscar, dora, case):
    workflow.open_break_glass(case, actor=oscar, reason="Applicant at Medininkai post")
    client.force_login(dora)
    page = client.get(detail(case))
    log = [row["what"] for row in page.context["access_log"]]
    assert any("Emergency access (Border Division)" in w and "Medininkai" in w for w in log), log
    titles = [row["title"] for row in page.context["timeline"]]
    assert any(t.startswith("Emergency access opened") for t in titles), titles


# -- the states: during, extended, expired ---------------------------------------------------


def test_it_ends_after_its_hours(client, oscar, case, at_start):
    workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    client.force_login(oscar)
    at_start.move_to(START + dt.timedelta(hours=11, minutes=59))
    client.force_login(oscar)  # a session idles out after 30 minutes
    assert client.get(detail(case)).status_code == 200
    at_start.move_to(START + dt.timedelta(hours=12))
    client.force_login(oscar)
    assert client.get(detail(case)).status_code == 404
    assert not access.visible_applications(fresh(oscar)).filter(pk=case.pk).exists()
    # Searching again offers a new emergency access.
    assert "not in your unit" in client.get(LIST, {"q": case.reference}).content.decode()


def test_read_only_access_cannot_work(client, oscar, case):
    workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    with pytest.raises(workflow.TransitionForbidden, match="read-only"):
        workflow.add_note(case, actor=fresh(oscar), text="Seen at the border")
    client.force_login(oscar)
    response = client.post(reverse("cases:add_note", args=[case.pk]), {"text": "x"})
    assert response.status_code in (403, 404)
    assert not case.notes.exists()


def test_the_decision_maker_extends_it_to_work(client, oscar, dora, case):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    client.force_login(dora)
    page = client.get(detail(case))
    assert f'id="extend-grant-{grant.pk}"' in page.content.decode()
    response = client.post(extend_url(case), {"grant": grant.pk})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.extended_by, grant.extended) == (dora, True)
    assert case.events.filter(action="break_glass_extended", actor=dora).exists()
    assert Notification.objects.filter(recipient=oscar, text__contains="extended").exists()

    note = workflow.add_note(case, actor=fresh(oscar), text="Seen at the border")
    assert note.author == oscar
    # Working is not deciding, and the access log stays the unit's.
    oscar_now = fresh(oscar)
    assert not oscar_now.has_perm("cases.decide_case", case)
    assert not oscar_now.has_perm("cases.see_access_log", case)


def test_an_extended_access_still_ends(oscar, dora, case, at_start):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    workflow.extend_break_glass(grant, actor=dora)
    at_start.move_to(START + dt.timedelta(hours=13))
    with pytest.raises(workflow.TransitionForbidden):
        workflow.add_note(case, actor=fresh(oscar), text="Too late")
    assert not fresh(oscar).has_perm("cases.read_case", case)


def test_an_ended_access_cannot_be_extended(oscar, dora, case, at_start):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    at_start.move_to(START + dt.timedelta(hours=12, seconds=1))
    with pytest.raises(workflow.TransitionForbidden, match="ended"):
        workflow.extend_break_glass(grant, actor=dora)


@pytest.mark.parametrize("who", ["alice", "oscar", "adam"])
def test_only_the_units_decision_maker_extends_it(request, oscar, case, who):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    with pytest.raises(workflow.TransitionForbidden):
        workflow.extend_break_glass(grant, actor=request.getfixturevalue(who))
    grant.refresh_from_db()
    assert not grant.extended


def test_extending_without_choosing_an_access_changes_nothing(client, dora, case):
    client.force_login(dora)
    response = client.post(extend_url(case), {"grant": "nonsense"})
    assert response.status_code == 302
    assert not case.events.filter(action="break_glass_extended").exists()


# -- ended early ----------------------------------------------------------------------------


def test_the_decision_maker_ends_it_early_with_a_reason(client, oscar, dora, case, at_start):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    workflow.extend_break_glass(grant, actor=dora)
    at_start.move_to(START + dt.timedelta(hours=2))
    client.force_login(dora)
    page = client.get(detail(case)).content.decode()
    assert f'id="end-grant-{grant.pk}"' in page

    refused = client.post(end_url(case), {"grant": grant.pk, "reason": "  "}, follow=True)
    assert "Say why" in refused.content.decode()
    assert fresh(oscar).has_perm("cases.work_on_case", case)

    response = client.post(end_url(case), {"grant": grant.pk, "reason": "Applicant transferred"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoked_at, grant.revoke_reason) == (
        dora,
        START + dt.timedelta(hours=2),
        "Applicant transferred",
    )
    assert grant.ends_at == START + dt.timedelta(hours=2) and not grant.is_live()
    [event] = case.events.filter(action="break_glass_revoked")
    assert (event.actor, event.reason) == (dora, "Applicant transferred")
    assert event.data["until"] == (START + dt.timedelta(hours=12)).isoformat()
    assert Notification.objects.filter(recipient=oscar, text__contains="was ended").exists()

    # From now on oscar has nothing, as after its hours; the page and the report say so.
    assert not fresh(oscar).has_perm("cases.read_case", case)
    client.force_login(oscar)
    assert client.get(detail(case)).status_code == 404
    client.force_login(dora)
    page = client.get(detail(case))
    titles = [row["title"] for row in page.context["timeline"]]
    assert any(t.startswith("Emergency access of Oscar") and "ended" in t for t in titles), titles
    assert "Applicant transferred" in page.content.decode()
    log = [row["what"] for row in page.context["access_log"]]
    assert any("ended early by Dora" in w and "Applicant transferred" in w for w in log), log
    assert f'id="end-grant-{grant.pk}"' not in page.content.decode()
    with pytest.raises(workflow.TransitionForbidden, match="already ended"):
        workflow.revoke_break_glass(grant, actor=dora, reason="Again")


def test_an_administrator_ends_it_early_too(client, oscar, adam, case):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    client.force_login(adam)
    response = client.post(end_url(case), {"grant": grant.pk, "reason": "Not an emergency"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_by == adam and not grant.is_live()
    report = client.get(reverse("reports:break_glass")).content.decode()
    assert "ended early" in report and "Not an emergency" in report


@pytest.mark.parametrize("who", ["alice", "oscar"])
def test_only_the_units_decision_maker_or_an_administrator_ends_it(
    request, client, oscar, case, who
):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    actor = request.getfixturevalue(who)
    with pytest.raises(workflow.TransitionForbidden):
        workflow.revoke_break_glass(grant, actor=actor, reason="Mine")
    client.force_login(actor)
    response = client.post(end_url(case), {"grant": grant.pk, "reason": "Mine"})
    assert response.status_code == 403
    grant.refresh_from_db()
    assert grant.revoked_at is None and grant.is_live()
    assert not case.events.filter(action="break_glass_revoked").exists()


def test_ending_without_choosing_an_access_changes_nothing(client, dora, case):
    client.force_login(dora)
    for grant in ("", "nonsense", "²", "99999999999999999999999"):
        response = client.post(end_url(case), {"grant": grant, "reason": "x"})
        assert response.status_code == 302
    assert not case.events.filter(action="break_glass_revoked").exists()


# -- retention ----------------------------------------------------------------------------


def test_retention_removes_the_reason_and_keeps_the_record(oscar, alice, case):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Applicant at Medininkai post")
    workflow.withdraw(
        case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    plan = anonymise_case(case.pk, timezone.localdate() + dt.timedelta(days=1))
    assert plan is not None and plan.grants == [grant.pk]
    grant.refresh_from_db()
    assert grant.reason == "[redacted]"
    assert grant.user == oscar and grant.ends_at


def test_retention_removes_the_reason_for_ending_it_early(oscar, dora, alice, case):
    grant = workflow.open_break_glass(case, actor=oscar, reason="Night shift")
    workflow.revoke_break_glass(grant, actor=dora, reason="Applicant transferred to Rukla")
    workflow.withdraw(
        case, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    anonymise_case(case.pk, timezone.localdate() + dt.timedelta(days=1))
    grant.refresh_from_db()
    assert (grant.reason, grant.revoke_reason) == ("[redacted]", "[redacted]")
    assert grant.revoked_by == dora
