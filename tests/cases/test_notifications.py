"""Sending reminders and digests: in-app exactly once, email with subject, text and HTML,
failures recorded and retried, and the administrators' view of it (`cases.reminders`,
`cases.notifications`, `cases.admin_notifications`).

Mail goes through Django's MAILERS: the locmem backend, or a failing backend class defined
here. Sends run in this process; the worker is tested in test_tasks.py.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import include, path

import cases.admin_notifications  # noqa: F401 - cases.admin imports it in the project
from cases import notifications, reminders, workflow
from cases.models import Application, DeadlineRule, Notification, Reminder
from haven import health, metrics
from haven import urls as haven_urls
from haven.celery import app
from tests.conftest import decide, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")
D = dt.date
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
FAILING = {"default": {"BACKEND": "tests.cases.test_notifications.RefusingBackend"}}

# The project's URLs, with the admin built after this module registered its ModelAdmins.
urlpatterns = [
    path("health/", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("api.urls")),
    path("reports/", include("reports.urls")),
    path("", include("cases.urls")),
]
assert len(haven_urls.urlpatterns) == 8, "keep this test URLconf in step with haven.urls"


class RefusingBackend(BaseEmailBackend):
    """A mail server that drops the connection."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def vilnius(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VILNIUS)


def at(*args: int):
    return time_machine.travel(vilnius(*args), tick=False)


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.MAILERS = LOCMEM


def examined(alice) -> Application:
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
        return workflow.start_examination(
            case, actor=alice, expected_status="submitted", reason="Go"
        )


def swept(*moment: int) -> list[Reminder]:
    """Create the reminders due at `moment`, without sending them."""
    with at(*moment):
        reminders.sweep(enqueue=lambda pk: None, enqueue_digest=lambda *a: None)
    return list(Reminder.objects.select_related("deadline", "recipient").order_by("pk"))


def send(reminder: Reminder, *moment: int) -> str:
    with at(*moment):
        return reminders.send_reminder(reminder.pk)


def examination_reminder(alice) -> Reminder:
    case = examined(alice)
    swept(2024, 2, 8, 8, 0)  # level 3 for the examination, 14 for the right to work
    return Reminder.objects.get(deadline__application=case, deadline__rule="examination")


# ---- a reminder ---------------------------------------------------------------------------


def test_it_sends_a_reminder_in_app_and_by_email(alice):
    reminder = examination_reminder(alice)
    assert send(reminder, 2024, 2, 8, 8, 1) == "sent"
    reminder.refresh_from_db()
    assert reminder.sent_at == vilnius(2024, 2, 8, 8, 1)
    assert (reminder.attempts, reminder.claimed_at, reminder.last_error) == (1, None, "")
    note = Notification.objects.get(reminder=reminder)
    case = reminder.deadline.application
    assert note.recipient == alice
    assert note.kind == Notification.Kind.REMINDER
    assert note.read_at is None
    assert note.text == f"{case.reference}: Examination period is due 2024-02-11 (3 days left)."
    assert note.link == notifications.case_link(case)
    [email] = mail.outbox
    assert email.to == ["alice@example.test"]
    assert email.subject == f"Due 2024-02-11: Examination period, case {case.reference}"
    assert "3 days left" in email.body
    assert "Law on the Legal Status of Aliens Art. 81(1)" in email.body
    assert f"http://127.0.0.1:8000/cases/{case.pk}/" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert f'href="http://127.0.0.1:8000/cases/{case.pk}/"' in html


def test_an_overdue_reminder_says_so(alice, dora):
    case = examined(alice)
    swept(2024, 2, 12, 9, 0)
    reminder = Reminder.objects.get(deadline__rule="examination", recipient=alice)
    send(reminder, 2024, 2, 12, 9, 1)
    note = Notification.objects.get(reminder=reminder)
    assert note.text == f"{case.reference}: Examination period is overdue (due 2024-02-11)."
    assert mail.outbox[0].subject.startswith("Overdue: Examination period")
    assert "passed on 2024-02-11 and is still open" in mail.outbox[0].body


def test_sending_a_reminder_twice_sends_it_once(alice):
    reminder = examination_reminder(alice)
    send(reminder, 2024, 2, 8, 8, 1)
    assert send(reminder, 2024, 2, 8, 8, 2) == "done"
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert reminder.attempts == 1


def test_a_failed_email_is_recorded_and_a_retry_adds_no_second_notification(alice, settings):
    reminder = examination_reminder(alice)
    settings.MAILERS = FAILING
    with pytest.raises(reminders.DeliveryFailed):
        send(reminder, 2024, 2, 8, 8, 1)
    reminder.refresh_from_db()
    assert reminder.sent_at is None
    assert reminder.claimed_at is None  # released for the retry
    assert reminder.attempts == 1
    assert reminder.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert Notification.objects.filter(reminder=reminder).count() == 1  # in-app went out
    settings.MAILERS = LOCMEM
    assert send(reminder, 2024, 2, 8, 8, 2) == "sent"
    reminder.refresh_from_db()
    assert (reminder.attempts, reminder.last_error) == (2, "")
    assert reminder.sent_at == vilnius(2024, 2, 8, 8, 2)
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert len(mail.outbox) == 1


