from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from monitor.api import operations

urlpatterns = [
    path("api/monitor/", include("monitor.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own
    # (?script), and the template has no inline style: both as the pages' CSP wants.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="monitor/swagger_ui.html"
        ),
        name="docs",
    ),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("", include("monitor.pages.urls")),
]

# Django's own error answers, as JSON like the API's (monitor.api.errors): a
# Host not in DJANGO_ALLOWED_HOSTS, an unknown path, an unexpected error.
handler400 = "monitor.api.errors.bad_request"
handler403 = "monitor.api.errors.permission_denied"
handler404 = "monitor.api.errors.not_found"
handler500 = "monitor.api.errors.server_error"
