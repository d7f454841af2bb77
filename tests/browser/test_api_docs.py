"""The API's docs page (Swagger UI) renders its operations for a signed-in person under
Haven's strict Content Security Policy, from Haven's own origin only."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

# Recorded by the page itself: Chromium also reports each violation on the console (which the
# `page` fixture checks), but an event cannot be missed for a change in the message's words.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_the_docs_render_every_operation_under_the_strict_csp(
    page, live_server, sign_in, screenshot, alice
):
    origin = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if urlsplit(request.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(request.url).netloc != origin
            else None
        ),
    )
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    sign_in("alice")

    response = page.goto(reverse("api:docs"))
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    operations = page.locator(".opblock")
    operations.first.wait_for()
    paths = {
        " ".join(text.split()) for text in page.locator(".opblock-summary-path").all_inner_texts()
    }
    assert {"/api/v1/cases/", "/api/v1/cases/{id}/transitions/{name}/"} <= paths, paths
    assert operations.count() >= 12  # every method of every path
    # An operation opens and shows its parameters, the case list's sort orders among them.
    page.locator("#operations-cases-cases_list .opblock-summary").click()
    page.locator("#operations-cases-cases_list tr[data-param-name='sort']").wait_for()
    screenshot("api-docs")

    assert page.evaluate("window.__cspViolations") == []
    assert elsewhere == []
