"""One door to a case: every URL of the project, asked by every persona.

The URLs come from the URL configuration itself (`get_resolver()`, walked recursively, the
admin's URLs included), so a URL added tomorrow is asked too. Each URL parameter is filled
with the id of something of unit A (the case, its document, note, deadline, event, placement,
reminder, notification, the unit's user...); a parameter this file does not know how to fill
fails the test, unless it is in `SKIPPED_PARAMS`, which is short and says why.

Each persona sends a GET and a POST with an empty body to every URL (the test client skips
the CSRF check, which is what a valid token gets); outsiders also send a POST with a body of
plausible field values, the strongest thing a forged form could carry. Then:

- anonymous visitors are sent to a sign-in page from every URL that is not public;
- oscar (caseworker of unit B), olga (staff caseworker of unit B) and a user without a role
  get nothing of unit A: never its applicant's names (Latin or Cyrillic), its reference, its
  note or document name, not even in a title, an error or a redirect; every row of unit A is
  the same before and after all their requests (no change, and no access log entry either);
- every URL naming a row of unit A answers them exactly as it answers for a missing row: in
  the caseworker UI 404, in the admin Django's "does not exist" redirect (or the 403 that a
  missing row gets too, where the role may not see or change such rows at all); the admin's
  autocomplete, asked for every foreign key, searches only their own rows;
- the people who may see the case do get it (a positive control: the ids are real), and
  every page they get works under the Content Security Policy (no inline script or style);
- nobody, for any URL and method, gets a 500.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from cases import forms, workflow
from cases.models import Application, CaseEvent, Notification
from reports.figures import REPORTS
from reports.views import CHARTS

from .conftest import FAMILY, World, snapshot, snapshot_diff

pytestmark = pytest.mark.django_db

# ------------------------------------------------------------------------------------------
# The URLs, from the URL configuration
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    """One URL pattern, with the patterns of the resolvers above it."""

    patterns: tuple[Any, ...]
    callback: Callable
    name: str | None  # "namespace:name", or None for an unnamed pattern

    @property
    def text(self) -> str:
        return "".join(str(p) for p in self.patterns)

    @property
    def params(self) -> list[str]:
        names: list[str] = []
        for pattern in self.patterns:
            if isinstance(pattern, RoutePattern):
                names += list(pattern.converters)
            elif isinstance(pattern, RegexPattern):
                names += list(pattern.regex.groupindex)
        return names

    @property
    def model_admin(self) -> ModelAdmin | None:
        """The ModelAdmin serving this URL (Django tags its views; django-fsm-2 and the user
        admin wrap bound methods)."""
        found = getattr(self.callback, "model_admin", None)
        if found is None:
            bound = getattr(self.callback, "__wrapped__", None)
            found = getattr(bound, "__self__", None)
        return found if isinstance(found, ModelAdmin) else None

    def path(self, values: dict[str, str]) -> str:
        """The URL path with `values` put in place of the parameters."""
        parts = []
        for pattern in self.patterns:
            text = str(pattern)
            if isinstance(pattern, RoutePattern):
                text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], text)
            else:
                text = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", lambda m: values[m[1]], text)
                text = text.removeprefix("^").removesuffix("$")
            parts.append(text)
        return "/" + "".join(parts)


def all_routes() -> list[Route]:
    def walk(resolver: URLResolver, above: tuple, namespace: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(p for p in (namespace, entry.namespace or "") if p)
                yield from walk(entry, (*above, entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                yield Route((*above, entry.pattern), entry.callback, name)

    # The REST API answers token holders only (a session gets 401 JSON there, not a
    # sign-in page): its URL-by-persona matrix is tests/api/test_endpoints.py.
    return [r for r in walk(get_resolver(), (), "") if not r.text.startswith("api/v1/")]


# ------------------------------------------------------------------------------------------
# Filling the parameters with unit A's ids
# ------------------------------------------------------------------------------------------

# A filled value is (value, real): `real` values name something that exists, so the people who
# may see unit A's case must get it; probe values (an unknown step name) must answer 404.
Value = tuple[str, bool]

# Parameters this file cannot fill, with the reason. Keep this short: an unknown parameter
# fails `test_every_url_parameter_is_filled` until it is filled or listed here.
SKIPPED_PARAMS: dict[tuple[str | None, str], str] = {}


def _case_url_values(route: Route, param: str, world: World) -> list[Value] | None:
    """Parameters of the caseworker UI (`cases:` namespace)."""
    case = world.case
    if param == "pk" and route.text.startswith("cases/<int:pk>/"):
        return [(str(case.pk), True)]
    if param == "document_pk":
        return [(str(case.documents.get().pk), True)]
    if param == "deadline_pk":
        return [(str(world.objects[type(case.deadlines.first())].pk), True)]
    if param == "name" and route.name == "cases:transition":
        return [(n, True) for n in workflow.TRANSITIONS] + [("no-such-step", False)]
    if param == "name" and route.name == "cases:action":
        return [(n, True) for n in forms.ACTION_FORMS] + [("no-such-record", False)]
    if param == "name" and route.name == "reports:chart":
        return [(n, True) for n in CHARTS] + [("no-such-chart", False)]
    if param == "slug" and route.name == "reports:report":
        return [(n, True) for n in REPORTS] + [("no-such-report", False)]
    return None


def _admin_url_values(route: Route, param: str, world: World) -> list[Value] | None:
    """Parameters of the admin: object ids of the ModelAdmin's model, transitions, apps."""
    model_admin = route.model_admin
    if param in ("object_id", "id") and model_admin is not None:
        obj = world.objects.get(model_admin.model)
        if obj is None:
            pytest.fail(
                f"{route.text}: no unit A object of {model_admin.model._meta.label}; "
                "add one to the `world` fixture in tests/security/conftest.py"
            )
        return [(str(obj.pk), True)]
    if param == "transition_name":
        return [(n, True) for n in workflow.TRANSITIONS] + [("no-such-step", False)]
    if param == "app_label":
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [(label, True) for label in labels]
    if param == "url" and route.name is None:  # the admin's catch-all
        return [("no-such-page/", False)]
    return None


