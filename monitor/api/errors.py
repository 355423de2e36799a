"""Every error the API answers is one JSON object: {"error": "<what went wrong>"};
the pages answer theirs as an HTML page saying the same.

All of them are made here: DRF's exceptions (exception_handler), Django's own
error answers (the handler* views, which store_monitoring.urls installs), and
the few that arise outside any view (JsonErrorsMiddleware). Which form a
request gets depends on its path: the API's and the probes' (JSON_PATHS) get
JSON, every other path is a page's (a browser's). Bodies never carry
internals (SQL, paths, hosts, ports): the log has the details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404
from rest_framework.exceptions import PermissionDenied, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from monitor.scope import PlatformOnlyError

logger = logging.getLogger(__name__)

# Down, or (SQLite) held by an import past the busy timeout.
DATABASE_UNAVAILABLE = "the database is unavailable or busy; try again shortly"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, Allow on 405, Retry-After on 429), the body as {"error": …};
    an organization's call of a platform-only operation (monitor.scope) is a 403."""
    if isinstance(exc, PlatformOnlyError):
        exc = PermissionDenied(str(exc))
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


# The paths whose errors are JSON: the API, and the probes read by machines.
JSON_PATHS = ("/api/", "/healthz", "/readyz", "/metrics")
_PAGE_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    413: "Request too large",
    500: "Something went wrong",
    503: "Unavailable",
}


def error_response(status: int, text: str) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


def error_for(request: HttpRequest, status: int, text: str) -> HttpResponse:
    """The error as the request's path expects it: JSON for the API, a page otherwise."""
    if request.path_info.startswith(JSON_PATHS):
        return error_response(status, text)
    return page_error(status, text)


def page_error(status: int, text: str) -> HttpResponse:
    """A standalone HTML error page: renders without the database, a user or a session."""
    title = _PAGE_TITLES.get(status, "Error")
    html = render_to_string("monitor/failure.html", {"title": title, "text": text})
    return HttpResponse(html, status=status)


def body_too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_for(request, 413, f"the request body is larger than {limit:,} bytes")


ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])


def own_body_limit(view: ViewFunction) -> ViewFunction:
    """Marks a view whose parser enforces a body limit of its own (the data
    endpoints: INGEST_MAX_BYTES), so JsonErrorsMiddleware leaves its bodies alone."""
    view.own_body_limit = True  # type: ignore[attr-defined]  # read by JsonErrorsMiddleware
    return view


class JsonErrorsMiddleware:
    """Refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads them (413),
    and answers 503 when the database is unreachable, instead of a 500 (JSON for
    the API, a page for the pages: error_for)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        # DRF's parsers read the stream itself, which Django's own limit does not guard.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_for(request, 400, "Content-Length is not a number")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit and not getattr(view, "own_body_limit", False):
            return body_too_large(request)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("database unavailable: %s %s", request.method, request.path, exc_info=True)
            return error_for(request, 503, DATABASE_UNAVAILABLE)
        if isinstance(exception, RequestDataTooBig):
            return body_too_large(request)
        return None  # handler500


# Django's error views (store_monitoring.urls: handler400, handler403, handler404, handler500).


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (handler400), for the requests it refuses before they reach a view."""
    if isinstance(exception, DisallowedHost):
        host = request.META.get("HTTP_HOST", "")
        text = (
            f"this server does not answer to the host {host!r}: add it to DJANGO_ALLOWED_HOSTS "
            "(comma-separated names) or send a Host header that is already there"
        )
    else:
        text = f"bad request: {exception}"
    return error_for(request, 400, text)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_for(request, 403, "forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A view's Http404 says what is missing (a store, a report); the resolver's
    # (Resolver404, its argument a dict of what it tried) means the path itself.
    if isinstance(exception, Http404) and not isinstance(exception, Resolver404):
        reason = exception.args[0] if exception.args else ""
        if isinstance(reason, str) and reason:
            return error_for(request, 404, reason)
    return error_for(request, 404, f"no such path: {request.path[:200]}")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_for(request, 500, "internal server error; the server's log has the details")


def _one_of(names: list[str]) -> str:
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
