"""The store API: one store's story (its report row, outages, timeline) and the store list.

Plain function views over monitor.services.stores. Authentication and
permissions are the project's defaults (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.endpoints import error_answer, query_view
from monitor.api.store_serializers import (
    StoreListQuerySerializer,
    StoreListSerializer,
    StoreQuerySerializer,
    StoreStorySerializer,
)
from monitor.services import stores

_NO_STORE = error_answer("No store has this id.")


@query_view(
    operation_id="stores",
    summary="Stores: id, zone, last poll and polls in the last week",
    query=StoreListQuerySerializer,
    responses={200: StoreListSerializer},
)
def store_list(request: Request, query: dict[str, Any]) -> Response:
    return Response(StoreListSerializer(stores.stores_list(**query)).data)


@query_view(
    operation_id="store",
    summary="A store's story: its report figures, outages, status segments and polls",
    description="The figures are the report CSV's cells for this store and instant; the "
    "outages' exact lengths add up to its downtime (report semantics §8). A store with no "
    "poll at or before as_of answers reported=false and no figures.",
    query=StoreQuerySerializer,
    responses={200: StoreStorySerializer, 404: _NO_STORE},
)
def store_detail(request: Request, query: dict[str, Any], store_id: str) -> Response:
    try:
        story = stores.store_story(store_id, query.get("as_of"))
    except stores.StoreNotFoundError as error:
        raise NotFound(str(error)) from error
    return Response(StoreStorySerializer(story).data)
