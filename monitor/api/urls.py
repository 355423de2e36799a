"""/api/monitor/…: the original service's paths."""

from django.urls import path

from monitor.api import ingest, store_views, views
from monitor.store_paths import STORE_ID

# Data in (docs/report-semantics.md §9): the same loads as the import commands.
# First: stores/<store_id> below would take …/business_hours and …/timezone
# as part of a store id.
_DATA_IN = [
    path("polls", ingest.polls, name="ingest_polls"),
    path("business_hours", ingest.business_hours, name="ingest_business_hours"),
    path("timezones", ingest.timezones, name="ingest_timezones"),
    path(
        f"stores/<{STORE_ID}:store_id>/business_hours",
        ingest.store_business_hours,
        name="store_business_hours",
    ),
    path(f"stores/<{STORE_ID}:store_id>/timezone", ingest.store_timezone, name="store_timezone"),
]

urlpatterns = [
    *_DATA_IN,
    path("trigger_report", views.trigger_report, name="trigger_report"),
    path("get_report/<str:report_id>", views.get_report, name="get_report"),
    path("get_report", views.get_report_by_query, name="get_report_by_query"),
    path("reports", views.reports, name="reports"),
    path("reports/<str:report_id>", views.report_detail, name="report_detail"),
    path("reports/<str:report_id>/csv", views.report_csv, name="report_csv"),
    path("stores", store_views.store_list, name="stores"),
    path(f"stores/<{STORE_ID}:store_id>", store_views.store_detail, name="store"),
]