def route_values(route: Route, world: World) -> list[tuple[dict[str, str], bool]] | None:
    """Every combination of values for the route's parameters, with whether it is real.

    None when a parameter cannot be filled (the caller reports it)."""
    if route.name == "admin:view_on_site":
        combos = []
        for model in (Application, type(world.case.applicant), CaseEvent):
            ct = ContentType.objects.get_for_model(model)
            combos.append(
                ({"content_type_id": str(ct.pk), "object_id": str(world.objects[model].pk)}, True)
            )
        return combos
    per_param: list[list[tuple[str, str, bool]]] = []
    for param in route.params:
        values = _case_url_values(route, param, world) or _admin_url_values(route, param, world)
        if values is None:
            if (route.name, param) in SKIPPED_PARAMS:
                return []
            return None
        per_param.append([(param, value, real) for value, real in values])
    return [
        ({param: value for param, value, _real in combo}, all(real for *_x, real in combo))
        for combo in itertools.product(*per_param)
    ]


@dataclasses.dataclass(frozen=True)
class Target:
    route: Route
    url: str
    real: bool  # False for probe values (an unknown step)
    missing_url: str  # the same URL naming objects that do not exist

    @property
    def is_admin(self) -> bool:
        return self.url.startswith("/admin/")

    @property
    def model(self):
        model_admin = self.route.model_admin
        return model_admin.model if model_admin else None

    @property
    def has_object(self) -> bool:
        """Whether the URL names a unit A object (a case, or a row of the admin). The admin's
        unnamed `<object_id>/` URLs only redirect to the change page, whatever the id."""
        return self.route.name is not None and bool(OBJECT_PARAMS & set(self.route.params))


OBJECT_PARAMS = {"pk", "document_pk", "deadline_pk", "object_id", "id"}
MISSING_ID = "987654321"


def targets(world: World) -> list[Target]:
    found = []
    for route in all_routes():
        combos = route_values(route, world)
        assert combos is not None, f"cannot fill the parameters of {route.text}"
        for values, real in combos:
            url = route.path(values)
            match = resolve(url)
            assert match.func is route.callback, f"{url} resolves to {match.route}"
            missing = route.path(
                {k: MISSING_ID if k in OBJECT_PARAMS else v for k, v in values.items()}
            )
            found.append(Target(route, url, real, missing))
            if route.name == "admin:autocomplete":
                found += [Target(route, f"{url}?{query}", True, url) for query in autocompletes()]
    return found


