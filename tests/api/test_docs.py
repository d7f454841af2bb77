"""The OpenAPI schema and its docs page; rate limits per token."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

from .conftest import Api, token_for


def test_the_schema_describes_every_endpoint(api_as, alice):
    response = api_as(alice).get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{id}/events/",
        "/api/v1/cases/{id}/transitions/{name}/",
        "/api/v1/cases/{id}/notes/",
        "/api/v1/cases/{id}/documents/",
        "/api/v1/cases/{id}/documents/{document_pk}/",
        "/api/v1/deadlines/",
        "/api/v1/facilities/",
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    transition = schema["paths"]["/api/v1/cases/{id}/transitions/{name}/"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "429"} <= set(transition["responses"])


def test_the_schema_needs_a_token_or_a_session(client, alice):
    response = client.get(reverse("api:schema"))
    assert response.status_code == 401
    assert response.json()["detail"]
    client.force_login(alice)
    assert client.get(reverse("api:schema")).status_code == 200


def test_the_docs_page_uses_only_haven_s_own_files(client, alice):
    client.force_login(alice)
    page = client.get(reverse("api:docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Content-Security-Policy" in page.headers
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    # No inline script or style: every script has a src, and no <style> element.
    assert "<style" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    script = next(s for s in sources if "script" in s and not s.startswith("/static/"))
    start = client.get(script)
    assert start.status_code == 200
    assert "SwaggerUIBundle" in start.content.decode()


def test_it_limits_requests_per_token(settings, alice, case):
    settings.API_THROTTLE_RATE = "3/min"
    busy, other = Api(token_for(alice, name="busy")), Api(token_for(alice, name="other"))
    url = reverse("api:case", args=[case.pk])
    assert [busy.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"]
    assert other.get(url).status_code == 200


def test_the_schema_is_valid_and_complete(tmp_path):
    # --fail-on-warn: an endpoint whose answers drf-spectacular cannot describe fails here.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert "/api/v1/cases/{id}/transitions/{name}/" in (tmp_path / "schema.yaml").read_text()
