from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/monitor/", include("monitor.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("monitor.pages.urls")),
]

# A request Django refuses before any view (a Host not in DJANGO_ALLOWED_HOSTS)
# gets a JSON error too, not an HTML page.
handler400 = "monitor.api.errors.bad_request"
