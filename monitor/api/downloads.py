"""A finished report's CSV as an HTTP download: cacheable, conditional, gzipped.

A Complete report never changes (services.jobs writes a report only while it
is Running), and its id is random and never reused. So the pair (report id,
form) identifies the bytes for good: that is the ETag, clients and caches may
keep the CSV as long as they like, and a matching `If-None-Match` gets a 304.

Gzip is worth it (a CSV shrinks to about a third) but costs far more CPU than
serving the stored text, so each worker process keeps the compressed bodies
of the reports it served last (compression is deterministic: every process
makes the same bytes). There is nothing secret in a report for a compression
side channel (BREACH) to reveal, and nothing of the request is echoed in it.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from monitor.models import Report

# private: with API keys on, a shared cache must not hand a report to a caller
# without a key. A year, as for any immutable resource.
CACHE_CONTROL = "private, max-age=31536000, immutable"
# Bounds the memory the compressed bodies take in each process.
GZIP_CACHE_BYTES = 64 * 1024 * 1024


def csv_download(request: HttpRequest, report: Report, *, percent: bool) -> HttpResponseBase:
    """The Complete `report`'s CSV (or 304), with an ETag and caching headers,
    gzipped when the client accepts it."""
    form = "percent" if percent else "absolute"
    etag = f'"{report.report_id}-{form}"'
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{report.report_id}.csv"'
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

    def csv() -> bytes:
        # The form's column alone is read here (services.jobs.report_get defers
        # both), and only when the gzip cache lacks it.
        return (report.result_percent_csv if percent else report.result_csv).encode()

    if gzipped:
        response["Content-Encoding"] = "gzip"
        response.content = _gzip_cache.get(etag, csv)
    else:
        response.content = csv()
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


class GzipCache:
    """Compressed bodies by ETag, least recently used dropped first, at most
    `limit` bytes in all. Two first requests may both compress: harmless."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str, body: Callable[[], bytes]) -> bytes:
        """The compressed `body()`, which is called only when it is not cached."""
        with self._lock:
            compressed = self._bodies.get(etag)
            if compressed is not None:
                self._bodies.move_to_end(etag)
                return compressed
        # mtime=0: the same bytes from every process, so the ETag holds across them.
        compressed = gzip.compress(body(), compresslevel=6, mtime=0)
        with self._lock:
            if etag not in self._bodies and len(compressed) <= self._limit:
                self._bodies[etag] = compressed
                self._size += len(compressed)
                while self._size > self._limit:
                    self._size -= len(self._bodies.popitem(last=False)[1])
        return compressed


_gzip_cache = GzipCache(GZIP_CACHE_BYTES)
