"""The one place that picks where jobs run: the job queue seam.

Services hand their jobs (monitor.jobqueue.base.Job) to `current()` and never
ask which back-end it is, as they never ask which database `monitor.db`
speaks to. With CELERY_BROKER_URL set, Celery (monitor.tasks, the
only module of the app that imports Celery: the tasks a worker runs and the
sending of them); without it, a small pool of threads of this process
(monitor.jobqueue.embedded, the embedded set-up). What each back-end means for
a report's job, and which faults each handles, is in docs/architecture.md.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.utils import timezone

from monitor.jobqueue.base import Job, JobQueue, QueueUnavailableError
from monitor.jobqueue.embedded import EmbeddedQueue, Ticker
from monitor.services.report_retention import reports_prune_if_due

__all__ = [
    "Job",
    "JobQueue",
    "QueueUnavailableError",
    "current",
    "embedded",
    "start_periodic",
]

# Jobs an embedded queue held before this were queued by another (stopped)
# process: this one's embedded queue queues them again (Job.left_queued).
PROCESS_STARTED = timezone.now()
# The notifications' catch-up runs this often (as beat's schedule says).
CATCH_UP_INTERVAL_SECONDS = 60.0


def current() -> JobQueue:
    """The queue of this process's jobs: Celery's when a broker is set, else the embedded one."""
    if settings.CELERY_BROKER_URL:
        # Imported here: the Celery module holds the tasks, which import the services.
        from monitor.tasks import CeleryQueue

        return CeleryQueue()
    return embedded()


class _Embedded:
    lock = threading.Lock()
    queue: EmbeddedQueue | None = None
    tickers: list[Ticker] = []


def embedded() -> EmbeddedQueue:
    """This process's embedded queue, made on first use (after a server's fork)."""
    with _Embedded.lock:
        if _Embedded.queue is None:
            # The embedded set-up has no Celery beat: retention runs between jobs.
            _Embedded.queue = EmbeddedQueue(
                threads=settings.REPORT_EMBEDDED_THREADS,
                process_started=PROCESS_STARTED,
                between_jobs=reports_prune_if_due,
            )
        return _Embedded.queue


def start_periodic() -> None:
    """In a web process of the embedded set-up (store_monitoring.wsgi): run the
    periodic jobs that Celery beat runs with a broker (settings.CELERY_BEAT_SCHEDULE),
    on the embedded queue's threads: the incidents' evaluation, every
    ALERT_EVALUATE_INTERVAL_SECONDS, and the notifications' catch-up, every
    minute. Once per process; nothing with a broker."""
    if settings.CELERY_BROKER_URL:
        return
    # Imported here: these services import this package.
    from monitor.services import incidents, notifications

    queue = embedded()
    with _Embedded.lock:
        if not _Embedded.tickers:
            _Embedded.tickers = [
                queue.every(
                    incidents.EVALUATE,
                    incidents.EVERY_STORE,
                    settings.ALERT_EVALUATE_INTERVAL_SECONDS,
                ),
                queue.every(notifications.CATCH_UP, 0, CATCH_UP_INTERVAL_SECONDS),
            ]
