"""Smoke test of the embedded default (SQLite, tasks in-process), as `make run` sets it up.

Run by .ci/run after `migrate`, `import_seed` and `create_demo_users` on a throw-away SQLite
database: a signed-in superuser gets 200 from the admin index, the application list and the
sample case's pages, and each demo user from the caseworker UI's main pages.
"""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
django.setup()

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import User  # noqa: E402
from cases.models import Application  # noqa: E402
from cases.seeding import find_imported  # noqa: E402

failures: list[str] = []


def check(client: Client, url: str, who: str) -> None:
    response = client.get(url, HTTP_HOST="localhost")
    status = response.status_code
    print(f"{status}  {who:<14} {url}")
    if status != 200:
        failures.append(f"{who} {url} -> {status}")


case = find_imported("korolev-2023")
if case is None or case.status != "detention":
    sys.exit("The sample case was not imported in state 'detention'.")

root, _ = User.objects.get_or_create(username="smoke-root", defaults={"is_staff": True})
root.is_superuser = root.is_staff = True
root.save()
client = Client(raise_request_exception=False)
client.force_login(root)
for url in (
    reverse("admin:index"),
    reverse("admin:cases_application_changelist"),
    reverse("admin:cases_application_change", args=[case.pk]),
    reverse("admin:cases_caseevent_changelist") + f"?application__id__exact={case.pk}",
):
    check(client, url, "superuser")

# A write through the admin: POSTs must work on SQLite too (no PostgreSQL-only SQL on the way).
response = client.post(
    reverse("admin:cases_facility_add"),
    {"name": "Smoke-test centre", "code": "smoke-test", "kind": "reception", "capacity": "5"},
    HTTP_HOST="localhost",
)
print(f"{response.status_code}  superuser      POST {reverse('admin:cases_facility_add')}")
if response.status_code != 302:
    failures.append(f"superuser POST admin facility add -> {response.status_code}")

ui_pages = []
for name, args in (
    ("cases:dashboard", []),
    ("cases:list", []),
    ("cases:detail", [case.pk]),
    ("cases:facilities", []),
    ("cases:intake", []),
):
    ui_pages.append(reverse(name, args=args))
for username in ("caseworker", "decider"):
    user = User.objects.get(username=username)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    for url in ui_pages:
        check(client, url, username)
    search = reverse("cases:list") + "?q=Королёв"
    response = client.get(search, HTTP_HOST="localhost")
    if case.reference not in response.content.decode():
        failures.append(f"{username}: searching Королёв does not find {case.reference}")
    # Counts and the nationality filter, which PostgreSQL keeps by triggers, are taken from
    # the rows here.
    response = client.get(reverse("cases:list") + "?nationality=RU", HTTP_HOST="localhost")
    if case.reference not in response.content.decode():
        failures.append(f"{username}: the nationality filter RU does not find {case.reference}")
    dashboard = client.get(reverse("cases:dashboard"), HTTP_HOST="localhost").content.decode()
    if f'?status={case.status}">1</a>' not in dashboard:
        failures.append(f"{username}: the dashboard does not count the case by its status")
    page = " ".join(
        client.get(reverse("cases:facilities"), HTTP_HOST="localhost").content.decode().split()
    )
    if "<strong>1</strong> taken" not in page:
        failures.append(f"{username}: the facilities page does not count the placed applicant")

# The reports, from the rows `rebuild_report_rows` wrote on SQLite, as the decision-maker.
decider = Client(raise_request_exception=False)
decider.force_login(User.objects.get(username="decider"))
for slug in ("backlog", "workload"):
    url = reverse("reports:report", args=[slug]) + "?start=2023-01-01"
    check(decider, url, "decider")
    check(decider, reverse("reports:chart", args=[slug]) + "?start=2023-01-01", "decider")

print(f"{Application.objects.count()} case(s) in the embedded database.")
if failures:
    sys.exit("Smoke test failed:\n  " + "\n  ".join(failures))
print("Smoke test of the embedded default passed.")
