"""The store API: one store's story (its report row, outages, timeline) and the store list.

Plain function views over monitor.services.stores. Authentication and
permissions are the project's defaults (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import narrowed_scope, request_scope
from monitor.api.endpoints import NO_ORGANIZATION, error_answer, query_view
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
    responses={200: StoreListSerializer, 404: NO_ORGANIZATION},
)
def store_list(request: Request, query: dict[str, Any]) -> Response:
    scope = narrowed_scope(request, query.pop("organization", None))
    return Response(StoreListSerializer(stores.stores_list(scope=scope, **query)).data)


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
        story = stores.store_story(store_id, query.get("as_of"), scope=request_scope(request))
    except stores.StoreNotFoundError as error:
        raise NotFound(str(error)) from error
    return Response(StoreStorySerializer(story).data)


READS = ("GET", "HEAD")


def edit_or_read(
    edit: Callable[..., HttpResponseBase], suffix: str
) -> Callable[..., HttpResponseBase]:
    """The view of stores/<id>/<suffix> (an edit of store <id>, by PUT): a read
    (GET, HEAD) there is of the store whose id is `<id>/<suffix>`, which
    store_detail's path cannot reach, as the edit's path comes first. So every
    store id has its URL, ids that end in /timezone or /business_hours too.

    It passes for the edit view itself (wraps copies its attributes: the DRF
    class the schema reads, its CSRF exemption): the schema documents the PUT,
    and the read is store_detail's, documented at stores/{store_id}.
    """

    @wraps(edit)
    def view(request: HttpRequest, store_id: str) -> HttpResponseBase:
        if request.method in READS:
            detail: HttpResponseBase = store_detail(request, store_id=f"{store_id}/{suffix}")
            return detail
        return edit(request, store_id=store_id)

    return view
