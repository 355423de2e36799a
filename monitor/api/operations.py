"""What operators and their tools call: the probes (Kubernetes style) and the metrics."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import resolve
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
from monitor.api.access import request_scope
from monitor.api.endpoints import error_answer
from monitor.services.readiness import dependencies_failing
from monitor.services.workers import queue_workers

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
    description="The whole platform's figures: platform keys only.",
    responses={
        (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR),
        (403, "application/json"): error_answer("An organization's key."),
    },
)
@api_view(["GET"])
@throttle_classes([])
def metrics(request: Request) -> HttpResponse:
    request_scope(request).require_platform("/metrics")
    workers = queue_workers()
    text = metrics_export.exposition(
        live_workers=workers.live, queue_last_served=workers.last_served
    )
    return HttpResponse(text, content_type=metrics_export.CONTENT_TYPE)


# Answered whatever the Host header: orchestrators and Prometheus call them by
# the pod's or the machine's address, which DJANGO_ALLOWED_HOSTS does not list.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ProbesMiddleware:
    """Serves the probes and the metrics before anything checks the Host header.

    Django checks the Host against ALLOWED_HOSTS in the middleware below this
    one (CommonMiddleware, the HTTPS redirect); these views build no URL from
    the Host, so it cannot be abused through them. /metrics still needs a key.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in PROBE_PATHS:
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match  # the metrics middleware names the route by it
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        render = getattr(response, "render", None)
        return render() if callable(render) else response
