"""Tokens and a client for the API tests; the personas are those of tests/conftest.py."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiToken


def token_for(user, *, name: str = "test", days: int = 30) -> str:
    return ApiToken.issue(user, name=name, days=days)[1]


class Api:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, token: str | None = None, **headers) -> None:
        self.client = Client()
        self.headers = dict(headers)
        if token:
            self.headers["authorization"] = f"Bearer {token}"

    def get(self, url: str, params=None, **headers):
        return self.client.get(url, params or {}, headers={**self.headers, **headers})

    def post(self, url: str, data=None, *, raw: bytes | str | None = None, **headers):
        payload = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(
            url, payload, content_type="application/json", headers={**self.headers, **headers}
        )


@pytest.fixture
def api_as():
    """`api_as(user)`: a client with a fresh token of that user."""
    return lambda user: Api(token_for(user))


@pytest.fixture
def expired_token(alice) -> str:
    token, raw = ApiToken.issue(alice, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    return raw


@pytest.fixture
def revoked_token(alice) -> str:
    token, raw = ApiToken.issue(alice, name="lost laptop", days=30)
    token.revoke()
    return raw
