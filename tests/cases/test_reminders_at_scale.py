"""Reminders at national scale: one person per reminder, escalation through the digest, and
cases recorded after the fact (the sample case) that raise no alarm.

A built world of one unit with 30 decision-makers and 100 overdue deadlines of unassigned
cases: before, every overdue deadline went to every decision-maker (3,000 reminders); now a
deadline's reminders go to one person, and the decision-makers get one digest each.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts import roles
from accounts.models import Unit
from cases import reminders, workflow
from cases.models import Application, CaseEvent, Deadline, Notification, Reminder
from tests.conftest import make_user, on_duty, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
NOW = dt.datetime(2024, 2, 13, 9, 0, tzinfo=VILNIUS)
DECISION_MAKERS = 30
# One alarm each (the examination; the right to work is an entitlement, never overdue):
# 100 overdue deadlines at NOW.
CASES = 100


@pytest.fixture
def world(alice, dora):
    """alice's unit: dora and 29 more decision-makers, 50 unassigned cases made and lodged
    on 11 August 2023, whose examination clocks (due 11 February 2024) are overdue at
    NOW."""
    heads = [dora] + [
        make_user(f"head{i:02}", roles.DECISION_MAKER, alice.unit)
        for i in range(DECISION_MAKERS - 1)
    ]
    with time_machine.travel(dt.datetime(2023, 8, 11, 15, 0, tzinfo=VILNIUS), tick=False):
        for i in range(CASES):
            submit(alice, family_name=f"Person{i:02}", lodged_on=dt.date(2023, 8, 11))
    assert Deadline.objects.overdue(NOW).count() == CASES
    return heads


def sweep_and_digest() -> list[tuple[int, str]]:
    digests: list[tuple[int, str]] = []
    with time_machine.travel(NOW, tick=False):
        reminders.sweep(now=NOW, enqueue=lambda pk: None, enqueue_digest=lambda *a: None)
        reminders.send_digests(now=NOW, enqueue=lambda *args: digests.append(args))
    return digests


def test_without_a_duty_officer_the_decision_makers_get_one_digest_each_and_no_reminder(world):
    digests = sweep_and_digest()
    assert Reminder.objects.count() == 0
    assert sorted(user for user, _day in digests) == sorted(u.pk for u in world)
    assert {day for _user, day in digests} == {"2024-02-13"}


def test_with_a_duty_officer_each_deadline_is_reminded_once(world, alice):
    bob = on_duty(make_user("bob", roles.CASEWORKER, alice.unit))
    digests = sweep_and_digest()
    assert Reminder.objects.count() == CASES
    assert set(Reminder.objects.values_list("recipient__username", flat=True)) == {"bob"}
    # Overdue deadlines still reach every decision-maker, once, in the digest; bob's own
    # digest covers the unassigned cases he is on duty for.
    assert sorted(user for user, _day in digests) == sorted([bob.pk, *(u.pk for u in world)])


def test_a_decision_makers_digest_counts_by_rule_and_names_the_most_urgent(world, dora):
    with time_machine.travel(NOW, tick=False):
        assert reminders.send_digest(dora.pk, NOW.date(), now=NOW) == "sent"
    [email] = mail.outbox
    assert email.to == ["dora@example.test"]
    assert "Examination period: 100 (100 overdue)" in email.body
    assert "Right to work" not in email.body  # an entitlement is never overdue
    assert email.body.count("/cases/") == reminders.DIGEST_ITEMS + 1  # the items, the list
    assert f"and {CASES - reminders.DIGEST_ITEMS} more." in email.body
    assert "http://127.0.0.1:8000/cases/?overdue=true" in email.body
    note = Notification.objects.get(kind=Notification.Kind.DIGEST, recipient=dora)
    assert note.text == "Today's digest: 0 deadlines due within 14 days, 100 overdue."


def test_the_overdue_link_of_the_digest_lists_those_cases(world, dora, client):
    client.force_login(dora)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("cases:list"), {"overdue": "true", "per_page": "100"})
    assert page.status_code == 200
    assert len(page.context["rows"]) == CASES


def test_a_duty_officer_must_be_an_active_member_of_the_unit(alice, oscar):
    from django.core.exceptions import ValidationError

    unit = alice.unit
    unit.duty_officer = oscar  # another unit's caseworker
    with pytest.raises(ValidationError) as refused:
        unit.full_clean()
    assert "duty_officer" in refused.value.message_dict


# ---- the sample case: history, not an alarm ---------------------------------------------


@pytest.fixture
def sample():
    call_command("import_seed", verbosity=0)
    return Application.objects.get(applicant__family_name="Korolev")


def test_the_sample_case_reads_as_history(sample, client):
    unit = Unit.objects.get(name="Migration Department, Asylum Division")
    head = make_user("head", roles.DECISION_MAKER, unit)
    client.force_login(head)
    assert sample.recorded_as_of == dt.date(2023, 8, 11)
    assert sample.next_deadline_at is None  # nothing due, so no overdue flag in any list
    page = client.get(reverse("cases:detail", args=[sample.pk])).content.decode()
    assert "unknown after 2023-08-11" in page
    assert "overdue by" not in page
    assert "reflects what was known on 2023-08-11" in page
    dashboard = client.get(reverse("cases:dashboard"))
    assert dashboard.context["overdue_count"] == 0
    listed = client.get(reverse("cases:list"), {"overdue": "true"})
    assert sample.reference not in listed.content.decode()


def test_bringing_the_sample_case_up_to_date_makes_its_clocks_live(sample, client):
    unit = Unit.objects.get(name="Migration Department, Asylum Division")
    head = make_user("head", roles.DECISION_MAKER, unit)
    client.force_login(head)
    url = reverse("cases:action", args=[sample.pk, "up_to_date"])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400  # the form again, with the error; nothing saved
    assert "Nothing was saved." in refused.content.decode()
    sample.refresh_from_db()
    assert sample.recorded_as_of == dt.date(2023, 8, 11)
    done = client.post(url, {"reason": "Checked the current facts with the Pabradė centre."})
    assert done.status_code == 302
    sample.refresh_from_db()
    assert sample.recorded_as_of is None
    assert sample.next_deadline_at is not None
    event = sample.events.get(action="brought_up_to_date")
    assert event.kind == CaseEvent.Kind.RECORD and event.actor == head
    assert event.data == {"recorded_as_of": "2023-08-11"}
    page = client.get(reverse("cases:detail", args=[sample.pk])).content.decode()
    assert "overdue by" in page and "unknown after" not in page
    assert "Record brought up to date (it reflected 2023-08-11)" in page


def test_a_caseworker_of_another_unit_cannot_bring_it_up_to_date(sample, oscar):
    with pytest.raises(workflow.WorkflowError):
        workflow.bring_up_to_date(sample, actor=oscar, reason="Not mine.")
    sample.refresh_from_db()
    assert sample.recorded_as_of == dt.date(2023, 8, 11)


def test_the_admin_offers_only_the_units_active_members_as_duty_officer(alice, dora, oscar, root):
    from django.test import Client

    client = Client()
    client.force_login(root)
    url = reverse("admin:accounts_unit_change", args=[alice.unit.pk])
    page = client.get(url)
    offered = {
        str(choice) for choice in page.context["adminform"].form.fields["duty_officer"].queryset
    }
    assert {str(alice), str(dora)} <= offered and str(oscar) not in offered
    for value in (oscar.pk, "not-a-number"):
        refused = client.post(url, {"name": alice.unit.name, "duty_officer": value})
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors["duty_officer"]
    done = client.post(url, {"name": alice.unit.name, "duty_officer": alice.pk})
    assert done.status_code == 302
    alice.unit.refresh_from_db()
    assert alice.unit.duty_officer == alice
