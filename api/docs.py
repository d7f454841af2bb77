"""The OpenAPI schema and its Swagger UI, for signed-in people (session, with CSRF) and
token holders. The UI's files come from drf-spectacular-sidecar through the static files
(no CDN) and its start-up script is a separate file, so the strict CSP holds."""

from __future__ import annotations

from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication

from .authentication import BearerTokenAuthentication

# The token first: its challenge header makes a missing login a 401, not a 403.
AUTHENTICATION = [BearerTokenAuthentication, SessionAuthentication]


class SchemaView(SpectacularAPIView):
    """The schema, JSON unless YAML is asked for (`?format=yaml`); errors in JSON too."""

    authentication_classes = AUTHENTICATION
    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = AUTHENTICATION
    template_name = "api/swagger_ui.html"
