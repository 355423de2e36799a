"""Request bodies of the ingestion endpoints: handed over as bytes, read within a size limit.

The ingestion services parse them (monitor.services.imports): a body is a file
sent over HTTP, and the same code reads both. A content type no parser here
accepts is answered 415 by DRF, listing these (see errors.exception_handler).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser

from monitor.services.imports import Body


class PayloadTooLargeError(APIException):
    status_code = 413
    default_code = "payload_too_large"


class RawBodyParser(BaseParser):
    """The body's bytes as a services.imports.Body, refused past INGEST_MAX_BYTES."""

    # request.data is whatever parse() returns; the stubs expect a mapping.
    def parse(  # type: ignore[override]
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Body:
        limit = settings.INGEST_MAX_BYTES
        too_large = PayloadTooLargeError(
            f"the body is over {limit:,} bytes, the most a request may send (INGEST_MAX_BYTES); "
            "nothing was loaded: send the rows in several requests"
        )
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        # Refused before reading when the length is declared: no 32 MB read for nothing.
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise too_large
        return Body(data, self.media_type, max_rows=settings.INGEST_MAX_ROWS)


class JsonBodyParser(RawBodyParser):
    media_type = "application/json"


class NdjsonBodyParser(RawBodyParser):
    media_type = "application/x-ndjson"


class CsvBodyParser(RawBodyParser):
    media_type = "text/csv"


ROWS_PARSERS = [JsonBodyParser, NdjsonBodyParser, CsvBodyParser]
