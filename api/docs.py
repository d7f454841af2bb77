"""The OpenAPI schema and its Swagger UI, for signed-in people (session, with CSRF) and
token holders. The UI's files come from drf-spectacular-sidecar through the static files
(no CDN) and its start-up script is a separate file, so the strict CSP holds."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication

from .authentication import BearerTokenAuthentication

AUTHENTICATION = [SessionAuthentication, BearerTokenAuthentication]


class SchemaView(SpectacularAPIView):
    authentication_classes = AUTHENTICATION


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = AUTHENTICATION
    template_name = "api/swagger_ui.html"
