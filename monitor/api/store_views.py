"""The store API: one store's story (its report row, outages, timeline) and the store list.

Plain function views over monitor.services.stores. Authentication and
permissions are the project's defaults (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.serializers import ErrorSerializer
from monitor.api.store_serializers import (
    StoreListQuerySerializer,
    StoreListSerializer,
    StoreQuerySerializer,
    StoreStorySerializer,
)
from monitor.services import stores

_ERROR = OpenApiResponse(ErrorSerializer, description='{"error": "<what went wrong>"}')


@extend_schema(
    operation_id="stores",
    summary="Stores: id, zone, last poll and polls in the last week",
    parameters=[StoreListQuerySerializer],
    responses={200: StoreListSerializer, 400: _ERROR, 405: _ERROR},
)
@api_view(["GET"])
def store_list(request: Request) -> Response:
    query = StoreListQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    listed = stores.stores_list(**query.validated_data)
    return Response(StoreListSerializer(listed).data)


@extend_schema(
    operation_id="store",
    summary="A store's story: its report figures, outages, status segments and polls",
    description="The figures are the report CSV's cells for this store and instant; the "
    "outages' exact lengths add up to its downtime (spec §8). A store with no poll at or "
    "before as_of answers reported=false and no figures.",
    parameters=[StoreQuerySerializer],
    responses={200: StoreStorySerializer, 400: _ERROR, 404: _ERROR, 405: _ERROR},
)
@api_view(["GET"])
def store_detail(request: Request, store_id: str) -> Response:
    query = StoreQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    try:
        story = stores.store_story(store_id, query.validated_data.get("as_of"))
    except stores.StoreNotFoundError as error:
        raise NotFound(str(error)) from error
    return Response(StoreStorySerializer(story).data)
