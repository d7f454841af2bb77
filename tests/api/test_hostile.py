"""Hostile bodies and parameters answer 4xx with the JSON error shape, change nothing, and
never 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import CaseEvent, Note

HOSTILE_BODIES = [
    pytest.param(b"{", id="truncated"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-nesting"),
    pytest.param(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="deep-objects"),
    pytest.param(b'{"expected_status": 1' + b"0" * 5000 + b"}", id="huge-number"),
    pytest.param(b'{"expected_status": NaN, "reason": Infinity}', id="nan"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
    pytest.param(b'["submitted"]', id="array"),
    pytest.param(b'"submitted"', id="string"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"expected_status": ["submitted"], "reason": {"a": 1}}', id="wrong-types"),
    pytest.param(b'{"expected_status": true, "reason": false}', id="booleans"),
    pytest.param(b'{"expected_status": "submitted", "reason": "a\\u0000b"}', id="nul-byte"),
    pytest.param(
        b'{"expected_status": "submitted", "reason": "x", "assignee": 1' + b"0" * 40 + b"}",
        id="huge-id",
    ),
    pytest.param(
        b'{"expected_status": "submitted", "reason": "x", "assignee": 1e308}', id="huge-float"
    ),
    pytest.param(
        b'{"expected_status": "submitted", "reason": "' + b"x" * 6000 + b'"}', id="long-reason"
    ),
]


@pytest.mark.parametrize("raw", HOSTILE_BODIES)
def test_a_hostile_transition_body_is_a_json_4xx(api_as, alice, case, raw):
    response = api_as(alice).post(
        reverse("api:case_transition", args=[case.pk, "start_examination"]), raw=raw
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "errors"}
    case.refresh_from_db()
    assert case.status == "submitted"
    assert (
        not CaseEvent.objects.filter(application=case, kind="transition")
        .exclude(action="submit")
        .exists()
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "a\\u0000b"}',
        b'{"text": ["a"]}',
        b'{"text": 1' + b"0" * 5000 + b"}",
        b'{"text": "' + b"x" * 20_001 + b'"}',
    ],
)
def test_a_hostile_note_is_a_json_4xx(api_as, alice, case, raw):
    response = api_as(alice).post(reverse("api:case_notes", args=[case.pk]), raw=raw)
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"detail", "errors"}
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"status": "\x00"},
        {"facility": "99999999999999999999999"},
        {"facility": "abc"},
        {"assigned": "1" * 30},
        {"nationality": "ZZ"},
        {"overdue": "maybe"},
        {"cursor": "garbage"},
        {"page_size": "-1"},
        {"q": "x" * 10_000},
    ],
)
def test_hostile_list_parameters_are_not_a_500(api_as, alice, case, params):
    response = api_as(alice).get(reverse("api:cases"), params)
    assert response.status_code in (200, 400, 404), response.content[:300]
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/api/v1/cases/99999999999999999999999/", "/api/v1/cases/0/"])
def test_hostile_ids_are_404(api_as, alice, path):
    response = api_as(alice).get(path)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_a_form_post_is_415_json(api_as, alice, case):
    api = api_as(alice)
    response = api.client.post(
        reverse("api:case_notes", args=[case.pk]),
        {"text": "x"},
        headers=api.headers,
    )
    assert response.status_code == 415
    assert response.json()["detail"]
