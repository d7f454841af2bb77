"""The dashboard (home page) and the notifications pages."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import notifications, workflow
from cases.models import Deadline, Notification
from tests.conftest import make_user, submit

pytestmark = pytest.mark.django_db

HOME = reverse("cases:dashboard")


def test_the_home_page_is_the_dashboard(client, alice):
    assert HOME == "/"
    client.force_login(alice)
    response = client.get(HOME)
    assert response.status_code == 200
    assert response.templates[0].name == "cases/dashboard.html"


def test_it_requires_sign_in(client, db):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_lists_my_open_cases_and_their_deadlines(client, alice, dora):
    mine = submit(alice, family_name="Mine")
    workflow.assign(mine, actor=dora, assignee=alice)
    other = submit(alice, family_name="Other")
    client.force_login(alice)
    response = client.get(HOME)
    assert [r["reference"] for r in response.context["my_rows"]] == [mine.reference]
    refs = {r["reference"] for r in response.context["deadline_rows"]}
    assert refs == {mine.reference}  # a caseworker watches the deadlines of their own cases
    assert other.reference not in refs
    assert response.context["overdue_count"] >= 1
    assert all(r["days_text"] for r in response.context["deadline_rows"])


def test_it_shows_days_left_for_deadlines_due_soon(client, alice, dora):
    case = submit(alice, family_name="Recent", submitted_on=timezone.localdate())
    workflow.assign(case, actor=dora, assignee=alice)
    client.force_login(alice)
    response = client.get(HOME)
    soon = [r for r in response.context["deadline_rows"] if not r["overdue"]]
    assert soon
    assert response.context["soon_count"] == len(soon)
    assert any("left" in r["days_text"] or r["days_text"] == "due today" for r in soon)


def test_a_decision_maker_watches_the_units_deadlines(client, alice, dora):
    case = submit(alice, family_name="Unassigned")
    client.force_login(dora)
    response = client.get(HOME)
    assert case.reference in {r["reference"] for r in response.context["deadline_rows"]}
    assert response.context["unassigned"] == 1


def test_the_unassigned_count_follows_assignments_and_closures(client, alice, dora, oscar):
    # Read from stored counts kept by a trigger: every change must move them.
    first = submit(alice, family_name="First")
    second = submit(alice, family_name="Second")
    submit(alice, family_name="Third")
    submit(oscar, family_name="Elsewhere")
    client.force_login(dora)
    assert client.get(HOME).context["unassigned"] == 3

    workflow.assign(first, actor=dora, assignee=alice)
    workflow.withdraw(
        second, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
    )
    response = client.get(HOME)
    assert response.context["unassigned"] == 1
    assert "1 open case of the unit is unassigned" in response.content.decode()

    workflow.assign(first, actor=dora, assignee=None)
    assert client.get(HOME).context["unassigned"] == 2


def test_it_counts_the_units_cases_by_status(client, alice, build_case, oscar):
    build_case("detention")
    build_case("submitted")
    submit(oscar, family_name="Elsewhere")
    client.force_login(alice)
    counts = {r["status"]: r["count"] for r in client.get(HOME).context["by_status"]}
    assert counts["detention"] == 1
    assert counts["submitted"] == 1
    assert sum(counts.values()) == 2


def test_it_shows_unread_notifications_and_the_header_count(client, alice, case):
    notifications.notify(alice, "Deadline tomorrow", case)
    notifications.notify(alice, "Old news", case)
    Notification.objects.filter(text="Old news").update(read_at=timezone.now())
    client.force_login(alice)
    response = client.get(HOME)
    assert [n["text"] for n in response.context["unread"]] == ["Deadline tomorrow"]
    assert response.context["unread"][0]["link"] == reverse("cases:detail", args=[case.pk])
    html = response.content.decode()
    assert 'id="unread-count">1<' in html
    # The header count is on every page.
    assert 'id="unread-count">1<' in client.get(reverse("cases:list")).content.decode()


def test_a_user_without_role_or_unit_sees_an_explanation(client, db):
    nobody = make_user("nobody", None, None)
    client.force_login(nobody)
    response = client.get(HOME)
    assert response.status_code == 200
    assert "Ask an administrator" in response.content.decode()


def test_an_administrator_sees_all_units(client, adam, alice, oscar):
    submit(alice, family_name="A")
    submit(oscar, family_name="B")
    client.force_login(adam)
    response = client.get(HOME)
    assert response.status_code == 200
    assert response.context["total"] == 2


# -- notifications ----------------------------------------------------------------------

NOTES = reverse("cases:notifications")
READ = reverse("cases:notifications_read")


def test_it_lists_my_notifications_only(client, alice, dora, case):
    notifications.notify(alice, "For alice", case)
    notifications.notify(dora, "For dora", case)
    client.force_login(alice)
    response = client.get(NOTES)
    assert [r["text"] for r in response.context["rows"]] == ["For alice"]
    assert response.context["rows"][0]["link"] == reverse("cases:detail", args=[case.pk])


def test_it_marks_one_notification_as_read(client, alice, case):
    first = notifications.notify(alice, "One", case)
    second = notifications.notify(alice, "Two", case)
    client.force_login(alice)
    response = client.post(READ, {"notification": first.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_it_marks_all_as_read(client, alice, case):
    notifications.notify(alice, "One", case)
    notifications.notify(alice, "Two", case)
    client.force_login(alice)
    client.post(READ)
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()


def test_it_cannot_mark_someone_elses_notification(client, alice, dora, case):
    theirs = notifications.notify(dora, "Private", case)
    client.force_login(alice)
    client.post(READ, {"notification": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_as_read_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get(READ).status_code == 405


def test_an_offsite_link_is_not_made_a_link(client, alice):
    Notification.objects.create(recipient=alice, text="Phish", link="https://evil.example/")
    client.force_login(alice)
    response = client.get(NOTES)
    assert response.context["rows"][0]["link"] == ""
    assert "evil.example" not in response.content.decode()


def test_dates_in_the_past_read_as_overdue(client, alice, dora):
    case = submit(alice, family_name="Late", submitted_on=dt.date(2023, 8, 11))
    workflow.assign(case, actor=dora, assignee=alice)
    client.force_login(alice)
    rows = client.get(HOME).context["deadline_rows"]
    assert any(r["days_text"].startswith("overdue by") for r in rows)


def _due_within_two_weeks(user):
    """The open deadlines of `user`'s cases due within 14 days, by hand from the table."""
    now = timezone.now()
    return Deadline.objects.filter(
        application__assigned_to=user,
        status=Deadline.Status.OPEN,
        due_at__lt=now + dt.timedelta(days=14),
    ).order_by("due_at", "pk")


