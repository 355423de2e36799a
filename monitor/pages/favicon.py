"""`/favicon.ico`: the pages' icon where a browser looks for it by default.

The pages link their SVG icon (base.html); browsers still ask for /favicon.ico
on every other answer (the API's JSON, a CSV, Swagger UI's own page), and
without it each asked for a 404 that filled the log. The same icon as ICO,
from the app's static files: no CDN.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

ICON = Path(__file__).resolve().parent.parent / "static" / "monitor" / "favicon.ico"


@cache
def _icon() -> bytes:
    return ICON.read_bytes()


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_icon(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