def autocompletes() -> list[str]:
    """The admin's autocomplete asked, for every foreign key between admin models, for the
    rows matching a piece of unit A's applicant's name: it must search the scoped rows."""
    queries = []
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            remote = getattr(field, "related_model", None)
            if not (field.is_relation and field.concrete and remote in admin.site._registry):
                continue
            queries.append(
                urlencode(
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field.name,
                        "term": FAMILY[:3],
                    }
                )
            )
    return queries


# ------------------------------------------------------------------------------------------
# Asking
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    target: Target
    method: str
    body: str  # "empty" or the name of a forged body
    status: int
    location: str
    content: bytes
    error: str
    missing: tuple[int, str] | None = None  # the answer for a missing object: status, Location

    def same_as_missing(self) -> bool:
        """Whether this answer is the one a missing object gets (ids in a redirect aside)."""
        if self.missing is None:
            return True

        def plain(location: str, url: str) -> str:
            return location.replace(quote(url, safe=""), "URL").replace(url, "URL")

        status, location = self.missing
        return (self.status, plain(self.location, self.target.url)) == (
            status,
            plain(location, self.target.missing_url),
        )

    def __str__(self) -> str:
        return f"{self.method} {self.target.url} ({self.body}) -> {self.status} {self.location}"


def _forged_bodies(target: Target, world: World) -> dict[str, dict[str, Any]]:
    """Bodies a forged form could carry: plausible values for every field of Haven's forms
    and the admin's confirmations, aimed at unit A's case."""
    case = world.case
    oscar = world.users["oscar"]
    base = {
        "expected_status": case.status,
        "reason": "Forged",
        "text": "Forged note",
        "assignee": str(oscar.pk),
        "cases": str(case.pk),
        "kind": "explicit",
        "outcome": "rejected",
        "decided_on": "2024-01-10",
        "served_on": "2024-01-12",
        "interviewed_on": "2023-09-02",
        "waiver_reason": "Forged",
        "facility": str(world.objects[type(case.placements.first().facility)].pk),
        "legal_basis": "Forged",
        "order_reference": "F-1",
        "court": "Forged court",
        "case_number": "F-1",
        "order_on": "2023-08-12",
        "until": "2023-12-01",
        "judgment_on": "2024-06-01",
        "judgment_final_on": "2024-06-01",
        "lodged_on": "2024-01-20",
        "description": "Forged",
        "notification": str(world.objects[Notification].pk),
        "procedure": "regular",
        "applicant": str(case.applicant.pk),
        "family_name": "Forged",
        "submitted_on": "2023-08-11",
        "applicant_choice": str(case.applicant.pk),
        "post": "yes",
        "_save": "Save",
    }
    bodies = {"forged": base}
    model_admin = target.route.model_admin
    if target.is_admin and model_admin is not None and target.model in world.objects:
        # Changelist actions, aimed at unit A's row (the admin's bulk actions).
        names = [a if isinstance(a, str) else a.__name__ for a in (model_admin.actions or ())]
        for name in [*names, "delete_selected"]:
            bodies[f"action {name}"] = {
                **base,
                "action": name,
                "_selected_action": str(world.objects[target.model].pk),
                "index": "0",
            }
    return bodies


class RecordingClient(Client):
    """The test client, answering 500s instead of raising, so that every URL is asked."""

    def __init__(self) -> None:
        super().__init__(raise_request_exception=False)


def _ask(client: Client, url: str, data: dict[str, Any] | None) -> tuple[int, str, bytes, str]:
    response = client.get(url) if data is None else client.post(url, data)
    error = repr(response.exc_info[1]) if getattr(response, "exc_info", None) else ""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return response.status_code, response.get("Location", ""), content, error


def ask_everything(
    client: Client,
    world: World,
    *,
    forged: bool,
    relogin: Callable[[], None] | None,
    compare_missing: bool = False,
) -> list[Answer]:
    """Every target, with a GET, an empty POST and (`forged`) the forged bodies. With
    `compare_missing`, each URL naming a unit A object is asked again naming a missing one."""
    answers = []
    for target in targets(world):
        bodies: dict[str, dict[str, Any] | None] = {"get": None, "empty": {}}
        if forged:
            bodies.update(_forged_bodies(target, world))
        for body_name, data in bodies.items():
            method = "GET" if data is None else "POST"
            answer = Answer(target, method, body_name, *_ask(client, target.url, data))
            if (
                compare_missing
                and target.has_object
                and target.real
                and (
                    not target.is_admin
                    or target.model in world.scoped_models
                    or target.route.name == "admin:view_on_site"
                )
            ):
                answer.missing = _ask(client, target.missing_url, data)[:2]
            answers.append(answer)
            session = client.cookies.get(settings.SESSION_COOKIE_NAME)
            if relogin is not None and (session is None or not session.value):
                relogin()  # a POST to a sign-out URL ended the session
    return answers