def test_the_deadline_counts_and_rows_match_the_deadlines_due(client, alice, dora):
    for day, name in ((dt.date(2023, 8, 11), "Early"), (timezone.localdate(), "Today")):
        workflow.assign(
            submit(alice, family_name=name, submitted_on=day), actor=dora, assignee=alice
        )
    due = list(_due_within_two_weeks(alice))
    now = timezone.now()
    client.force_login(alice)
    context = client.get(HOME).context
    assert context["overdue_count"] == sum(1 for d in due if d.due_at < now) > 0
    assert context["soon_count"] == sum(1 for d in due if d.due_at >= now) > 0
    # The most urgent first, each once, with the case and person named.
    assert [r["pk"] for r in context["deadline_rows"]] == [d.pk for d in due][:50]
    assert all(r["reference"] and r["applicant"] for r in context["deadline_rows"])


@pytest.mark.parametrize("cap", [1, 2])
def test_the_deadline_counts_are_capped_each_on_its_own(client, alice, dora, monkeypatch, cap):
    """Above the cap a count reads "N+"; the other count stays exact whichever way it is
    counted (one pass when both fit, one count each when they do not)."""
    monkeypatch.setattr(importlib.import_module("cases.views.dashboard"), "COUNT_CAP", cap)
    for name in ("Late", "Later", "Latest"):
        workflow.assign(
            submit(alice, family_name=name, submitted_on=dt.date(2023, 8, 11)),
            actor=dora,
            assignee=alice,
        )
    workflow.assign(
        submit(alice, family_name="Recent", submitted_on=timezone.localdate()),
        actor=dora,
        assignee=alice,
    )
    due = list(_due_within_two_weeks(alice))
    now = timezone.now()
    overdue = sum(1 for d in due if d.due_at < now)
    soon = len(due) - overdue
    assert overdue > cap + 1  # the test's own premise
    client.force_login(alice)
    response = client.get(HOME)
    assert response.context["overdue_count"] == cap + 1
    assert response.context["soon_count"] == min(soon, cap + 1)
    assert f"{cap}+</strong> overdue" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 2, 3, 5])
