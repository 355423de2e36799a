"""Every error the API returns is one JSON object: {"error": "<what went wrong>"}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, JsonResponse
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status codes, Allow header on 405), with the body as {"error": …}."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        text = error_text(response.data)
        if isinstance(exc, UnsupportedMediaType):
            accepted = [parser.media_type for parser in context["request"].parsers]
            text += f" Send the body with Content-Type: {_one_of(accepted)}."
        response.data = {"error": text}
    return response


def error_text(detail: Any) -> str:
    """One line from DRF's error details: {"as_of": ["bad"]} → "as_of: bad"."""
    if isinstance(detail, dict):
        return "; ".join(_keyed(key, error_text(value)) for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(error_text(value) for value in detail)
    return str(detail)


def _keyed(key: str, text: str) -> str:
    return text if key in ("detail", "non_field_errors") else f"{key}: {text}"


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """Django's 400 (handler400), for the requests it refuses before they reach a view."""
    if isinstance(exception, DisallowedHost):
        host = request.META.get("HTTP_HOST", "")
        text = (
            f"this server does not answer to the host {host!r}: add it to DJANGO_ALLOWED_HOSTS "
            "(comma-separated names) or send a Host header that is already there"
        )
    else:
        text = f"bad request: {exception}"
    return JsonResponse({"error": text}, status=400)


def _one_of(names: list[str]) -> str:
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