def signed_in(user) -> tuple[Client, Callable[[], None]]:
    client = RecordingClient()

    def login() -> None:
        client.force_login(user)

    login()
    return client, login


# A load balancer's health check answers 503 by design when a dependency is down (here no
# worker or beat runs): that names the failing check; it is not a crash (tests/ops).
DESIGNED_503 = {"health"}


def no_500s(answers: list[Answer]) -> list[str]:
    return [
        f"{a}: {a.error}"
        for a in answers
        if a.status >= 500 and not (a.status == 503 and a.target.route.name in DESIGNED_503)
    ]


def leaks(answers: list[Answer], world: World) -> list[str]:
    found = []
    for a in answers:
        hits = world.leaks(a.content) + world.leaks(a.location.encode())
        if hits:
            found.append(f"{a}: shows {hits}")
    return found


# What the Content Security Policy (script and style from Haven's own files only) would block.
# A JSON data block (`<script type="application/json">`, json_script: the passkey script's
# settings) is not executed by the browser, and the policy does not apply to it.
INLINE_CODE = re.compile(
    rb"<script(?![^>]*\s(?:src=|type=\"application/json\"))[^>]*>|<style[\s>]"
    rb"|<[^>]+\sstyle\s*=|<[^>]+\son[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)


def inline_code(answers: list[Answer]) -> list[str]:
    found = []
    for a in answers:
        if b"<html" in a.content[:500].lower() and (hit := INLINE_CODE.search(a.content)):
            found.append(f"{a}: {hit.group(0)[:80]!r}")
    return found


LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
# Pages that answer without a session: the sign-in pages and the sign-out actions.
# set_language (the header's language switch) only sets this browser's language cookie (and,
# for a signed-in user, the account's language): open to everyone, like the sign-in page.
PUBLIC = {"accounts:login", "accounts:logout", "admin:login", "admin:logout", "set_language"}
# Endpoints for machines, not people: the load balancer's health check (no personal data; 503
# names what fails) and the Prometheus scrape (404 unless from METRICS_ALLOWED or with the
# token). Neither sends anyone to a sign-in page. Their own tests are in tests/ops.
MACHINE_ENDPOINTS = {"health": (200, 405, 503), "metrics": (404, 405)}


# ------------------------------------------------------------------------------------------
# The tests
# ------------------------------------------------------------------------------------------


def test_every_url_parameter_is_filled(world):
    routes = all_routes()
    assert len(routes) > 100, "the walk must include the admin's URLs"
    unknown = [
        (route.text, param)
        for route in routes
        if route_values(route, world) is None
        for param in route.params
    ]
    assert not unknown, f"URL parameters this test cannot fill: {unknown}"
    assert len(SKIPPED_PARAMS) <= 3, "the skip list must stay short and explicit"
    used = {(r.name, p) for r in routes for p in r.params}
    assert set(SKIPPED_PARAMS) <= used, "remove skip-list entries for URLs that are gone"
    urls = [t.url for t in targets(world)]
    for name in ("cases:detail", "cases:document", "admin:cases_application_change"):
        assert any(resolve(u).view_name == name for u in urls), name


def test_anonymous_visitors_are_sent_to_sign_in_from_every_private_url(world):
    client = RecordingClient()
    answers = ask_everything(client, world, forged=False, relogin=None)
    wrong = []
    for a in answers:
        if a.target.route.name in MACHINE_ENDPOINTS:
            if a.status not in MACHINE_ENDPOINTS[a.target.route.name]:
                wrong.append(str(a))
        elif a.target.route.name in PUBLIC:
            if a.status not in (200, 302, 405):
                wrong.append(str(a))
        elif a.status != 302 or not a.location.startswith(LOGIN_PAGES):
            wrong.append(str(a))
    assert not no_500s(answers)
    assert not wrong, "\n".join(wrong)
    assert not leaks(answers, world)


@pytest.mark.parametrize("persona", ["oscar", "olga", "nobody"])
def test_outsiders_get_nothing_of_another_units_case(world, persona):
    user = world.users[persona]
    client, login = signed_in(user)
    before = snapshot()
    answers = ask_everything(client, world, forged=True, relogin=login, compare_missing=True)
    after = snapshot()

    assert not no_500s(answers), "\n".join(no_500s(answers))
    assert not leaks(answers, world), "\n".join(leaks(answers, world))
    # Whatever they sent, nothing of unit A changed, and no view of it was logged.
    assert not snapshot_diff(before, after), snapshot_diff(before, after)

    # Unit A's objects answer exactly as missing ones do: the caseworker UI with 404 (405
    # for a wrong method, whatever the case), the admin with its "does not exist" redirect
    # (or 403 where the role may not see such rows, or a page may never change them).
    wrong = [f"{a}; a missing one: {a.missing}" for a in answers if not a.same_as_missing()]
    wrong += [
        str(a)
        for a in answers
        if a.target.has_object and not a.target.is_admin and a.status not in (404, 405)
    ]
    if not user.is_staff:
        wrong += [
            str(a)
            for a in answers
            if a.target.is_admin
            and a.target.route.name not in PUBLIC
            and not (a.status == 302 and a.location.startswith("/admin/login/"))
        ]
    assert not wrong, "\n".join(wrong)


def test_staff_of_another_unit_get_the_does_not_exist_redirect(client, world):
    client.force_login(world.users["olga"])
    url = reverse("admin:cases_application_change", args=[world.case.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(reverse("admin:index"), 302)]
    text = response.content.decode()
    assert "doesn’t exist" in text
    missing = client.get(reverse("admin:cases_application_change", args=[10**9]), follow=True)
    assert missing.redirect_chain == response.redirect_chain


@pytest.mark.parametrize("persona", ["alice", "dora", "adam", "root"])
def test_people_who_may_see_the_case_get_it_and_nobody_gets_a_500(world, persona):
    user = world.users[persona]
    client, login = signed_in(user)
    events = CaseEvent.objects.filter(application=world.case).exclude(kind=CaseEvent.Kind.ACCESS)
    recorded = list(events.values_list("pk", flat=True))
    answers = ask_everything(client, world, forged=False, relogin=login)
    assert not no_500s(answers), "\n".join(no_500s(answers))
    # Every page works under the Content Security Policy: no inline script, style or handler.
    assert not inline_code(answers), "\n".join(inline_code(answers))

    # Positive control: the filled ids are real, so the matrix's 404s mean something.
    missing = []
    admin_index = reverse("admin:index")
    for a in answers:
        if a.method != "GET" or not a.target.real or not a.target.has_object:
            continue
        if a.target.route.name == "admin:view_on_site":
            continue  # no model has get_absolute_url: 404 for everyone
        if a.target.model is Notification and not user.is_superuser:
            continue  # a notification is its recipient's alone (alice's here)
        if a.target.is_admin and not user.is_staff:
            continue
        if a.status == 404 or (a.status == 302 and a.location == admin_index):
            missing.append(str(a))
    assert not missing, "\n".join(missing)

    case = Application.objects.get(pk=world.case.pk)
    assert case.status == world.case.status, "an empty POST changed the case"
    events = CaseEvent.objects.filter(application=case).exclude(kind=CaseEvent.Kind.ACCESS)
    new = [(e.action, e.data) for e in events.exclude(pk__in=recorded)]
    # No empty POST acts (the assignment form answers 400 without its field, where "" is its
    # explicit "Nobody" choice).
    assert new == [], new


def test_the_access_log_is_not_touched_by_outsiders_but_is_by_readers(world):
    """A reader's view is logged once per page; an outsider's refused request not at all."""
    outsider, _login = signed_in(world.users["oscar"])
    before = CaseEvent.objects.filter(application=world.case, kind="access").count()
    outsider.get(reverse("cases:detail", args=[world.case.pk]))
    assert CaseEvent.objects.filter(application=world.case, kind="access").count() == before
    reader, _login = signed_in(world.users["dora"])
    reader.get(reverse("cases:detail", args=[world.case.pk]))
    assert CaseEvent.objects.filter(application=world.case, kind="access").count() == before + 1
