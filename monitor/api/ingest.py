"""The ingestion API: polls, business hours, zones and the calendar sent over HTTP
(docs/report-semantics.md §9, §10).

Plain function views over the import services, the very code the import
commands run: a body is loaded as a file would be, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import WriteScope, request_scope
from monitor.api.endpoints import NOT_JSON, WRONG_METHOD, error_answer
from monitor.api.errors import own_body_limit
from monitor.api.ingest_serializers import (
    BusinessHoursRowSerializer,
    HoursDaySerializer,
    IngestResultSerializer,
    OwnershipRowSerializer,
    PollRowSerializer,
    SpecialHoursRowSerializer,
    StoreHoursSerializer,
    StoreOrganizationSerializer,
    StoreOwnerSerializer,
    StoreTimezoneSerializer,
    TimezoneRowSerializer,
    TimezoneSerializer,
)
from monitor.api.parsers import ROWS_PARSERS, PayloadTooLargeError
from monitor.api.throttles import WriteThrottle
from monitor.scope import Scope
from monitor.services import organizations, store_edits
from monitor.services.imports import (
    MEDIA_TYPES,
    Body,
    FileRefusedError,
    ImportResult,
    TooManyRowsError,
    business_hours_import,
    polls_import,
    special_hours_import,
    timezones_import,
)
from monitor.services.stores import StoreNotFoundError

# Who may send data, and how often (every view below, through _data_in).
WRITE_PERMISSIONS: list[Any] = [WriteScope]
WRITE_THROTTLES: list[Any] = [WriteThrottle]

# (body, scope=…) → its result: the caller's scope decides which stores it may write.
Importer = Callable[..., ImportResult]
T = TypeVar("T")
_STORE = "8419537941919820732"  # a store id of the examples

_INGEST_RESPONSES = {
    200: OpenApiResponse(
        IngestResultSerializer,
        description="The valid rows are stored (one transaction); the others are listed.",
        examples=[
            OpenApiExample(
                "Some rows rejected",
                value={
                    "loaded": 2,
                    "duplicates": 1,
                    "rejected": 1,
                    "errors": [
                        {"row": 4, "reason": "status 'up' is neither 'active' nor 'inactive'"}
                    ],
                },
            )
        ],
    ),
    400: error_answer(
        "Refused whole, nothing stored: the body cannot be parsed, is empty, or "
        "(CSV) its header lacks a required column.",
    ),
    405: WRONG_METHOD,
    413: error_answer(
        "Refused whole, nothing stored: more than INGEST_MAX_ROWS rows, or a body "
        "over INGEST_MAX_BYTES.",
    ),
    415: error_answer(f"Another content type than {', '.join(MEDIA_TYPES)}."),
}
_PLATFORM_ONLY = error_answer("An organization's key: this is for platform keys only.")


def _data_in(
    method: str, *, parsers: list[Any] | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """api_view for a view that sends data: the one place write access is granted
    (WRITE_PERMISSIONS, WRITE_THROTTLES); `parsers` instead of the default JSON one."""

    def decorate(view: Callable[..., Any]) -> Any:
        view = permission_classes(WRITE_PERMISSIONS)(throttle_classes(WRITE_THROTTLES)(view))
        if parsers is not None:
            view = parser_classes(parsers)(view)
        return api_view([method])(view)

    return decorate


def rows_schema(
    operation_id: str,
    summary: str,
    row: type,
    json_rows: list[dict[str, str]],
    *,
    platform_only: bool = False,
) -> dict[str, Any]:
    """extend_schema's arguments for a POST of rows: the same example rows in each
    content type, the ingest answers (`platform_only`: and the 403 of an
    organization's key)."""
    ndjson = "".join(f"{orjson.dumps(item).decode()}\n" for item in json_rows)
    lines = [list(json_rows[0]), *(list(item.values()) for item in json_rows)]  # header first
    csv = "".join(f"{','.join(line)}\n" for line in lines)
    return {
        "operation_id": operation_id,
        "summary": summary,
        "description": (
            "Rows as a JSON array of objects whose values are strings, as NDJSON (one such "
            "object a line) or as CSV (the import file's format, header and all). The rules, "
            "the duplicates and the reasons are the import commands'."
            + (
                " Platform keys only (403 for an organization's)."
                if platform_only
                else " An organization's key writes only its stores: a row naming another "
                "store is rejected with its reason; a new store id is created in its "
                "organization."
            )
        ),
        "request": {
            "application/json": row(many=True),
            "application/x-ndjson": OpenApiTypes.STR,
            "text/csv": OpenApiTypes.STR,
        },
        "responses": {**_INGEST_RESPONSES, **({403: _PLATFORM_ONLY} if platform_only else {})},
        "examples": [
            # One row: the schema lists a many=True body's example itself.
            OpenApiExample(
                "JSON", value=json_rows[0], request_only=True, media_type=MEDIA_TYPES[0]
            ),
            OpenApiExample("NDJSON", value=ndjson, request_only=True, media_type=MEDIA_TYPES[1]),
            OpenApiExample("CSV", value=csv, request_only=True, media_type=MEDIA_TYPES[2]),
        ],
    }


def _rows_view(
    importer: Importer,
    operation_id: str,
    summary: str,
    row: type,
    json_rows: list[dict[str, str]],
    *,
    platform_only: bool = False,
) -> Any:
    """The view that loads rows with `importer` (POST, any of MEDIA_TYPES, its own
    body limit), documented with the same example rows in each content type."""
    schema = extend_schema(
        **rows_schema(operation_id, summary, row, json_rows, platform_only=platform_only)
    )

    def ingest(request: Request) -> Response:
        return ingest_rows(request, importer)

    ingest.__name__ = ingest.__qualname__ = operation_id  # its name in tracebacks, as a def's
    return own_body_limit(schema(_data_in("POST", parsers=ROWS_PARSERS)(ingest)))


polls = _rows_view(
    polls_import,
    "ingest_polls",
    "Store status polls",
    PollRowSerializer,
    [
        {"store_id": _STORE, "status": "active", "timestamp_utc": "2023-01-25T18:00:00Z"},
        {"store_id": _STORE, "status": "inactive", "timestamp_utc": "2023-01-25 19:00:00.5 UTC"},
    ],
)
business_hours = _rows_view(
    business_hours_import,
    "ingest_business_hours",
    "Replace the business hours of every store named",
    BusinessHoursRowSerializer,
    [
        {"store_id": _STORE, "day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
        {"store_id": _STORE, "day": "5", "start_time_local": "22:00", "end_time_local": "02:00"},
    ],
)
timezones = _rows_view(
    timezones_import,
    "ingest_timezones",
    "Set the time zone of every store named",
    TimezoneRowSerializer,
    [{"store_id": _STORE, "timezone_str": "America/Chicago"}],
)
store_organizations = _rows_view(
    organizations.store_organizations_import,
    "ingest_store_organizations",
    "Give every store named to an organization (unknown stores are created)",
    OwnershipRowSerializer,
    [{"store_id": _STORE, "organization": "acme"}],
    platform_only=True,
)

special_hours = _rows_view(
    special_hours_import,
    "ingest_special_hours",
    "Replace the special hours of every (store, date) named",
    SpecialHoursRowSerializer,
    [
        {"store_id": _STORE, "date": "2023-12-25", "start_time_local": "", "end_time_local": ""},
        {
            "store_id": _STORE,
            "date": "2023-12-24",
            "start_time_local": "09:00",
            "end_time_local": "14:00",
        },
    ],
)
# GET and POST: monitor.api.calendar.exclusions.
EXCLUSION_ROWS = [
    {
        "store_id": "*",
        "start_utc": "2023-01-25 02:00:00",
        "end_utc": "2023-01-25 05:00:00",
        "reason": "the poller was down",
    },
    {
        "store_id": _STORE,
        "start_utc": "2023-01-20T14:00:00Z",
        "end_utc": "2023-01-20T16:00:00Z",
        "reason": "planned maintenance",
    },
]


def ingest_rows(request: Request, importer: Importer) -> Response:
    scope = request_scope(request)
    body = request.data
    if not isinstance(body, Body) or not body.data or body.data.isspace():
        raise ParseError(f"the body is empty: send rows as {', '.join(MEDIA_TYPES)}")
    try:
        result = importer(body, scope=scope)
    except TooManyRowsError as error:
        raise PayloadTooLargeError(str(error)) from None
    except FileRefusedError as error:
        raise ParseError(str(error)) from None
    return Response(IngestResultSerializer(result).data)


_STORE_EDIT_RESPONSES = {
    400: error_answer("The body or a row is invalid (why); nothing changed."),
    404: error_answer(
        "No such store: another organization's (to an organization's key), or no such "
        "path: the store id has a character no URL takes."
    ),
    405: WRONG_METHOD,
    415: NOT_JSON,
}


@extend_schema(
    operation_id="store_business_hours_replace",
    summary="Replace one store's business hours (an empty list: open all week)",
    request=HoursDaySerializer(many=True),
    responses={200: StoreHoursSerializer, **_STORE_EDIT_RESPONSES},
    examples=[
        OpenApiExample(
            "Mondays 9 to 5",  # one row: the schema lists a many=True body's example itself
            value={"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
            request_only=True,
        ),
        OpenApiExample(
            "Stored",
            value={
                "store_id": _STORE,
                "business_hours": [
                    {"day": "0", "start_time_local": "09:00:00", "end_time_local": "17:00:00"}
                ],
            },
            response_only=True,
        ),
    ],
)
@_data_in("PUT")
def store_business_hours(request: Request, store_id: str) -> Response:
    hours = _store_edit(store_edits.store_hours_replace, store_id, request)
    stored = {"store_id": store_id.strip(), "business_hours": hours}
    return Response(StoreHoursSerializer(stored).data)


@extend_schema(
    operation_id="store_timezone_set",
    summary="Set one store's time zone",
    request=TimezoneSerializer,
    responses={200: StoreTimezoneSerializer, **_STORE_EDIT_RESPONSES},
    examples=[
        OpenApiExample(
            "Chicago",
            value={"timezone_str": "America/Chicago"},
            request_only=True,
        ),
        OpenApiExample(
            "Stored",
            value={"store_id": _STORE, "timezone_str": "America/Chicago"},
            response_only=True,
        ),
    ],
)
@_data_in("PUT")
def store_timezone(request: Request, store_id: str) -> Response:
    store = _store_edit(store_edits.store_timezone_set, store_id, request)
    return Response(StoreTimezoneSerializer(store).data)


def _store_edit(edit: Callable[..., T], store_id: str, request: Request) -> T:
    """`edit` of the store with the request's body, in the caller's scope; its
    refusal a 400 saying why; a store out of reach a 404, as one that does not exist."""
    scope: Scope = request_scope(request)
    try:
        return edit(store_id, request.data, scope=scope)
    except store_edits.StoreEditError as error:
        raise ParseError(str(error)) from None
    except StoreNotFoundError as error:
        raise NotFound(str(error)) from None


@extend_schema(
    operation_id="store_organization_set",
    summary="Give one store to an organization, or to none (platform keys only)",
    description="An unknown store is created, as business hours do. null: the store belongs "
    "to no organization (only the platform sees it).",
    request=StoreOrganizationSerializer,
    responses={
        200: StoreOwnerSerializer,
        400: error_answer("The body or the store id is invalid (why)."),
        403: _PLATFORM_ONLY,
        404: error_answer("No organization has this slug."),
        405: WRONG_METHOD,
        415: NOT_JSON,
    },
    examples=[
        OpenApiExample("To acme", value={"organization": "acme"}, request_only=True),
        OpenApiExample("To none", value={"organization": None}, request_only=True),
    ],
)
@_data_in("PUT")
def store_organization(request: Request, store_id: str) -> Response:
    scope = request_scope(request)
    scope.require_platform(organizations.OWNERSHIP_CHANGES)
    body = StoreOrganizationSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        store = organizations.store_organization_set(
            store_id, body.validated_data["organization"], scope=scope
        )
    except organizations.OrganizationNotFoundError as error:
        raise NotFound(str(error)) from None  # as ?organization= naming none the caller knows
    except organizations.OrganizationError as error:
        raise ParseError(str(error)) from None
    return Response(StoreOwnerSerializer(store).data)
