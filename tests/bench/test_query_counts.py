"""Every page costs the same number of queries whatever the amount of data.

The benchmark (`make bench`) measures time at 100,000 cases; these tests pin the property
that makes time flat: a page's query count does not grow with the number of cases, the page
number, or the length of a case's timeline. Data comes from the synthetic generator: a small
set, then more cases added to the same units and staff.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from accounts.models import User
from cases import workflow
from cases.models import Applicant, Application, CaseEvent, Status
from loadgen.loader import generate
from loadgen.story import LONG_CASE_EVENTS
from loadgen.world import UNITS

pytestmark = pytest.mark.django_db

SMALL = 30
LARGER = 170  # added to the small set: the largest unit then has about 100 cases (4 pages)


def queries(client, url: str) -> int:
    """Queries of one request, after a first request has warmed per-process caches."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.fixture
def world(client):
    """The small data set, a signed-in caseworker of the largest unit, and names to search."""
    report = generate(SMALL, seed=11)
    caseworker = (
        User.objects.filter(unit__name=UNITS[0][0], groups__name=roles.CASEWORKER)
        .order_by("pk")
        .first()
    )
    client.force_login(caseworker)
    person = (
        Applicant.objects.filter(applications__unit_id=caseworker.unit_id)
        .exclude(name_original="")
        .order_by("pk")
        .first()
    )
    return {"report": report, "caseworker": caseworker, "person": person}


def grow() -> None:
    generate(LARGER, seed=12)


def _list(**params: str) -> str:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return f"{reverse('cases:list')}?{query}" if query else reverse("cases:list")


def test_dashboard_queries_do_not_grow_with_cases(client, world):
    url = reverse("cases:dashboard")
    small = queries(client, url)
    grow()
    assert queries(client, url) == small


@pytest.mark.parametrize(
    "params",
    [{}, {"status": Status.EXAMINATION}, {"sort": "deadline"}, {"sort": "name"}],
    ids=["first-page", "filtered", "sorted-by-deadline", "sorted-by-name"],
)
def test_case_list_queries_do_not_grow_with_cases(client, world, params):
    small = queries(client, _list(**params))
    grow()
    assert queries(client, _list(**params)) == small


def test_case_list_queries_do_not_grow_with_the_page_number(client, world):
    grow()
    first = queries(client, _list())
    assert queries(client, _list(page="3")) == first
    assert queries(client, _list(page="3", sort="deadline")) == first


@pytest.mark.parametrize("script", ["latin", "cyrillic", "partial"])
def test_search_queries_do_not_grow_with_cases(client, world, script):
    person = world["person"]
    query = {
        "latin": person.family_name,
        "cyrillic": person.name_original.split()[-1],
        "partial": person.family_name[:4],
    }[script]
    small = queries(client, _list(q=query))
    grow()
    assert queries(client, _list(q=query)) == small


def test_case_page_queries_do_not_grow_with_the_timeline(client, world):
    caseworker = world["caseworker"]
    case = (
        Application.objects.filter(unit_id=caseworker.unit_id, status=Status.EXAMINATION)
        .exclude(pk=world["report"].long_case_id)
        .order_by("pk")
        .first()
    )
    url = reverse("cases:detail", args=[case.pk])
    short = queries(client, url)
    for n in range(40):
        workflow.add_note(case.pk, actor=caseworker, text=f"Follow-up {n}")
    assert case.events.exclude(kind=CaseEvent.Kind.ACCESS).count() > 45
    assert queries(client, url) == short
    grow()
    assert queries(client, url) == short


def test_the_200_event_case_costs_what_a_short_case_costs(client, world):
    long_case = Application.objects.get(pk=world["report"].long_case_id)
    assert long_case.events.count() >= LONG_CASE_EVENTS
    short = (
        Application.objects.filter(unit_id=long_case.unit_id, status=long_case.status)
        .filter(assigned_to__isnull=long_case.assigned_to_id is None)
        .filter(interviewed_on__isnull=long_case.interviewed_on is None)
        .exclude(pk=long_case.pk)
        .order_by("pk")
        .first()
    )
    if short is None:
        pytest.skip("no case like the long one in this small set")
    assert queries(client, reverse("cases:detail", args=[long_case.pk])) == queries(
        client, reverse("cases:detail", args=[short.pk])
    )


def test_facilities_queries_do_not_grow_with_cases(client, world):
    url = reverse("cases:facilities")
    small = queries(client, url)
    grow()
    assert queries(client, url) == small


@pytest.fixture
def floor_urls(settings):
    """The benchmark's floor page, mounted as bench/run.py mounts it (bench/settings.py)."""
    settings.ROOT_URLCONF = "bench.urls"
    engine = settings.TEMPLATES[0]
    extra = settings.BASE_DIR / "bench" / "templates"
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], extra]}, *settings.TEMPLATES[1:]]
    return "/bench/floor/"


def test_the_floor_page_shows_the_case_lists_first_page(client, world, floor_urls):
    listed = client.get(reverse("cases:list"))
    floor = client.get(floor_urls)
    assert listed.status_code == floor.status_code == 200
    references = [r.reference for r in Application.objects.filter(unit=world["caseworker"].unit)
                  .order_by("-submitted_on", "-id")[:25]]  # fmt: skip
    page = floor.content.decode()
    for reference in references:
        assert reference in listed.content.decode() and reference in page
    small = queries(client, floor_urls)
    grow()
    assert queries(client, floor_urls) == small


def test_the_floor_page_is_not_mounted_by_havens_own_urls(client, world):
    assert client.get("/bench/floor/").status_code == 404


def test_a_name_search_is_not_looked_up_as_a_reference(client, world):
    """A reference carries its year's digits: a name is searched, never first tried as a
    reference of this unit and then of another."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_list(q=world["person"].family_name))
    assert response.status_code == 200
    lookups = [q["sql"] for q in captured.captured_queries if '"reference" = ' in q["sql"]]
    assert lookups == []
    case = Application.objects.filter(unit_id=world["caseworker"].unit_id).first()
    assert client.get(_list(q=case.reference)).url == reverse("cases:detail", args=[case.pk])
