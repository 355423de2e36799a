"""/api/monitor/…: the original service's paths."""

from django.urls import path

from monitor.api import calendar, channels, incidents, ingest, store_views, views
from monitor.store_paths import STORE_ID

# Data in (docs/report-semantics.md §9): the same loads as the import commands.
# First: stores/<store_id> below would take …/business_hours, …/timezone and
# …/special_hours and …/organization as part of a store id (a GET of the first two still reads
# such a store: edit_or_read).
_DATA_IN = [
    path("polls", ingest.polls, name="ingest_polls"),
    path("business_hours", ingest.business_hours, name="ingest_business_hours"),
    path("timezones", ingest.timezones, name="ingest_timezones"),
    path("store_organizations", ingest.store_organizations, name="ingest_store_organizations"),
    path(
        f"stores/<{STORE_ID}:store_id>/business_hours",
        store_views.edit_or_read(ingest.store_business_hours, "business_hours"),
        name="store_business_hours",
    ),
    path(
        f"stores/<{STORE_ID}:store_id>/timezone",
        store_views.edit_or_read(ingest.store_timezone, "timezone"),
        name="store_timezone",
    ),
    # The calendar (docs/report-semantics.md §10).
    path("special_hours", ingest.special_hours, name="ingest_special_hours"),
    path("exclusions", calendar.exclusions, name="exclusions"),
    path("exclusions/<int:exclusion_id>", calendar.exclusion, name="exclusion"),
    path(
        f"stores/<{STORE_ID}:store_id>/special_hours/<str:date>",
        calendar.store_special_date,
        name="store_special_date",
    ),
    path(
        f"stores/<{STORE_ID}:store_id>/special_hours",
        calendar.store_special_hours,
        name="store_special_hours",
    ),
    path(
        f"stores/<{STORE_ID}:store_id>/organization",
        ingest.store_organization,
        name="store_organization",
    ),
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
    # Notifications (docs/notifications.md).
    path("channels", channels.channels, name="channels"),
    path("channels/<int:channel_id>", channels.channel, name="channel"),
    path("channels/<int:channel_id>/test", channels.channel_test, name="channel_test"),
    path(
        "channels/<int:channel_id>/deliveries",
        channels.channel_deliveries,
        name="channel_deliveries",
    ),
    path(f"stores/<{STORE_ID}:store_id>", store_views.store_detail, name="store"),
    path("incidents", incidents.incident_list, name="incidents"),
    path("incidents/<int:incident_id>", incidents.incident_detail, name="incident"),
]
