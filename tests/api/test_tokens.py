"""Personal API tokens: hashed at rest, shown once, expiring, revocable, use recorded."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.models import ApiToken

from .conftest import Api, token_for


def test_it_stores_only_the_digest(alice):
    token, raw = ApiToken.issue(alice, name="MIGRIS sync", days=30)
    token.refresh_from_db()
    assert raw.startswith("hvn_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(v) for v in ApiToken.objects.values_list().get(pk=token.pk)}


def test_it_records_the_last_use(alice, case):
    raw = token_for(alice)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    assert Api(raw).get(reverse("api:cases")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_refuses_expired_revoked_and_unknown_tokens_with_json_401(
    alice, expired_token, revoked_token
):
    for raw, text in [
        (expired_token, "expired"),
        (revoked_token, "revoked"),
        ("hvn_not-a-token", "not valid"),
    ]:
        response = Api(raw).get(reverse("api:cases"))
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert text in response.json()["detail"]
        assert response.json()["errors"] == {}
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_signed_in_session_on_the_api(client, alice, case):
    client.force_login(alice)
    response = client.get(reverse("api:cases"))
    assert response.status_code == 401


def test_the_command_prints_only_a_working_token(alice, case):
    out = io.StringIO()
    call_command("create_api_token", "alice", "--name", "courts", "--days", "7", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("hvn_") and "\n" not in raw
    token = ApiToken.objects.get(name="courts")
    assert token.user == alice
    assert 6 <= (token.expires_at - token.created_at).days <= 7
    assert Api(raw).get(reverse("api:case", args=[case.pk])).status_code == 200


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_api_token", "nobody", "--name", "x")
    assert not ApiToken.objects.exists()


def test_the_admin_shows_a_new_token_once(client, root, alice, case):
    client.force_login(root)
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {
            "user": alice.pk,
            "name": "Border Guard",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "12:00:00",
        },
        follow=True,
    )
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    shown += [m.message for m in response.context["messages"]] if response.context else []
    token = ApiToken.objects.get(name="Border Guard")
    raw = next(word for text in shown for word in text.split() if word.startswith("hvn_"))
    assert hashlib.sha256(raw.encode()).hexdigest() == token.token_hash
    assert Api(raw).get(reverse("api:case", args=[case.pk])).status_code == 200
    page = client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert raw not in page.content.decode()
    assert token.token_hash not in page.content.decode()


def test_the_admin_revokes_tokens(client, root, alice, case):
    raw = token_for(alice)
    client.force_login(root)
    client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [ApiToken.objects.get().pk]},
    )
    assert Api(raw).get(reverse("api:cases")).status_code == 401
