"""Reminders, digests and in-app notifications are written in the recipient's language.

One sweep writes to people of both languages: each message follows its recipient's choice
(`User.language`), never the worker's or the acting user's language.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from accounts import roles
from cases import reminders, workflow
from cases.models import Notification
from tests.conftest import make_user, on_duty, submit

pytestmark = pytest.mark.django_db

VILNIUS = ZoneInfo("Europe/Vilnius")


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=VILNIUS), tick=False)


@pytest.fixture
def dora_lt(dora):
    dora.language = "lt"
    dora.save(update_fields=["language"])
    return dora


@pytest.fixture
def dana_en(unit):
    return make_user("dana", roles.DECISION_MAKER, unit, language="en")


def _sweep(*moment: int, django_capture_on_commit_callbacks) -> None:
    with at(*moment), django_capture_on_commit_callbacks(execute=True):
        reminders.sweep(enqueue=reminders.send_reminder, enqueue_digest=lambda *a: None)


def test_one_sweep_writes_each_reminder_in_its_recipients_language(
    alice, dora_lt, dana_en, django_capture_on_commit_callbacks
):
    # Unassigned: the unit's duty officer is reminded; dora (Lithuanian) is on duty at the
    # first sweep, dana (English) at the second.
    with at(2023, 8, 11, 15, 0):
        submit(alice, lodged_on=dt.date(2023, 8, 11))
    mail.outbox.clear()
    for officer in (dora_lt, dana_en):
        on_duty(officer)
        with translation.override("en"):  # the worker's own language must not leak in
            _sweep(
                2024,
                1,
                28,
                8,
                0,
                django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
            )

    lithuanian = [m for m in mail.outbox if m.to == ["dora@example.test"]]
    english = [m for m in mail.outbox if m.to == ["dana@example.test"]]
    assert lithuanian and english

    for message in lithuanian:
        html = message.alternatives[0][0]
        assert message.subject.startswith("Terminas baigiasi 2024-02-1"), message.subject
        assert "Sveiki, Dora," in message.body
        assert "liko 14 dienų" in message.body
        assert "Atidaryti bylą:" in message.body
        assert '<html lang="lt">' in html and "Atidaryti bylą" in html
        assert "Hello" not in message.body and "days left" not in message.body

    for message in english:
        html = message.alternatives[0][0]
        assert message.subject.startswith("Due 2024-02-1"), message.subject
        assert "Hello Dana," in message.body
        assert "14 days left" in message.body
        assert '<html lang="en">' in html and "Open case" in html
        assert "Sveiki" not in message.body

    dora_texts = list(Notification.objects.filter(recipient=dora_lt).values_list("text", flat=True))
    dana_texts = list(Notification.objects.filter(recipient=dana_en).values_list("text", flat=True))
    assert dora_texts and all("baigiasi" in t and "liko 14 dienų" in t for t in dora_texts)
    assert dana_texts and all("is due" in t and "14 days left" in t for t in dana_texts)


def test_the_daily_digest_is_written_in_each_recipients_language(
    alice, dora_lt, dana_en, django_capture_on_commit_callbacks
):
    with at(2023, 8, 11, 15, 0):
        submit(alice, lodged_on=dt.date(2023, 8, 11))
    mail.outbox.clear()
    now = dt.datetime(2024, 2, 5, 7, 0, tzinfo=VILNIUS)
    with at(2024, 2, 5, 7, 0):
        assert reminders.send_digest(dora_lt.pk, now.date(), now=now) == "sent"
        assert reminders.send_digest(dana_en.pk, now.date(), now=now) == "sent"

    (lithuanian,) = [m for m in mail.outbox if m.to == ["dora@example.test"]]
    (english,) = [m for m in mail.outbox if m.to == ["dana@example.test"]]
    assert lithuanian.subject.startswith("Terminai 2024-02-05: netrukus baigiasi – ")
    assert "Atidaryti Haven" in lithuanian.alternatives[0][0]
    assert english.subject.startswith("Deadlines on 2024-02-05: ")
    assert "Open Haven" in english.alternatives[0][0]

    digest = Notification.objects.filter(kind=Notification.Kind.DIGEST)
    assert digest.get(recipient=dora_lt).text.startswith("Šios dienos suvestinė:")
    assert digest.get(recipient=dana_en).text.startswith("Today's digest:")


def test_an_assignment_notice_is_written_in_the_assignees_language(
    alice, dora, django_capture_on_commit_callbacks
):
    alice.language = "lt"
    alice.save(update_fields=["language"])
    with at(2023, 8, 11, 15, 0):
        case = submit(dora, lodged_on=dt.date(2023, 8, 11))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        workflow.assign(case, actor=dora, assignee=alice, reason="Yours")
    notice = Notification.objects.get(recipient=alice, kind=Notification.Kind.MESSAGE)
    assert notice.text == f"Jums paskirta byla {case.reference}."


def test_a_recipient_who_chose_nothing_gets_the_sites_language(
    alice, dora, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "lt"
    with at(2023, 8, 11, 15, 0):
        case = submit(dora, lodged_on=dt.date(2023, 8, 11))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        workflow.assign(case, actor=dora, assignee=alice, reason="Yours")
    notice = Notification.objects.get(recipient=alice, kind=Notification.Kind.MESSAGE)
    assert notice.text == f"Jums paskirta byla {case.reference}."