def test_the_most_urgent_deadlines_are_exactly_those_of_the_table(
    client, alice, dora, rows, monkeypatch
):
    """The list is found through the cases' nearest deadlines; it must still be the first
    deadlines of the table, whatever the page size, with ties at its edge and cases with
    several deadlines due (and a case recorded after the fact, whose clocks are history)."""
    from cases.deadlines import refresh_next_deadline

    monkeypatch.setattr(importlib.import_module("cases.views.dashboard"), "URGENT_ROWS", rows)
    cases = [
        submit(alice, family_name=name, submitted_on=day)
        for name, day in (
            ("Early", dt.date(2023, 8, 11)),
            ("Tied", dt.date(2023, 8, 11)),
            ("Later", dt.date(2024, 1, 5)),
            ("Recent", timezone.localdate()),
        )
    ]
    for case in cases:
        workflow.assign(case, actor=dora, assignee=alice)
    # A tie across cases at the edge: the second case's deadlines fall when the first's do.
    first = list(Deadline.objects.open().filter(application=cases[0]).order_by("due_at"))
    for mine, theirs in zip(
        Deadline.objects.open().filter(application=cases[1]).order_by("due_at"), first, strict=True
    ):
        Deadline.objects.filter(pk=mine.pk).update(due_at=theirs.due_at)
    refresh_next_deadline(cases[1])
    history = submit(alice, family_name="History", submitted_on=dt.date(2023, 8, 11))
    workflow.assign(history, actor=dora, assignee=alice)
    history.refresh_from_db()
    history.recorded_as_of = dt.date(2023, 8, 11)
    history.save(update_fields=["recorded_as_of"])
    refresh_next_deadline(history)

    expected = [
        d.pk for d in _due_within_two_weeks(alice).filter(application__recorded_as_of__isnull=True)
    ][:rows]
    client.force_login(alice)
    listed = [r["pk"] for r in client.get(HOME).context["deadline_rows"]]
    assert listed == expected and len(listed) == rows
    client.force_login(dora)  # the unit's list, through the unit's index
    listed = [r["pk"] for r in client.get(HOME).context["deadline_rows"]]
    assert listed == expected


# The dashboard's loop over its deadlines as it was (templates/cases/dashboard.html).
OLD_DEADLINE_ROWS = """{% load haven %}{% for row in deadline_rows %}
  <tr{% if row.overdue %} class="row--overdue"{% endif %}>
    <td class="nowrap"><time class="date" datetime="{% if row.hours %}{{ row.due_at|stamp:"iso" }}{% else %}{{ row.due_on|date:"Y-m-d" }}{% endif %}">{% if row.hours %}{{ row.due_at|stamp }}{% else %}{{ row.due_on|stamp:"day" }}{% endif %}</time></td>
    <td><span class="{% if row.overdue %}tag tag--danger{% else %}tag tag--warning{% endif %}">{{ row.days_text }}</span></td>
    <td class="cell--wrap">{{ row.name }}{% if row.legal_source %}<span class="source">{{ row.legal_source }}</span>{% endif %}</td>
    <td class="cell--wrap"><a href="{{ row.case_url }}" class="ref">{{ row.reference }}</a><span class="source">{{ row.applicant }}</span></td>
  </tr>
{% endfor %}"""  # noqa: E501 - verbatim


@pytest.mark.parametrize("language", ["en", "lt"])
def test_the_deadlines_are_listed_as_the_template_listed_them(
    language, client, alice, dora, pabrade
):
    from django.template import Context, Template
    from django.test.html import parse_html
    from django.utils import translation

    from tests.cases.test_clocks import detain, examine

    submit(alice, family_name='<b>Late</b> & "co"')  # overdue long since
    submit(alice, family_name="Recent", submitted_on=timezone.localdate())  # due soon
    detain(examine(alice, family_name="Held"), alice, pabrade)  # a limit in hours
    client.force_login(dora)
    response = client.get(HOME)
    rows = response.context["deadline_rows"]
    assert any(r["overdue"] for r in rows) and any(not r["overdue"] for r in rows)
    assert any(r["hours"] for r in rows) and any(r["legal_source"] for r in rows)
    with translation.override(language):
        context = Context({"deadline_rows": rows})
        old = Template(OLD_DEADLINE_ROWS).render(context)
        new = Template("{% load haven %}{% urgent_deadline_rows deadline_rows %}").render(context)
    assert parse_html(new) == parse_html(old)
    page = response.content.decode().lower()  # family names are shown in capitals
    assert "&lt;b&gt;late&lt;/b&gt; &amp; &quot;co&quot;" in new.lower()
    assert "&lt;b&gt;late&lt;/b&gt;" in page and "<b>late" not in page
