"""A finished report's CSV as an HTTP download: cacheable, conditional, gzipped.

A Complete report never changes (services.report_attempts writes a report only while it
is Running), and its id is random and never reused. So the pair (report id,
form) identifies the bytes for good: that is the ETag, clients and caches may
keep the CSV as long as they like, and a matching `If-None-Match` gets a 304.

Reading a CSV out of the database, and gzip (a CSV shrinks to about a
third), cost far more than sending the bytes, which never change: so each
worker process keeps the bodies it served last, plain and gzipped, by their
ETag (compression is deterministic: every process makes the same bytes). A
cached body costs a request the report's row alone. There is nothing secret
in a report for a compression side channel (BREACH) to reveal, and nothing
of the request is echoed in it.

A report of several parts (services.report_parts) is streamed part by part,
compressed on the fly when gzipped, so that a request holds one part's CSV
at a time; its body is collected for the cache only when it fits (all the
bodies being collected at once within the cache's bound).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from monitor.models import Report
from monitor.selectors import report_csv, report_csv_bytes, report_csv_chunks

# private: with API keys on, a shared cache must not hand a report to a caller
# without a key. A year, as for any immutable resource.
CACHE_CONTROL = "private, max-age=31536000, immutable"
# Bounds the memory the cached bodies take in each process.
BODY_CACHE_BYTES = 64 * 1024 * 1024
_LEVEL = 6
_GZIP_WBITS = 31  # zlib's gzip container


def csv_download(request: HttpRequest, report: Report, *, percent: bool) -> HttpResponseBase:
    """The Complete `report`'s CSV (or 304), with an ETag and caching headers,
    gzipped when the client accepts it."""
    form = "percent" if percent else "absolute"
    etag = f'"{report.report_id}-{form}"'
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # Each form its own name, as the pages give it: both can be saved side by side.
    suffix = "-percent" if percent else ""
    response["Content-Disposition"] = (
        f'attachment; filename="report-{report.report_id}{suffix}.csv"'
    )
    response["Cache-Control"] = CACHE_CONTROL
    assert report.finished_at is not None  # set with status Complete
    finished = int(report.finished_at.timestamp())  # HTTP dates are in whole seconds
    response["Last-Modified"] = http_date(finished)
    patch_vary_headers(response, ["Accept-Encoding"])
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    # The gzip form is another representation of the same content: a weak
    # ETag, as Django's GZipMiddleware gives it, which If-None-Match still matches.
    response["ETag"] = f"W/{etag}" if gzipped else etag
    conditional = get_conditional_response(
        request, etag=etag, last_modified=finished, response=response
    )
    if conditional is not response and conditional is not None:
        return conditional

    if gzipped:
        response["Content-Encoding"] = "gzip"
    cached = _body_cache.peek(response["ETag"])
    if cached is not None:
        response.content = cached
        return response
    # A plain HEAD reads no CSV: its length is known without it (a gzipped
    # one of a single part needs the compressed body, kept for the GET).
    if report.part_count > 1 or (request.method == "HEAD" and not gzipped):
        return _streamed(request, response, report, percent=percent)

    def csv() -> bytes:
        # The form's column alone is read here, and only when the cache lacks it.
        return report_csv(report, percent=percent).encode()

    def compressed() -> bytes:
        # mtime=0: the same bytes from every process, so the ETag holds across them.
        return gzip.compress(csv(), compresslevel=_LEVEL, mtime=0)

    response.content = _body_cache.get(response["ETag"], compressed if gzipped else csv)
    return response


def _streamed(
    request: HttpRequest, headers: HttpResponse, report: Report, *, percent: bool
) -> StreamingHttpResponse:
    """The CSV, part by part, with the headers of `headers`; a HEAD reads no part."""
    chunks: Iterable[bytes] = (
        chunk.encode() for chunk in report_csv_chunks(report, percent=percent)
    )
    gzipped = headers.has_header("Content-Encoding")
    size = report_csv_bytes(report, percent=percent)
    body = _body_cache.stream(
        headers["ETag"], _compressed(chunks) if gzipped else chunks, at_most=size
    )
    response = StreamingHttpResponse(() if request.method == "HEAD" else body)
    for name, value in headers.items():
        response[name] = value
    if not gzipped:  # the compressed size is known only once compressed
        response["Content-Length"] = str(size)
    return response


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip: named, or through `*`,
    with a weight above 0 (`gzip;q=0` refuses it)."""
    weights = {}
    for coding in accept_encoding.lower().split(","):
        name, _, parameters = coding.partition(";")
        weight = parameters.strip().removeprefix("q=") or "1"
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            weights[name.strip()] = 0.0
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False


class BodyCache:
    """Bodies by their ETag (a weak one for the gzipped form), least recently
    used dropped first, at most `limit` bytes in all. Two first requests may
    both make one: harmless."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._collecting = 0  # bytes reserved by the streams collecting a body
        self._lock = threading.Lock()

    def get(self, etag: str, body: Callable[[], bytes]) -> bytes:
        """The body of `etag`: `body()`, which is called only when it is not cached."""
        made = self.peek(etag)
        if made is None:
            made = body()
            self._keep(etag, made)
        return made

    def peek(self, etag: str) -> bytes | None:
        """The cached body, if any."""
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def stream(self, etag: str, chunks: Iterable[bytes], *, at_most: int) -> Iterator[bytes]:
        """`chunks` as they come, kept as the body of `etag` once complete if
        they fit `at_most` bytes (the plain CSV's size, which its gzipped form
        does not outgrow but for a tiny one) and, while being collected, the
        room the other streams collecting leave: all the bodies being
        collected at once hold at most `limit` bytes."""
        room = self._reserve(at_most)
        kept: list[bytes] | None = [] if room else None
        size = 0
        try:
            for piece in chunks:
                size += len(piece)
                if kept is not None and size <= room:
                    kept.append(piece)
                else:
                    kept = None  # too big to keep: streamed only
                if piece:
                    yield piece
            if kept is not None:
                self._keep(etag, b"".join(kept))
        finally:
            with self._lock:
                self._collecting -= room

    def _reserve(self, size: int) -> int:
        """`size` bytes of room for a body being collected; 0 when there is none."""
        with self._lock:
            if self._collecting + size > self._limit:
                return 0
            self._collecting += size
            return size

    def _keep(self, etag: str, body: bytes) -> None:
        with self._lock:
            if etag not in self._bodies and len(body) <= self._limit:
                self._bodies[etag] = body
                self._size += len(body)
                while self._size > self._limit:
                    self._size -= len(self._bodies.popitem(last=False)[1])


def _compressed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks` gzipped as they come: joined, the bytes of gzip.compress with
    mtime=0 (zlib's gzip header is the same)."""
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


_body_cache = BodyCache(BODY_CACHE_BYTES)