def test_a_live_claim_keeps_another_worker_away(alice, settings):
    settings.REMINDER_GRACE_SECONDS = 600
    reminder = examination_reminder(alice)
    Reminder.objects.filter(pk=reminder.pk).update(claimed_at=vilnius(2024, 2, 8, 8, 0))
    assert send(reminder, 2024, 2, 8, 8, 9) == "busy"
    assert mail.outbox == []
    assert not Notification.objects.filter(reminder=reminder).exists()
    # Older than the grace period: the worker that claimed it died; take it over.
    assert send(reminder, 2024, 2, 8, 8, 11) == "sent"
    assert len(mail.outbox) == 1


def test_a_reminder_of_a_deadline_closed_meanwhile_is_not_sent(alice, dora):
    reminder = examination_reminder(alice)
    case = reminder.deadline.application
    with at(2024, 2, 8, 9, 0):
        decide(case, alice, dora, decided_on=D(2024, 2, 8))
    assert send(reminder, 2024, 2, 8, 9, 1) == "skipped"
    reminder.refresh_from_db()
    assert reminder.sent_at is None
    assert "deadline was closed" in reminder.last_error
    assert not Notification.objects.filter(reminder=reminder).exists()
    assert mail.outbox == []


def test_a_recipient_without_an_address_gets_the_in_app_notification(alice):
    alice.email = ""
    alice.save(update_fields=["email"])
    reminder = examination_reminder(alice)
    assert send(reminder, 2024, 2, 8, 8, 1) == "sent"
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert mail.outbox == []


def test_a_reminder_of_an_hour_limit_gives_the_hour(alice, pabrade):
    case = examined(alice)
    with at(2023, 8, 12, 10, 0):
        workflow.detain(
            case,
            actor=alice,
            expected_status="examination",
            reason="Risk",
            facility=pabrade,
            legal_basis="Art. 113",
            order_reference="SBGS-1",
        )
    swept(2023, 8, 13, 9, 0)
    reminder = Reminder.objects.get(deadline__rule="detention-48h")
    send(reminder, 2023, 8, 13, 9, 1)
    assert "due 2023-08-14 10:00" in Notification.objects.get(reminder=reminder).text


def test_emails_and_notifications_carry_no_personal_data(alice):
    reminder = examination_reminder(alice)
    send(reminder, 2024, 2, 8, 8, 1)
    email = mail.outbox[0]
    everything = " ".join(
        [email.subject, email.body, email.alternatives[0][0], Notification.objects.get().text]
    )
    for secret in ("Korolev", "KOROLEV", "Иван", "Королёв", "Ivan"):
        assert secret not in everything


def test_the_html_email_escapes_what_administrators_typed(alice):
    DeadlineRule.objects.filter(code="examination").update(name="<script>marker</script>")
    reminder = examination_reminder(alice)
    send(reminder, 2024, 2, 8, 8, 1)
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>marker" not in html
    assert "&lt;script&gt;marker" in html
    assert "\n" not in mail.outbox[0].subject


def test_a_change_to_a_case_sends_what_is_already_due_at_once(
    alice, dora, settings, django_capture_on_commit_callbacks
):
    """The per-case check that a transition enqueues on commit (tasks in-process here)."""
    with at(2023, 8, 11, 15, 0):
        case = submit(alice, lodged_on=D(2023, 8, 11))
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with at(2024, 2, 12, 9, 0), django_capture_on_commit_callbacks(execute=True):
            workflow.start_examination(case, actor=alice, expected_status="submitted", reason="Go")
    finally:
        app.conf.task_always_eager = previous
    # The examination period's, to alice; the right to work is an entitlement, never reminded.
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 1
    assert Notification.objects.filter(kind="reminder").count() == 1
    assert len(mail.outbox) == 1


# ---- the digest ---------------------------------------------------------------------------


def test_it_enqueues_one_digest_per_user_with_something_due(alice, dora, oscar):
    examined(alice)  # alice: her case's deadlines; dora: only once they are overdue
    sent: list[tuple[int, str]] = []
    with at(2024, 2, 1, 7, 0):
        count = reminders.send_digests(enqueue=lambda *args: sent.append(args))
    assert count == 1
    assert sent == [(alice.pk, "2024-02-01")]
    sent.clear()
    with at(2024, 2, 12, 7, 0):
        reminders.send_digests(enqueue=lambda *args: sent.append(args))
    assert sorted(sent) == sorted([(alice.pk, "2024-02-12"), (dora.pk, "2024-02-12")])


