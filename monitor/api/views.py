"""The report API: plain function views over the report services (trigger, staleness) and selectors.

Every response is documented for drf-spectacular (/api/schema/, /api/docs/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import WriteScope, narrowed_scope, request_scope
from monitor.api.downloads import csv_download
from monitor.api.endpoints import (
    INVALID,
    NO_ORGANIZATION,
    NOT_JSON,
    WRONG_METHOD,
    error_answer,
    query_view,
    valid_query,
)
from monitor.api.serializers import (
    RecentQuerySerializer,
    ReportDetailSerializer,
    ReportFailedSerializer,
    ReportIdQuerySerializer,
    ReportListSerializer,
    ReportNotReadySerializer,
    ReportQuerySerializer,
    ReportRunningSerializer,
    TriggerRequestSerializer,
    TriggerResponseSerializer,
)
from monitor.api.throttles import TriggerThrottle
from monitor.models import ApiKey, Report
from monitor.selectors import ReportPartsMissingError
from monitor.services.report_staleness import (
    report_get_failing_lost,
    reports_recent_failing_lost,
)
from monitor.services.report_trigger import (
    JobQueueUnavailableError,
    QueueFullError,
    report_trigger,
)

_NOT_FOUND = error_answer("No report has this id.")
# A finished report's CSV is immutable: see monitor.api.downloads.
_CSV_CACHING = {
    304: OpenApiResponse(
        description="Not modified: If-None-Match named this CSV's ETag (or If-Modified-Since "
        "is not before it was finished)."
    ),
    412: error_answer("If-Match or If-Unmodified-Since did not hold."),
}
_CSV_HEADERS = [
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="On the CSV: the same for as long as the report exists (weak when "
        "gzipped); send it back in If-None-Match to get a 304.",
    ),
    OpenApiParameter(
        "Cache-Control",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="On the CSV: private, max-age=31536000, immutable.",
    ),
    OpenApiParameter(
        "Content-Disposition",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='On the CSV: attachment; filename="report-<report_id>.csv".',
    ),
]
_CSV_DESCRIPTION = (
    "The CSV is exactly what `generate_report` writes for the same as-of instant. HEAD is "
    "supported, and the CSV comes gzipped to a client that accepts it."
)


_GET_REPORT_200 = (
    "Running: JSON with the progress; Failed: JSON with the error; Complete: the CSV, "
    "as an attachment named report-<report_id>.csv."
)
_GET_REPORT_SCHEMA: dict[str, Any] = {
    "summary": "A report: its progress while Running, its error if Failed, else its CSV",
    "description": "The original contract: one 200 answer, JSON or CSV depending on the "
    "report's state. Clients generated from this schema should use `report_detail` and "
    "`report_csv` instead, which have one content type per answer. " + _CSV_DESCRIPTION,
    "tags": ["original contract"],
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
        **{(code, "application/json"): answer for code, answer in _CSV_CACHING.items()},
        (400, "application/json"): INVALID,
        (404, "application/json"): _NOT_FOUND,
        (405, "application/json"): WRONG_METHOD,
    },
}
_REPORT_STATUS_HEADER = OpenApiParameter(
    "X-Report-Status",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    enum=Report.Status.values,
    description="The report's status; Complete on the CSV.",
)


class _AnyAccept(BaseContentNegotiation):
    """The negotiation of the views that answer CSV: whatever Accept says, a
    view's own answer (CSV or JSON), and its errors as JSON, rather than a 406
    to a client that asked for text/csv alone."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _any_accept(view: Callable[..., Any]) -> Callable[..., Any]:
    # api_view reads the class off the function, as its own decorators set it.
    view.content_negotiation_class = _AnyAccept  # type: ignore[attr-defined]
    return view


@extend_schema(
    operation_id="trigger_report",
    summary="Start a report (asynchronously)",
    description="A platform key's report holds every store; an organization's key's, its "
    "organization's stores only, each row as the platform's report prints it, and only that "
    "organization (and the platform) may read it. A report of the same instant and data is "
    "reused, among the caller's own only. At most REPORT_MAX_QUEUED_PER_KEY (3) of an API "
    "key's reports wait to start at once (those of callers without a key: of each "
    "organization); the reports of different keys start in turns, round-robin.",
    request=TriggerRequestSerializer,
    responses={
        200: TriggerResponseSerializer,
        400: error_answer("Malformed body or as_of."),
        405: WRONG_METHOD,
        415: NOT_JSON,
        429: error_answer(
            "Too many requests (see Retry-After), or REPORT_MAX_QUEUED_PER_KEY of the "
            "caller's reports wait to start already (the error names them: trigger again "
            "once one has started). A report that would be reused is handed out all the same.",
        ),
        503: error_answer(
            "The job queue is unreachable (the report is Failed), "
            "or the database is unavailable or busy.",
        ),
    },
)
@api_view(["POST"])
@throttle_classes([TriggerThrottle])
def trigger_report(request: Request) -> Response:
    body = TriggerRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    # A forced report is a whole computation every time, whatever exists: a read
    # key could flood the workers with them, so it takes a write key.
    if body.validated_data["force"] and not WriteScope().has_permission(request, None):
        raise PermissionDenied('{"force": true} needs an API key with scope write')
    try:
        triggered = report_trigger(
            scope=request_scope(request),
            as_of=body.validated_data.get("as_of"),
            force=body.validated_data["force"],
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
        )
    except QueueFullError as error:
        return Response({"error": str(error)}, status=429)
    except JobQueueUnavailableError as error:
        return Response({"error": str(error)}, status=503)
    return Response(TriggerResponseSerializer(triggered).data)


