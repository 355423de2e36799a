"""The incidents API (docs/report-semantics.md §11): the incidents listed, and one.

Plain function views over monitor.services.incident_reads, with the defaults of
every read (a read key, the read throttle). An incident reads exactly as every
notification carries it: services.incidents.incident_document.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import narrowed_scope, request_scope
from monitor.api.endpoints import WRONG_METHOD, error_answer, query_view
from monitor.api.serializers import AsOfField
from monitor.api.store_serializers import InstantField, KnownQuerySerializer
from monitor.models import Incident
from monitor.services import incident_reads
from monitor.services.incidents import incident_document
from monitor.services.stores import MAX_LIMIT, MAX_OFFSET

_NOT_FOUND = error_answer("No incident has this id (or it is of another organization's store).")
_LIST_NOT_FOUND = error_answer(
    "?store_id= names no store the caller sees, or ?organization= no organization it knows."
)
_EXAMPLE = {
    "id": 42,
    "store_id": "8419537941919820732",
    "status": "resolved",
    "started_at": "2023-01-25T17:30:00+00:00",
    "ended_at": "2023-01-25T18:10:00+00:00",
    "duration_seconds": 2400.0,
    "started_at_local": "2023-01-25T11:30:00-06:00",
    "ended_at_local": "2023-01-25T12:10:00-06:00",
    "timezone": "America/Chicago",
}


class IncidentSerializer(serializers.Serializer[Incident]):
    id = serializers.IntegerField(help_text="GET /api/monitor/incidents/<id> reads it alone.")
    store_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=incident_reads.STATUSES, help_text="open until the outage ends."
    )
    started_at = InstantField(
        help_text="UTC: the outage's start (§8), a midpoint, never before the store's first "
        "poll; truncated to the microsecond."
    )
    ended_at = InstantField(allow_null=True, help_text="UTC; null while open.")
    duration_seconds = serializers.FloatField(
        allow_null=True, help_text="The exact length, in seconds; null while open."
    )
    started_at_local = InstantField(
        help_text="The start in the store's time zone, with its offset."
    )
    ended_at_local = InstantField(allow_null=True, help_text="null while open.")
    timezone = serializers.CharField(help_text="The store's zone (America/Chicago if none stored).")

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        return incident_document(instance)


class IncidentListSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="Incidents matching the query, over every page.")
    incidents = IncidentSerializer(many=True, help_text="Open first, then the latest start first.")


class IncidentQuerySerializer(KnownQuerySerializer):
    store_id = serializers.CharField(
        required=False,
        trim_whitespace=False,
        validators=[RegexValidator(r"^[^\x00]*$", message="a NUL character is not allowed")],
        help_text="Only this store's incidents (404 when the caller sees no such store).",
    )
    status = serializers.ChoiceField(
        choices=incident_reads.STATUSES,
        required=False,
        help_text="Only the open ones, or only the resolved ones.",
        error_messages={
            "invalid_choice": f'"{{input}}" is not a valid choice: use one of '
            f"{', '.join(incident_reads.STATUSES)}"
        },
    )
    since = AsOfField(
        required=False,
        help_text="Only incidents not ended by this instant (open ones never have): with "
        "until, those overlapping [since, until). UTC when no offset is given.",
    )
    until = AsOfField(required=False, help_text="Only incidents begun before this instant.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)
    organization = serializers.SlugField(
        required=False,
        help_text="Only this organization's stores' incidents (a platform key's filter; an "
        "organization's key sees its own whatever this says, and no others).",
    )


@query_view(
    operation_id="incidents",
    summary="Incidents: stores' outages as they happened, open ones first",
    description="An incident is an outage of business time (report semantics §8, §10) told "
    "live (§11). since and until keep those overlapping the window: an incident that began "
    "before since and ended after it is listed. Paged like /stores (total, limit, offset).",
    query=IncidentQuerySerializer,
    responses={200: IncidentListSerializer, 404: _LIST_NOT_FOUND},
    examples=[
        OpenApiExample(
            "One resolved", value={"total": 1, "incidents": [_EXAMPLE]}, response_only=True
        )
    ],
)
def incident_list(request: Request, query: dict[str, Any]) -> Response:
    scope = narrowed_scope(request, query.pop("organization", None))
    try:
        listed = incident_reads.incidents_list(scope=scope, **query)
    except incident_reads.IncidentNotFoundError as error:
        raise NotFound(str(error)) from None
    except incident_reads.IncidentQueryError as error:  # since not before until
        raise ValidationError(str(error)) from None
    return Response(IncidentListSerializer(listed).data)


@extend_schema(
    operation_id="incident",
    summary="One incident",
    responses={200: IncidentSerializer, 404: _NOT_FOUND, 405: WRONG_METHOD},
    examples=[OpenApiExample("Resolved", value=_EXAMPLE, response_only=True)],
)
@api_view(["GET"])
def incident_detail(request: Request, incident_id: int) -> Response:
    try:
        incident = incident_reads.incident_get(incident_id, scope=request_scope(request))
    except incident_reads.IncidentNotFoundError as error:
        raise NotFound(str(error)) from None
    return Response(IncidentSerializer(incident).data)