def test_a_digest_lists_what_is_due_and_goes_out_once_a_day(alice):
    first = examined(alice)
    second = examined(alice)
    with at(2024, 2, 1, 7, 0):
        assert reminders.send_digest(alice.pk, D(2024, 2, 1)) == "sent"
        assert reminders.send_digest(alice.pk, D(2024, 2, 1)) == "done"
    [email] = mail.outbox
    # Each case's examination period (the right to work is an entitlement, not a deadline).
    assert email.subject == "Deadlines on 2024-02-01: 2 due soon, 0 overdue"
    assert first.reference in email.body and second.reference in email.body
    assert "Examination period, due 2024-02-11" in email.body
    note = Notification.objects.get(kind=Notification.Kind.DIGEST)
    assert note.digest_on == D(2024, 2, 1)
    assert note.emailed_at == vilnius(2024, 2, 1, 7, 0)
    assert "2 deadlines due within 14 days, 0 overdue" in note.text
    with at(2024, 2, 2, 7, 0):
        assert reminders.send_digest(alice.pk, D(2024, 2, 2)) == "sent"
    assert len(mail.outbox) == 2


def test_a_failed_digest_is_retried_and_sent_once(
    alice, settings, django_capture_on_commit_callbacks
):
    examined(alice)
    settings.MAILERS = FAILING
    with at(2024, 2, 1, 7, 0), pytest.raises(reminders.DeliveryFailed):
        reminders.send_digest(alice.pk, D(2024, 2, 1))
    settings.MAILERS = LOCMEM
    # The next sweep after the grace period enqueues it again.
    again: list[tuple[int, str]] = []
    with at(2024, 2, 1, 7, 20), django_capture_on_commit_callbacks(execute=True):
        reminders.sweep(enqueue=lambda pk: None, enqueue_digest=lambda *a: again.append(a))
    assert again == [(alice.pk, "2024-02-01")]
    with at(2024, 2, 1, 7, 21):
        assert reminders.send_digest(alice.pk, D(2024, 2, 1)) == "sent"
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(kind="digest").count() == 1


def test_no_digest_for_someone_with_nothing_due_or_no_address(alice, dora):
    examined(alice)
    with at(2024, 2, 1, 7, 0):
        assert reminders.send_digest(dora.pk, D(2024, 2, 1)) == "nothing"
    alice.email = ""
    alice.save(update_fields=["email"])
    with at(2024, 2, 1, 7, 0):
        assert reminders.send_digest(alice.pk, D(2024, 2, 1)) == "nothing"
    assert mail.outbox == []
    assert not Notification.objects.exists()


# ---- the administrators' view -------------------------------------------------------------


@pytest.fixture
def admin_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_administrators_see_failed_reminders_with_their_error(
    alice, adam, client, settings, admin_urls
):
    reminder = examination_reminder(alice)
    settings.MAILERS = FAILING
    with pytest.raises(reminders.DeliveryFailed):
        send(reminder, 2024, 2, 8, 8, 1)
    client.force_login(adam)
    page = client.get("/admin/cases/reminder/?delivery=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in text
    assert reminder.deadline.application.reference in text
    assert client.get(f"/admin/cases/reminder/{reminder.pk}/change/").status_code == 200


def test_retry_sending_gives_failed_reminders_a_fresh_start(
    alice, adam, client, settings, admin_urls, django_capture_on_commit_callbacks
):
    reminder = examination_reminder(alice)
    Reminder.objects.filter(pk=reminder.pk).update(attempts=12, last_error="SMTP 451")
    client.force_login(adam)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.post(
            "/admin/cases/reminder/",
            {"action": "retry_sending", "_selected_action": [reminder.pk]},
            follow=True,
        )
    assert page.status_code == 200
    assert "1 reminder will be sent again." in page.content.decode()
    assert len(callbacks) == 1  # the send, enqueued once the action is committed
    reminder.refresh_from_db()
    assert reminder.attempts == 0


def test_reminders_cannot_be_added_edited_or_deleted_in_the_admin(alice, adam, client, admin_urls):
    reminder = examination_reminder(alice)
    client.force_login(adam)
    assert client.get("/admin/cases/reminder/add/").status_code == 403
    assert client.get(f"/admin/cases/reminder/{reminder.pk}/delete/").status_code == 403
    client.post(f"/admin/cases/reminder/{reminder.pk}/change/", {"level": 0})
    reminder.refresh_from_db()
    assert reminder.level == 3


def test_staff_of_one_unit_see_only_their_units_reminders(alice, oscar, client, admin_urls):
    examination_reminder(alice)
    oscar.is_staff = True
    oscar.save(update_fields=["is_staff"])
    client.force_login(oscar)
    page = client.get("/admin/cases/reminder/")
    assert page.status_code == 200
    assert Application.objects.get().reference not in page.content.decode()
