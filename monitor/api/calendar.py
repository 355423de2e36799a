"""The calendar API (docs/report-semantics.md §10): a store's special dates, and the
exclusions, listed, set and removed.

Plain function views over monitor.services.calendar. Reads take a read key,
changes a write key, with the throttles and limits of the other ingest endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import ReadOrWriteScope, WriteScope, request_scope
from monitor.api.endpoints import INVALID, NOT_JSON, WRONG_METHOD, error_answer, valid_query
from monitor.api.errors import own_body_limit
from monitor.api.ingest import EXCLUSION_ROWS, ingest_rows, rows_schema
from monitor.api.ingest_serializers import ExclusionRowSerializer, SpecialHoursTimesSerializer
from monitor.api.parsers import ROWS_PARSERS
from monitor.api.serializers import StrictQuerySerializer
from monitor.api.store_serializers import InstantField
from monitor.api.throttles import ReadOrWriteThrottle, WriteThrottle
from monitor.services import calendar
from monitor.services.imports import exclusions_import
from monitor.services.store_edits import StoreEditError
from monitor.services.stores import MAX_OFFSET, SpecialDate

_STORE = "8419537941919820732"  # a store id of the examples
_NOT_FOUND = error_answer("No such store, date or exclusion (the error says which).")
_DATE = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    OpenApiParameter.PATH,
    description="YYYY-MM-DD: the store's local date, in the years 1970 to 2199.",
)


class SpecialDateSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(help_text="The store's local date.")
    closed = serializers.BooleanField(help_text="No row opens time: closed all that date.")
    rows = SpecialHoursTimesSerializer(
        many=True, help_text="Sorted by times; as the PUT takes them."
    )


class StoreSpecialHoursSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    special_hours = SpecialDateSerializer(many=True, help_text="Oldest date first.")


class StoreSpecialDateSerializer(SpecialDateSerializer):
    store_id = serializers.CharField()


class ExclusionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="DELETE /api/monitor/exclusions/<id> removes it.")
    store_id = serializers.CharField(help_text="* for every store.")
    start_utc = InstantField()
    end_utc = InstantField()
    reason = serializers.CharField()


class ExclusionListSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="Exclusions matching the filter.")
    exclusions = ExclusionSerializer(many=True, help_text="Oldest start first.")


class ExclusionQuerySerializer(StrictQuerySerializer):
    # Strict: an empty or repeated parameter (?offset=) is a 400, not the default.
    store_id = serializers.CharField(
        required=False,
        trim_whitespace=False,  # an id is matched exactly: one no store has is a 404
        # Said in the schema: DRF refuses a NUL in any text (no stored id holds one).
        validators=[RegexValidator(r"^[^\x00]*$", message="a NUL character is not allowed")],
        help_text="A store's own exclusions and those of every store; * those of every store only.",
    )
    limit = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=calendar.EXCLUSIONS_MAX_LIMIT
    )
    # Bounded: SQLite refuses an OFFSET past 64 bits (a 500, not a 400).
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_OFFSET)


def _writes(*methods: str) -> Callable[[Callable[..., Any]], Any]:
    """api_view for views that change data: a write key, the write throttle."""

    def decorate(view: Callable[..., Any]) -> Any:
        view = permission_classes([WriteScope])(throttle_classes([WriteThrottle])(view))
        return api_view(list(methods))(view)

    return decorate


_SPECIAL_EXAMPLE = {
    "store_id": _STORE,
    "date": "2023-12-24",
    "closed": False,
    "rows": [{"start_time_local": "09:00:00", "end_time_local": "14:00:00"}],
}


@extend_schema(
    operation_id="store_special_hours",
    summary="One store's special dates (holidays, special hours)",
    responses={200: StoreSpecialHoursSerializer, 404: _NOT_FOUND, 405: WRONG_METHOD},
    examples=[
        OpenApiExample(
            "Christmas closed",
            value={
                "store_id": _STORE,
                "special_hours": [
                    {
                        "date": "2023-12-25",
                        "closed": True,
                        "rows": [{"start_time_local": "", "end_time_local": ""}],
                    }
                ],
            },
        )
    ],
)
@api_view(["GET"])
def store_special_hours(request: Request, store_id: str) -> Response:
    dates = _found(lambda: calendar.special_dates(store_id, scope=request_scope(request)))
    return Response(
        StoreSpecialHoursSerializer({"store_id": store_id, "special_hours": dates}).data
    )


@extend_schema(
    methods=["PUT"],
    operation_id="store_special_date_set",
    parameters=[_DATE],
    summary="Set one store's hours on one local date (both times empty: closed)",
    request=SpecialHoursTimesSerializer(many=True),
    responses={
        200: StoreSpecialDateSerializer,
        400: error_answer("The date, the body or a row is invalid (why); nothing changed."),
        404: error_answer("No such path: the store id has a character no URL takes."),
        405: WRONG_METHOD,
        415: NOT_JSON,
    },
    examples=[
        OpenApiExample(
            "Christmas Eve 9 to 2",
            value={"start_time_local": "09:00", "end_time_local": "14:00"},
            request_only=True,
        ),
        OpenApiExample("Stored", value=_SPECIAL_EXAMPLE, response_only=True),
    ],
)
@extend_schema(
    methods=["DELETE"],
    operation_id="store_special_date_delete",
    parameters=[_DATE],
    summary="Remove one store's special hours on one date: its regular hours apply again",
    request=None,
    responses={
        204: OpenApiResponse(description="Removed."),
        400: error_answer("The date is not YYYY-MM-DD (why)."),
        404: _NOT_FOUND,
        405: WRONG_METHOD,
    },
)
@_writes("PUT", "DELETE")
def store_special_date(request: Request, store_id: str, date: str) -> Response:
    if request.method == "DELETE":
        _found(lambda: calendar.special_date_delete(store_id, date, scope=request_scope(request)))
        return Response(status=204)
    try:
        stored = calendar.special_date_set(
            store_id, date, request.data, scope=request_scope(request)
        )
    except StoreEditError as error:
        raise ParseError(str(error)) from None
    except calendar.CalendarNotFoundError as error:  # another organization's store
        raise NotFound(str(error)) from None
    return Response(
        StoreSpecialDateSerializer({"store_id": store_id.strip(), **_date(stored)}).data
    )


@extend_schema(
    methods=["GET"],
    operation_id="exclusions",
    summary="Exclusions: periods that count neither as uptime nor as downtime",
    parameters=[ExclusionQuerySerializer],
    responses={200: ExclusionListSerializer, 400: INVALID, 404: _NOT_FOUND, 405: WRONG_METHOD},
    examples=[
        OpenApiExample(
            "The night the poller broke",
            value={
                "total": 1,
                "exclusions": [
                    {
                        "id": 1,
                        "store_id": "*",
                        "start_utc": "2023-01-25T02:00:00+00:00",
                        "end_utc": "2023-01-25T05:00:00+00:00",
                        "reason": "the poller was down",
                    }
                ],
            },
        )
    ],
)
@extend_schema(
    methods=["POST"],
    **rows_schema(
        "ingest_exclusions",
        "Add exclusions (* for every store)",
        ExclusionRowSerializer,
        EXCLUSION_ROWS,
    ),
)
@api_view(["GET", "POST"])
@permission_classes([ReadOrWriteScope])
@throttle_classes([ReadOrWriteThrottle])
@parser_classes(ROWS_PARSERS)
def exclusions(request: Request) -> Response:
    if request.method == "POST":
        return ingest_rows(request, exclusions_import)
    query = valid_query(ExclusionQuerySerializer, request)
    page = _found(lambda: calendar.exclusions_list(scope=request_scope(request), **query))
    return Response(ExclusionListSerializer(page).data)


exclusions = own_body_limit(exclusions)


@extend_schema(
    operation_id="exclusion_delete",
    summary="Remove an exclusion",
    request=None,
    responses={204: OpenApiResponse(description="Removed."), 404: _NOT_FOUND, 405: WRONG_METHOD},
)
@_writes("DELETE")
def exclusion(request: Request, exclusion_id: int) -> Response:
    _found(lambda: calendar.exclusion_delete(exclusion_id, scope=request_scope(request)))
    return Response(status=204)


def _found(read: Callable[..., Any], *args: Any) -> Any:
    try:
        return read(*args)
    except calendar.CalendarNotFoundError as error:
        raise NotFound(str(error)) from None
    except StoreEditError as error:  # a malformed date in the path
        raise ParseError(str(error)) from None


def _date(special: SpecialDate) -> dict[str, Any]:
    return {"date": special.date, "closed": special.closed, "rows": special.rows}
