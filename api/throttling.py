"""Requests per token, counted in the shared cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATE per token (e.g. "600/min"); 429 with Retry-After past it.

    The rate is read on each request, not when the class is loaded, so a settings change
    (and a test's override) applies at once. Requests without a token (the docs, through a
    session) count per user."""

    scope = "token"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.token_hash[:24]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
