"""The report API: plain function views over monitor.services.jobs.

Every response is documented for drf-spectacular (/api/schema/, /api/docs/).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.serializers import (
    ErrorSerializer,
    RecentQuerySerializer,
    ReportFailedSerializer,
    ReportIdQuerySerializer,
    ReportListSerializer,
    ReportQuerySerializer,
    ReportRunningSerializer,
    TriggerRequestSerializer,
    TriggerResponseSerializer,
)
from monitor.models import Report
from monitor.services import jobs

_ERROR = OpenApiResponse(ErrorSerializer, description='{"error": "<what went wrong>"}')
_WRONG_METHOD = OpenApiResponse(ErrorSerializer, description="Wrong method (see Allow).")


_GET_REPORT_200 = (
    "Running: JSON with the progress; Failed: JSON with the error; Complete: the CSV, "
    "exactly what `generate_report` writes for the same as-of instant, as an attachment "
    "named report-<report_id>.csv."
)
_GET_REPORT_SCHEMA: dict[str, Any] = {
    "summary": "A report: its progress while Running, its error if Failed, else its CSV",
    "responses": {
        (200, "application/json"): OpenApiResponse(
            PolymorphicProxySerializer(
                component_name="ReportState",
                serializers={
                    Report.Status.RUNNING.value: ReportRunningSerializer,
                    Report.Status.FAILED.value: ReportFailedSerializer,
                },
                resource_type_field_name="status",
            ),
            description=_GET_REPORT_200,
        ),
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=_GET_REPORT_200),
        (400, "application/json"): _ERROR,
        (404, "application/json"): _ERROR,
        (405, "application/json"): _WRONG_METHOD,
    },
}
_REPORT_STATUS_HEADERS = [
    OpenApiParameter(
        "X-Report-Status",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        enum=Report.Status.values,
        description="The report's status; Complete on the CSV.",
    ),
    OpenApiParameter(
        "Content-Disposition",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='On the CSV: attachment; filename="report-<report_id>.csv".',
    ),
]


@extend_schema(
    operation_id="trigger_report",
    summary="Start a report (asynchronously)",
    request=TriggerRequestSerializer,
    responses={
        200: TriggerResponseSerializer,
        400: OpenApiResponse(ErrorSerializer, description="Malformed body or as_of."),
        405: _WRONG_METHOD,
        415: OpenApiResponse(ErrorSerializer, description="The body is not JSON."),
        503: OpenApiResponse(
            ErrorSerializer, description="The job queue is unreachable; the report is Failed."
        ),
    },
)
@api_view(["POST"])
@parser_classes([JSONParser])
def trigger_report(request: Request) -> Response:
    body = TriggerRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        triggered = jobs.report_trigger(
            as_of=body.validated_data.get("as_of"), force=body.validated_data["force"]
        )
    except jobs.JobQueueUnavailableError as error:
        return Response({"error": str(error)}, status=503)
    return Response(TriggerResponseSerializer(triggered).data)


@extend_schema(
    **_GET_REPORT_SCHEMA,
    operation_id="get_report",
    parameters=[ReportQuerySerializer, *_REPORT_STATUS_HEADERS],
)
@api_view(["GET"])
def get_report(request: Request, report_id: str) -> HttpResponse:
    query = ReportQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return _report_response(report_id, percent=query.validated_data["units"] == "percent")


@extend_schema(
    **_GET_REPORT_SCHEMA,
    operation_id="get_report_by_query",
    parameters=[ReportIdQuerySerializer, *_REPORT_STATUS_HEADERS],
    description="The original service's form of get_report/<report_id>.",
)
@api_view(["GET"])
def get_report_by_query(request: Request) -> HttpResponse:
    query = ReportIdQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return _report_response(
        query.validated_data["report_id"], percent=query.validated_data["units"] == "percent"
    )


@extend_schema(
    operation_id="reports",
    summary="Recent reports, newest first",
    parameters=[RecentQuerySerializer],
    responses={200: ReportListSerializer, 400: _ERROR, 405: _WRONG_METHOD},
)
@api_view(["GET"])
def reports(request: Request) -> Response:
    query = RecentQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    recent = jobs.reports_recent(limit=query.validated_data["limit"])
    return Response(ReportListSerializer({"reports": recent}).data)


def _report_response(report_id: str, *, percent: bool) -> HttpResponse:
    report = jobs.report_get(report_id)
    if report is None:
        raise NotFound(f"no report with id {report_id!r}")
    headers = {"X-Report-Status": report.status}
    if report.status == Report.Status.RUNNING:
        return Response(ReportRunningSerializer(report).data, headers=headers)
    if report.status == Report.Status.FAILED:
        return Response(ReportFailedSerializer(report).data, headers=headers)
    response = HttpResponse(
        report.result_percent_csv if percent else report.result_csv,
        content_type="text/csv; charset=utf-8",
        headers=headers,
    )
    response["Content-Disposition"] = f'attachment; filename="report-{report.report_id}.csv"'
    return response
