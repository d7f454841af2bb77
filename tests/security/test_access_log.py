"""The access log: who opened a case, downloaded its documents or exported it, when, from where.

Each such request leaves one `CaseEvent` of kind `access` (actor, moment, what, `data.ip`). The
address is `REMOTE_ADDR`, and `X-Forwarded-For` only when the request came from a proxy listed
in `TRUSTED_PROXIES` (anyone can send the header; only our proxy's word counts): then the
right-most hop that is not a trusted proxy (django-ipware, accounts.addresses). The log is
shown on the case page to decision-makers and administrators, never to caseworkers, and never
on the main timeline.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent

from .conftest import World
from .test_url_matrix import targets

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)
OFFICE = "198.51.100.7"
PROXY = "10.0.0.1"
OUTSIDE = "203.0.113.9"

# Views that hand out a case or its documents: each must be on the access log. Matched by URL
# name, so an export or download URL added later is held to the same rule.
LOGGED = re.compile(
    r"^cases:detail$|^cases:document$|export|download|^admin:cases_application_change$"
)


def access_events(world: World):
    return CaseEvent.objects.filter(application=world.case, kind=CaseEvent.Kind.ACCESS)


def signed_in(user, **defaults) -> Client:
    client = Client(**defaults)
    client.force_login(user)
    return client


def newest_access(world: World) -> CaseEvent:
    return access_events(world).order_by("-pk").first()


def test_opening_a_case_records_who_when_what_and_the_address(world):
    client = signed_in(world.users["dora"], REMOTE_ADDR=OFFICE)
    before = access_events(world).count()
    with time_machine.travel(MOMENT, tick=False):
        response = client.get(reverse("cases:detail", args=[world.case.pk]))
    assert response.status_code == 200
    assert access_events(world).count() == before + 1
    event = newest_access(world)
    assert event.actor == world.users["dora"]
    assert event.at == MOMENT
    assert event.action == "case"
    assert event.data["ip"] == OFFICE


def test_downloading_a_document_records_which_document(world):
    document = world.case.documents.get()
    client = signed_in(world.users["alice"], REMOTE_ADDR=OFFICE)
    with time_machine.travel(MOMENT, tick=False):
        response = client.get(reverse("cases:document", args=[world.case.pk, document.pk]))
        b"".join(response.streaming_content)
    assert response.status_code == 200
    event = newest_access(world)
    assert (event.actor, event.at, event.action) == (world.users["alice"], MOMENT, "document")
    assert event.data == {"ip": OFFICE, "document": document.pk}


def test_every_view_that_hands_out_a_case_is_logged(world):
    """Every URL of the project whose name says it shows, downloads or exports a case."""
    client = signed_in(world.users["root"], REMOTE_ADDR=OFFICE)
    checked = []
    for target in targets(world):
        if not (target.real and target.route.name and LOGGED.search(target.route.name)):
            continue
        before = access_events(world).count()
        response = client.get(target.url)
        assert response.status_code == 200, target.url
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        assert access_events(world).count() == before + 1, f"{target.url} is not logged"
        event = newest_access(world)
        assert event.actor == world.users["root"]
        assert event.data["ip"] == OFFICE
        checked.append(target.route.name)
    assert {"cases:detail", "cases:document", "admin:cases_application_change"} <= set(checked)


def test_refused_and_unsigned_requests_log_nothing(world):
    before = access_events(world).count()
    url = reverse("cases:detail", args=[world.case.pk])
    Client().get(url)
    signed_in(world.users["oscar"]).get(url)
    signed_in(world.users["nobody"]).get(url)
    assert access_events(world).count() == before


@pytest.mark.parametrize(
    ("remote", "forwarded", "logged"),
    [
        (OFFICE, "", OFFICE),
        # Anyone can send the header: from an address that is not our proxy it is ignored.
        (OFFICE, OUTSIDE, OFFICE),
        (OFFICE, f"{OUTSIDE}, {PROXY}", OFFICE),
        # From our proxy, the hop it received the request from is the client.
        (PROXY, OUTSIDE, OUTSIDE),
        (PROXY, "2001:db8::1", "2001:db8::1"),
        # The right-most hop that is not ours: whatever the client wrote left of it is forged.
        (PROXY, f"{OUTSIDE}, 192.0.2.50", "192.0.2.50"),
        (PROXY, f"192.0.2.50, {OUTSIDE}", OUTSIDE),
        (PROXY, f"not-an-address, {OUTSIDE}", OUTSIDE),
        (PROXY, f"{OUTSIDE}, {PROXY}", OUTSIDE),
        # A header that is not an address is not believed, even from our proxy.
        (PROXY, "<script>marker</script>", PROXY),
        (PROXY, "not-an-address", PROXY),
        (PROXY, f"{OUTSIDE}, not-an-address", PROXY),
        (PROXY, "", PROXY),
    ],
)
def test_the_address_is_remote_addr_or_forwarded_for_from_a_trusted_proxy(
    world, settings, remote, forwarded, logged
):
    settings.TRUSTED_PROXIES = [PROXY]
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client = signed_in(world.users["alice"], **extra)
    assert client.get(reverse("cases:detail", args=[world.case.pk])).status_code == 200
    assert newest_access(world).data["ip"] == logged


@pytest.mark.parametrize(
    ("proxies", "believed"),
    [([f"{PROXY}/24"], True), (["2001:db8::/32", f"{PROXY}/32"], True), (["10.99.0.0/16"], False)],
)
def test_trusted_proxies_may_be_networks(world, settings, proxies, believed):
    settings.TRUSTED_PROXIES = proxies
    client = signed_in(world.users["alice"], REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OUTSIDE)
    client.get(reverse("cases:detail", args=[world.case.pk]))
    assert newest_access(world).data["ip"] == (OUTSIDE if believed else PROXY)


def test_every_layer_of_trusted_proxies_is_skipped(world, settings):
    """Two layers of our proxies (a load balancer, then nginx) in one trusted network: the
    client is the hop left of both, and a forged hop left of the client changes nothing."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    client = signed_in(
        world.users["alice"],
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"192.0.2.66, {OUTSIDE}, 10.0.0.7",
    )
    client.get(reverse("cases:detail", args=[world.case.pk]))
    assert newest_access(world).data["ip"] == OUTSIDE


