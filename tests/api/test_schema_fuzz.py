"""Schema-driven fuzzing (schemathesis) of every endpoint through the WSGI app, with an
authorised token: no 5xx, and every answer conforms to the schema (status code, content
type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from haven.wsgi import application
from tests.conftest import submit

from .conftest import token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(settings, media, alice, oscar, pabrade):
    settings.ALLOWED_HOSTS = ["*"]
    settings.API_THROTTLE_RATE = "100000/min"
    submit(alice)
    submit(oscar, family_name="Petrov")
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, headers=headers
    )
    schema.api_token_headers = headers
    return schema


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app closes the database connection when a request finishes; Django's test
    client stops it from doing so, and so must a test that calls the app directly, whose
    requests run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_answer_is_a_5xx_or_off_the_schema(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 12  # each endpoint and method of the schema
    headers = api_schema.api_token_headers
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
