"""Prometheus metrics: what GET /metrics serves (monitor.api.operations).

Two kinds, chosen so that the figures are right with several web processes
and Celery workers:

- Events, counted where they happen: HTTP requests (each web process), report
  durations and queue waits (whichever process runs the job), rows imported
  (the import commands). With PROMETHEUS_MULTIPROC_DIR set, prometheus-client
  keeps each process's counts in files in that directory and a scrape adds
  up the files of every process on the machine, so two gunicorn workers and a
  Celery worker give one total; without it (the embedded set-up, one process)
  they live in this process's memory. Run the web processes, the workers and
  the import commands with the same directory, emptied before they start.
- State, read at scrape time: reports by status, from the database, the
  truth whichever process changed it; the job queue's live workers and when
  it was last served, from the queue (services.workers: Celery workers' beats
  in the database, or this process's job threads).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from monitor.models import Report


def ensure_multiprocess_dir() -> None:
    """Make PROMETHEUS_MULTIPROC_DIR if it is missing: prometheus-client writes a
    file there as soon as a metric is created (on import, below), so every
    command, `migrate` included, crashed when the variable was set first and the
    directory made later."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        return
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"PROMETHEUS_MULTIPROC_DIR={directory!r} cannot be created ({error.strerror}): "
            "create it, writable by every process of the service, or unset the variable"
        ) from None


ensure_multiprocess_dir()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Any other method is counted as "other": a client must not create series at will.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# This process's metrics (not prometheus-client's global registry, whose
# process and platform metrics would describe one process of several).
_EVENTS = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "store_monitoring_http_requests",
    "HTTP requests answered, by route (the URL pattern), method and status",
    ["route", "method", "status"],
    registry=_EVENTS,
)
http_request_duration = Histogram(
    "store_monitoring_http_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_EVENTS,
)
report_duration = Histogram(
    "store_monitoring_report_duration_seconds",
    "Time a report's job took from its start to Complete or Failed, by outcome",
    ["status"],
    buckets=(0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600),
    registry=_EVENTS,
)
report_queue_wait = Histogram(
    "store_monitoring_report_queue_wait_seconds",
    "Time from a report's trigger to the start of its job's first attempt",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 600),
    registry=_EVENTS,
)
rows_imported = Counter(
    "store_monitoring_rows_imported",
    "Rows stored by imports, by source (polls, business_hours, timezones)",
    ["source"],
    registry=_EVENTS,
)
rows_rejected = Counter(
    "store_monitoring_rows_rejected",
    "Invalid rows refused by imports, by source",
    ["source"],
    registry=_EVENTS,
)


def report_started(*, created_at: datetime, started_at: datetime) -> None:
    report_queue_wait.observe(max((started_at - created_at).total_seconds(), 0.0))


def report_finished(*, status: str, started_at: datetime, finished_at: datetime) -> None:
    report_duration.labels(status).observe(max((finished_at - started_at).total_seconds(), 0.0))


def import_counted(*, source: str, loaded: int, rejected: int) -> None:
    rows_imported.labels(source).inc(loaded)
    rows_rejected.labels(source).inc(rejected)


class _ReportsByStatus:
    """Reports stored, by status, counted in the database at each scrape."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "store_monitoring_reports", "Reports stored, by status", labels=["status"]
        )
        counts = dict(Report.objects.values_list("status").annotate(Count("pk")).order_by())
        for status in Report.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family


class _JobQueue:
    """The job queue's workers, as the queue tells them at each scrape."""

    def __init__(self, live_workers: int, last_served: datetime | None) -> None:
        self._live_workers = live_workers
        self._last_served = last_served

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "store_monitoring_workers_live",
            "Workers serving the job queue: Celery workers whose heartbeat is recent, or "
            "(embedded) this process's job threads",
            value=self._live_workers,
        )
        if self._last_served is not None:
            yield GaugeMetricFamily(
                "store_monitoring_job_queue_last_served_timestamp_seconds",
                "When a worker last served the job queue (took a job, was busy, or idle "
                "with none waiting), as Unix time",
                value=self._last_served.timestamp(),
            )


def exposition(*, live_workers: int, queue_last_served: datetime | None) -> bytes:
    """The Prometheus text of every process's events, of the database's state and
    of the job queue's workers (services.workers.queue_workers)."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_EVENTS)
    registry.register(_ReportsByStatus())
    registry.register(_JobQueue(live_workers, queue_last_served))
    return generate_latest(registry)


class RequestMetricsMiddleware:
    """Counts every answer by route, method and status, and times it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        # The pattern, not the path: one series per endpoint, whatever the ids.
        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        http_requests.labels(route, method, str(response.status_code)).inc()
        http_request_duration.labels(route).observe(time.perf_counter() - started)
        return response
