"""What the API's views share: their error answers in the schema, and reading a query string."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.serializers import ErrorSerializer


def error_answer(description: str) -> OpenApiResponse:
    """An error answer in the schema: the body {"error": …}, and when it comes."""
    return OpenApiResponse(ErrorSerializer, description=description)


# The error answers many operations share.
INVALID = error_answer('{"error": "<what went wrong>"}')
WRONG_METHOD = error_answer("Wrong method (see Allow).")
NOT_JSON = error_answer("The body is not JSON.")
NO_ORGANIZATION = error_answer(
    "?organization= names no organization the caller knows (an organization's key "
    "knows only itself)."
)


def valid_query(serializer: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The query string's values, validated by `serializer`; a 400 {"error": …} if invalid."""
    query = serializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    values: dict[str, Any] = query.validated_data
    return values


def query_view(
    *, query: type[serializers.Serializer[Any]], responses: dict[int, Any], **schema: Any
) -> Callable[[Callable[..., Response]], Any]:
    """A GET view called with its query string validated by `query` (after the
    request), documented with `query`'s fields and the 400 and 405 it answers:
    what is documented is what is read."""

    def decorate(view: Callable[..., Response]) -> Any:
        @wraps(view)
        def read_query(request: Request, *args: Any, **kwargs: Any) -> Response:
            return view(request, valid_query(query, request), *args, **kwargs)

        documented = extend_schema(
            parameters=[query],
            responses={**responses, 400: INVALID, 405: WRONG_METHOD},
            **schema,
        )
        return documented(api_view(["GET"])(read_query))

    return decorate
