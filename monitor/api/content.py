"""What the API reads and writes: JSON bodies in, JSON (or a view's own CSV or text) out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

import orjson
from rest_framework.exceptions import NotAcceptable, ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class JSONParser(BaseParser):
    """orjson, which refuses nesting deeper than 1,024 levels with a parse error
    where the standard library's parser runs out of stack (RecursionError, a 500)."""

    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class JsonAnswers(DefaultContentNegotiation):
    """DRF's negotiation, except that an Accept header it cannot satisfy gets the
    view's first renderer (JSON) rather than a 406: the CSV and metrics views
    answer with their own HttpResponse, whatever Accept says."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            chosen: tuple[BaseRenderer, str] = super().select_renderer(
                request, renderers, format_suffix
            )
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
        return chosen
