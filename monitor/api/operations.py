"""What operators and their tools call: the probes (Kubernetes style) and the metrics."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from monitor import metrics as metrics_export
from monitor.services.readiness import dependencies_failing

_STATUS = inline_serializer("ProbeStatus", {"status": serializers.CharField()})


# Probes need no key and are never throttled: an orchestrator calls them often.
@extend_schema(
    operation_id="healthz",
    tags=["operations"],
    summary="Liveness: 200 whenever the process serves requests",
    responses={200: _STATUS},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def healthz(request: Request) -> Response:
    return Response({"status": "ok"})


@extend_schema(
    operation_id="readyz",
    tags=["operations"],
    summary="Readiness: 200 when the database (and the broker, when one is set) answers",
    responses={
        200: _STATUS,
        503: OpenApiResponse(
            inline_serializer(
                "NotReady",
                {"error": serializers.CharField(), "failing": serializers.ListField()},
            ),
            description='{"error": "…", "failing": ["database", "broker"]}',
        ),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def readyz(request: Request) -> Response:
    failing = dependencies_failing()
    if failing:
        return Response(
            {"error": f"not ready: {' and '.join(failing)} not answering", "failing": failing},
            status=503,
        )
    return Response({"status": "ready"})


@extend_schema(
    operation_id="metrics",
    tags=["operations"],
    summary="Prometheus metrics (text format)",
    responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR)},
)
@api_view(["GET"])
@throttle_classes([])
def metrics(request: Request) -> HttpResponse:
    return HttpResponse(metrics_export.exposition(), content_type=metrics_export.CONTENT_TYPE)
