"""/api/monitor/…: the original service's paths."""

from django.urls import path

from monitor.api import store_views, views

urlpatterns = [
    path("trigger_report", views.trigger_report, name="trigger_report"),
    path("get_report/<str:report_id>", views.get_report, name="get_report"),
    path("get_report", views.get_report_by_query, name="get_report_by_query"),
    path("reports", views.reports, name="reports"),
    path("reports/<str:report_id>", views.report_detail, name="report_detail"),
    path("reports/<str:report_id>/csv", views.report_csv, name="report_csv"),
    path("stores", store_views.store_list, name="stores"),
    path("stores/<path:store_id>", store_views.store_detail, name="store"),
]
