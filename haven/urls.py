from django.contrib import admin
from django.urls import include, path

from . import health, metrics

urlpatterns = [
    # For load balancers and monitoring: public, no personal data.
    path("health/", health.health, name="health"),
    # For Prometheus: METRICS_ALLOWED networks or the METRICS_TOKEN bearer only.
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Django's set_language (URL name `set_language`, /i18n/setlang/): the header's switch.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("api.urls")),
    path("reports/", include("reports.urls")),
    path("", include("cases.urls")),
]

# Under /api/ these answer JSON; elsewhere Django's own pages.
handler400 = "api.exceptions.bad_request"
handler403 = "api.exceptions.forbidden"
handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
