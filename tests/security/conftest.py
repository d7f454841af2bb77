"""The world the security tests attack: one richly filled case of unit A, a case of unit B.

Unit A ("Asylum Division": alice, dora) has a detained applicant with a note, a document, an
interview, open deadlines, a reminder, a notification and an access log. Unit B ("Border
Division": oscar, and olga who is also staff) has a case of its own, so that an outsider's
pages are not empty. Everything is built through `cases.workflow`; the few rows the workflow
does not make (a reminder, a notification, a sign-in record) are plain inserts of the kind the
sweep and django-axes make themselves.

`Markers` are the strings that must never reach a user who may not see unit A's case: the
applicant's names in both scripts, the case reference, the note's text and the document's name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models

from accounts import roles
from accounts.models import SecurityEvent, Unit, User
from api.models import ApiToken
from cases import workflow
from cases.models import (
    Application,
    Deadline,
    DeadlineRule,
    Facility,
    Notification,
    Reminder,
    SensitiveField,
)
from tests.conftest import make_user, submit

FAMILY = "Korolev"
GIVEN = "Ivan"
ORIGINAL = "Иван Королёв"
NOTE_TEXT = "Deserted from unit 59313-39 zq-note-marker"
DOCUMENT_NAME = "zq-passport-scan.txt"


@dataclasses.dataclass
class World:
    """Unit A's case and everything hanging off it, plus the people of both units."""

    case: Application
    other_case: Application
    objects: dict[type[models.Model], models.Model]
    users: dict[str, User]
    unit: Unit
    other_unit: Unit

    @property
    def scoped_models(self) -> set[type[models.Model]]:
        """Kinds of rows that belong to a case (or, notifications, to one person): a user who
        may not see unit A's case must not learn that unit A's rows exist."""
        return {
            Application,
            type(self.case.applicant),
            Deadline,
            Reminder,
            Notification,
            *(type(self.objects[m]) for m in self.objects if m._meta.app_label == "cases"),
        } - {Facility, DeadlineRule, SensitiveField}

    @property
    def markers(self) -> list[str]:
        """What identifies unit A's applicant or case; compared case-insensitively."""
        return [
            FAMILY,
            ORIGINAL,
            *ORIGINAL.split(),
            self.case.reference,
            NOTE_TEXT,
            DOCUMENT_NAME,
        ]

    def leaks(self, content: bytes) -> list[str]:
        """The markers found in a response body, as text or JSON-escaped (the given name is
        matched by case, since "ivan" could hide inside an ordinary word)."""
        text = content.decode("utf-8", errors="replace")
        lowered = text.casefold()
        found = [
            m
            for m in self.markers
            if m.casefold() in lowered or json.dumps(m)[1:-1].casefold() in lowered
        ]
        found += [m for m in (GIVEN, GIVEN.upper()) if m in text]
        return found


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def olga(other_unit) -> User:
    """A caseworker of unit B who is also staff: she reaches the admin, scoped to unit B."""
    return make_user("olga", roles.CASEWORKER, other_unit, is_staff=True)


@pytest.fixture
def nobody(db) -> User:
    """Signed in, but with no role and no unit."""
    return make_user("nobody", None, None)


