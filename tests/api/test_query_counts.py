"""The API's case list and case detail cost the same number of queries whatever the
amount of data, in every sort order and on any page (as the pages do: tests/bench)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import workflow
from cases.filters import SORT_ORDERS
from tests.conftest import submit

from .conftest import Api, token_for


def queries(api: Api, url: str, params=None) -> tuple[int, dict]:
    assert api.get(url, params).status_code == 200  # per-process caches warmed
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()


def more_cases(alice, dora, n: int) -> None:
    for i in range(n):
        case = submit(alice, family_name=f"Name{i:03d}")
        if i % 2:
            workflow.assign(case, actor=dora, assignee=alice)


@pytest.mark.parametrize("sort", list(SORT_ORDERS))
def test_the_case_list_s_queries_do_not_grow_with_cases_or_pages(alice, dora, sort):
    api = Api(token_for(alice))
    url = reverse("api:cases")
    more_cases(alice, dora, 3)
    small, _page = queries(api, url, {"sort": sort, "page_size": 2})
    more_cases(alice, dora, 12)
    larger, page = queries(api, url, {"sort": sort, "page_size": 2})
    deeper, _page = queries(api, page["next"])
    assert small == larger == deeper


def test_the_case_s_queries_do_not_grow_with_its_timeline(alice, case):
    api = Api(token_for(alice))
    url = reverse("api:case", args=[case.pk])
    short, _case = queries(api, url)
    for n in range(20):
        workflow.add_note(case.pk, actor=alice, text=f"Follow-up {n}")
    assert queries(api, url)[0] == short
