"""The pages' paths (the API lives under /api/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from monitor.pages import views
from monitor.pages.favicon import favicon
from monitor.store_paths import STORE_ID

app_name = "pages"  # the API has its own "reports", "store", … names

urlpatterns = [
    path("", views.fleet, name="fleet"),
    path(f"stores/<{STORE_ID}:store_id>", views.store, name="store"),
    path("reports/", views.reports, name="reports"),
    path("incidents/", views.incidents, name="incidents"),
    path("reports/new", views.report_new, name="report_new"),
    path("reports/<str:report_id>/progress", views.report_progress, name="report_progress"),
    path(
        "reports/<str:report_id>/report.csv",
        views.report_download,
        {"units": "absolute"},
        name="report_csv",
    ),
    path(
        "reports/<str:report_id>/report-percent.csv",
        views.report_download,
        {"units": "percent"},
        name="report_percent_csv",
    ),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