@extend_schema(
    **_GET_REPORT_SCHEMA,
    operation_id="get_report",
    parameters=[ReportQuerySerializer, _REPORT_STATUS_HEADER, *_CSV_HEADERS],
)
@api_view(["GET", "HEAD"])
@_any_accept
def get_report(request: Request, report_id: str) -> HttpResponseBase:
    query = valid_query(ReportQuerySerializer, request)
    return _report_response(request, report_id, percent=query["units"] == "percent")


@extend_schema(
    **_GET_REPORT_SCHEMA,
    operation_id="get_report_by_query",
    parameters=[ReportIdQuerySerializer, _REPORT_STATUS_HEADER, *_CSV_HEADERS],
)
@api_view(["GET", "HEAD"])
@_any_accept
def get_report_by_query(request: Request) -> HttpResponseBase:
    query = valid_query(ReportIdQuerySerializer, request)
    return _report_response(request, query["report_id"], percent=query["units"] == "percent")


@extend_schema(
    operation_id="report_detail",
    summary="A report's state, as JSON, whatever its status",
    description="Poll this until `status` is Complete (then download `csv_url`) or Failed "
    "(then `error` says why).",
    responses={200: ReportDetailSerializer, 404: _NOT_FOUND, 405: WRONG_METHOD},
)
@api_view(["GET", "HEAD"])
def report_detail(request: Request, report_id: str) -> Response:
    report = _report_or_404(request, report_id)
    return Response(ReportDetailSerializer(report, context={"request": request}).data)


@extend_schema(
    operation_id="report_csv",
    summary="A Complete report's CSV",
    description=_CSV_DESCRIPTION,
    parameters=[ReportQuerySerializer, *_CSV_HEADERS],
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description="The CSV, as an attachment named report-<id>.csv."
        ),
        **_CSV_CACHING,
        400: INVALID,
        404: _NOT_FOUND,
        405: WRONG_METHOD,
        409: OpenApiResponse(
            ReportNotReadySerializer, description="The report is Running or Failed: no CSV."
        ),
    },
)
@api_view(["GET", "HEAD"])
@_any_accept
def report_csv(request: Request, report_id: str) -> HttpResponseBase:
    query = valid_query(ReportQuerySerializer, request)
    report = _report_or_404(request, report_id)
    if report.status != Report.Status.COMPLETE:
        reason = f": {report.error}" if report.error else ""
        return Response(
            {
                "error": f"report {report_id!r} is {report.status}{reason}; its CSV "
                "exists once it is Complete",
                "report_id": report_id,
                "status": report.status,
            },
            status=409,
        )
    return _csv_download(request, report, percent=query["units"] == "percent")


@query_view(
    operation_id="reports",
    summary="Recent reports, newest first (an organization's key: its own only)",
    query=RecentQuerySerializer,
    responses={200: ReportListSerializer, 404: NO_ORGANIZATION},
)
def reports(request: Request, query: dict[str, Any]) -> Response:
    scope = narrowed_scope(request, query.get("organization"))
    recent = reports_recent_failing_lost(scope=scope, limit=query["limit"])
    return Response(ReportListSerializer({"reports": recent}).data)


def _report_or_404(request: Request, report_id: str) -> Report:
    """The caller's report (another's answers as an unknown id does)."""
    report = report_get_failing_lost(report_id, scope=request_scope(request))
    if report is None:
        raise NotFound(f"no report with id {report_id!r}")
    return report


def _report_response(request: Request, report_id: str, *, percent: bool) -> HttpResponseBase:
    report = _report_or_404(request, report_id)
    if report.status == Report.Status.RUNNING:
        response: HttpResponseBase = Response(ReportRunningSerializer(report).data)
    elif report.status == Report.Status.FAILED:
        response = Response(ReportFailedSerializer(report).data)
    else:
        response = _csv_download(request, report, percent=percent)
    response["X-Report-Status"] = report.status
    return response


def _csv_download(request: Request, report: Report, *, percent: bool) -> HttpResponseBase:
    try:
        response = csv_download(request._request, report, percent=percent)
    except ReportPartsMissingError:
        # Retention deleted it after it was read: as gone as an unknown id.
        raise NotFound(f"no report with id {report.report_id!r} (deleted meanwhile)") from None
    if response.status_code == 412:
        return Response({"error": "If-Match or If-Unmodified-Since did not hold"}, status=412)
    return response