def test_a_malformed_trusted_proxy_stops_the_start_with_its_name():
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.1,proxy.local", "DEBUG": "true"}
    env.pop("PYTEST_VERSION", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "haven.settings", "HAVEN_IGNORE_DOTENV": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.local' is not an address or a network" in result.stderr


def test_without_trusted_proxies_forwarded_for_is_never_used(world, settings):
    settings.TRUSTED_PROXIES = []
    client = signed_in(world.users["alice"], REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OUTSIDE)
    client.get(reverse("cases:detail", args=[world.case.pk]))
    assert newest_access(world).data["ip"] == PROXY


@pytest.mark.parametrize(
    ("persona", "shown"), [("alice", False), ("dora", True), ("adam", True), ("root", True)]
)
def test_the_access_log_is_shown_to_decision_makers_and_administrators_only(world, persona, shown):
    signed_in(world.users["oscar"]).get(reverse("cases:detail", args=[world.case.pk]))
    reader = signed_in(world.users["alice"], REMOTE_ADDR=OFFICE)
    reader.get(reverse("cases:detail", args=[world.case.pk]))
    response = signed_in(world.users[persona], REMOTE_ADDR="192.0.2.99").get(
        reverse("cases:detail", args=[world.case.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert ('id="access-log"' in html) is shown
    assert (OFFICE in html) is shown  # the address of alice's earlier view
    if shown:
        assert "Viewed the case" in html
        assert [row["ip"] for row in response.context["access_log"]][:2] == ["192.0.2.99", OFFICE]
    else:
        assert response.context["access_log"] is None


def test_views_and_downloads_stay_off_the_main_timeline(world):
    document = world.case.documents.get()
    client = signed_in(world.users["dora"], REMOTE_ADDR=OFFICE)
    for _ in range(3):
        client.get(reverse("cases:detail", args=[world.case.pk]))
        b"".join(
            client.get(
                reverse("cases:document", args=[world.case.pk, document.pk])
            ).streaming_content
        )
    response = client.get(reverse("cases:detail", args=[world.case.pk]))
    # Haven's own rows (deadlines) sit under the action that caused them: count them all.
    timeline = [row for top in response.context["timeline"] for row in (top, *top["system_rows"])]
    assert timeline, "the case has a timeline"
    assert all(row["kind"] != CaseEvent.Kind.ACCESS for row in timeline)
    non_access = CaseEvent.objects.filter(application=world.case).exclude(kind="access").count()
    assert len(timeline) == non_access
    assert len(response.context["access_log"]) == access_events(world).count()
    assert timezone.is_aware(response.context["access_log"][0]["at"])


def test_a_staff_caseworker_does_not_read_the_access_log_in_the_admin(world):
    """The admin's event list is the same record: a caseworker who is also staff sees the
    case's timeline there, but not who viewed it."""
    alice = world.users["alice"]
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    signed_in(world.users["dora"], REMOTE_ADDR=OFFICE).get(
        reverse("cases:detail", args=[world.case.pk])
    )
    viewed = newest_access(world)
    client = signed_in(alice)
    listing = client.get(reverse("admin:cases_caseevent_changelist"), {"kind__exact": "access"})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    page = client.get(reverse("admin:cases_caseevent_change", args=[viewed.pk]))
    assert page.status_code == 302  # as for a missing event
    everything = client.get(reverse("admin:cases_caseevent_changelist"))
    assert everything.context["cl"].result_count > 0  # the rest of the timeline is there
    dora = world.users["dora"]
    dora.is_staff = True
    dora.save(update_fields=["is_staff"])
    listing = signed_in(dora).get(
        reverse("admin:cases_caseevent_changelist"), {"kind__exact": "access"}
    )
    assert listing.context["cl"].result_count >= 1