@pytest.fixture
def world(build_case, alice, dora, oscar, olga, adam, root, nobody, unit, other_unit, rukla):
    case = build_case("detention")
    workflow.record_interview(case, actor=alice, interviewed_on=dt.date(2023, 9, 1))
    note = workflow.add_note(case, actor=alice, text=NOTE_TEXT)
    document = workflow.add_document(
        case,
        actor=alice,
        file=SimpleUploadedFile(DOCUMENT_NAME, b"A scanned passport.\n", "text/plain"),
        original_name=DOCUMENT_NAME,
        description="Passport",
    )
    case.refresh_from_db()
    deadline = case.deadlines.filter(status=Deadline.Status.OPEN).order_by("due_at").first()
    reminder = Reminder.objects.create(deadline=deadline, level=14, recipient=alice)
    notification = Notification.objects.create(
        recipient=alice,
        text=f"Deadline of {case.reference} is near",
        link=f"/cases/{case.pk}/",
        reminder=reminder,
    )
    other_case = submit(
        oscar, family_name="Petrov", given_names="Pyotr", name_original="Пётр Петров"
    )
    attempt_fields: dict[str, Any] = {
        "username": "alice",
        "ip_address": "192.0.2.1",
        "user_agent": "test",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    objects: dict[type[models.Model], models.Model] = {
        Application: case,
        case.applicant.__class__: case.applicant,
        case.placements.model: case.placements.first(),
        Deadline: deadline,
        case.events.model: case.events.order_by("pk").first(),
        note.__class__: note,
        document.__class__: document,
        Reminder: reminder,
        Notification: notification,
        Facility: case.placements.first().facility,
        DeadlineRule: deadline.rule,
        SensitiveField: SensitiveField.objects.order_by("pk").first(),
        Unit: unit,
        User: alice,
        Group: Group.objects.get(name=roles.CASEWORKER),
        AccessAttempt: AccessAttempt.objects.create(
            **attempt_fields, get_data="", post_data="", failures_since_start=1
        ),
        AccessLog: AccessLog.objects.create(**attempt_fields),
        AccessFailureLog: AccessFailureLog.objects.create(**attempt_fields),
        ApiToken: ApiToken.issue(alice, name="unit A's sync", days=30)[0],
        SecurityEvent: SecurityEvent.objects.create(
            user=alice, actor=alice, kind=SecurityEvent.Kind.MFA_ENROLLED, ip="192.0.2.1"
        ),
    }
    return World(
        case=case,
        other_case=other_case,
        objects=objects,
        users={
            "alice": alice,
            "dora": dora,
            "oscar": oscar,
            "olga": olga,
            "adam": adam,
            "root": root,
            "nobody": nobody,
        },
        unit=unit,
        other_unit=other_unit,
    )


# Rows whose change would mean that a request changed something. Sessions and sign-in records
# (the session index `accounts.UserSession` too) change with every sign-in and hold nothing of
# a case; pghistory's `Events` is a view.
SNAPSHOT_APPS = {"accounts", "cases", "admin", "auth", "pghistory"}
SNAPSHOT_SKIP = {
    "pghistory.Events",
    "pghistory.MiddlewareEvents",
    "auth.Permission",
    "accounts.UserSession",
}
# Columns that signing in (again, after a sign-out URL was posted to) changes by design.
SNAPSHOT_SKIP_COLUMNS = {"accounts.User": {"last_login"}}
# Views of a case are recorded as access events by design, also when a form comes back with
# its errors (the page names the applicant); they are a record of the request, not a change
# it made. tests/security/test_access_log.py checks them.
SNAPSHOT_SKIP_ROWS = {"cases.CaseEvent": ("kind", "access")}


def _snapshot_models():
    """(model, label) of every model that holds case data, users, roles or history."""
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        if model._meta.app_label not in SNAPSHOT_APPS or label in SNAPSHOT_SKIP:
            continue
        if not model._meta.managed and not model._meta.auto_created:
            continue
        yield model, label


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every snapshot model (but the skipped rows and columns), in pk order."""
    state: dict[str, list[tuple]] = {}
    for model, label in _snapshot_models():
        skip = SNAPSHOT_SKIP_COLUMNS.get(label, set())
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        rows = model._base_manager.order_by("pk")
        if label in SNAPSHOT_SKIP_ROWS:
            column, value = SNAPSHOT_SKIP_ROWS[label]
            rows = rows.exclude(**{column: value})
        state[label] = list(rows.values_list(*columns))
    return state


def fingerprint() -> dict[str, tuple[int, str]]:
    """Like `snapshot`, but computed by PostgreSQL in one query: per table, the number of rows
    and a digest of their content. Cheap enough to take around every request of a fuzz run."""
    parts: list[str] = []
    params: list[Any] = []
    for model, label in _snapshot_models():
        # Identifiers come from the models' metadata, quoted; values are parameters.
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        where, where_params = "", []
        if label in SNAPSHOT_SKIP_ROWS:
            column, value = SNAPSHOT_SKIP_ROWS[label]
            where, where_params = f" WHERE t.{connection.ops.quote_name(column)} <> %s", [value]
        parts.append(
            "SELECT %s, count(*), md5(coalesce(string_agg("  # noqa: S608
            f"(to_jsonb(t) - %s::text[])::text, '|' ORDER BY t.{pk}), '')) FROM {table} t{where}"
        )
        params += [label, sorted(SNAPSHOT_SKIP_COLUMNS.get(label, ())), *where_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {label: (count, digest) for label, count, digest in cursor.fetchall()}


def snapshot_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The models whose rows differ, with a short description of the difference."""
    changed = []
    for label, rows in before.items():
        now = after.get(label, [])
        if not isinstance(rows, list):
            if now != rows:
                changed.append(f"{label}: was {rows}, now {now}")
            continue
        if now != rows:
            gone = [r for r in rows if r not in now][:3]
            new = [r for r in now if r not in rows][:3]
            changed.append(f"{label}: was {gone}, now {new}")
    return changed
