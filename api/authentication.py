"""`Authorization: Bearer <token>` with a personal API token (`api.models.ApiToken`)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiToken, digest


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A personal token in the Authorization header. Expired, revoked and unknown tokens
    are refused (401); a valid one records its use and applies its user's language."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as “Authorization: Bearer <token>”.")
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        token = ApiToken.objects.select_related("user").filter(token_hash=digest(raw)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("The token was revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(_("The token has expired."))
        token.touch()
        language = token.user.language
        if language in dict(settings.LANGUAGES):
            # The user's own language wins over Accept-Language, as on the pages.
            translation.activate(language)
            request._request.LANGUAGE_CODE = language
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
