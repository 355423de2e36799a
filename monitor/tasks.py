"""The Celery back-end of the job queue (monitor.jobqueue): the tasks a worker
(`celery -A store_monitoring worker`) runs, and the queue that sends them. The
only module of the app that imports Celery.

Every job (monitor.jobqueue.base.Job) is a task of the job's name, a thin
wrapper around its service function. docs/architecture.md says what a
redelivery, a retry and the visibility timeout mean for a report.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import redis
from celery import Task, current_app, group, shared_task
from celery.signals import task_received, worker_ready, worker_shutting_down
from celery.worker import state
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from monitor.jobqueue.base import Job, Key, QueueUnavailableError
from monitor.services import (
    incidents,
    notifications,
    poll_retention,
    report_parts,
    report_retention,
    workers,
)
from monitor.services.report_attempts import DATABASE_UNREACHABLE

# The project's Celery app, made before the tasks below so that they bind to it.
from store_monitoring.celery import app as _app  # noqa: F401

logger = logging.getLogger(__name__)

# The broker must answer a readiness check within this; a stopped (SIGSTOP)
# Redis accepts the connection and then says nothing.
BROKER_TIMEOUT_SECONDS = 1.0


class CeleryQueue:
    """The JobQueue of a set-up with a broker (CELERY_BROKER_URL)."""

    may_refuse = True
    fans_out = True

    def send(self, job: Job[Key], key: Key, *, delay_seconds: float = 0) -> None:
        # Bounded: the broker's timeouts and publish retries (settings) make
        # a dead or hung Redis an error within about 2 s. A delay is Celery's
        # countdown: a worker takes the task at once and holds it until then,
        # so a delay past the visibility timeout may see it delivered twice.
        countdown = delay_seconds if delay_seconds > 0 else None
        self._publish(job, lambda: current_app.send_task(job.name, args=[key], countdown=countdown))

    def run_each(self, job: Job[Key], keys: Sequence[Key]) -> None:
        if keys:
            # A plain group: no result backend, no chord (docs/architecture.md).
            signatures = (current_app.signature(job.name, args=[key]) for key in keys)
            self._publish(job, lambda: group(signatures).apply_async())

    def holds(self, job: Job[Key], key: Key) -> bool:
        return False  # Redis is not asked: reads never wait on the broker

    def position(self, job: Job[Key], key: Key) -> int | None:
        return None

    def last_served(self) -> datetime | None:
        return workers.workers_seen(timezone.now()).last_served

    def live_workers(self) -> int:
        return workers.workers_seen(timezone.now()).live

    def answers(self) -> bool:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
        )
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            logger.warning("readiness: the broker does not answer", exc_info=True)
            return False
        finally:
            client.close()

    @staticmethod
    def _publish(job: Job[Any], publish: Callable[[], object]) -> None:
        try:
            publish()
        except Exception as error:
            # The details (the broker's address) go to the log only.
            logger.error("%s: the job queue refused the job: %r", job.name, error)
            raise QueueUnavailableError(job.name) from error


# A job that met a database that does not answer (DATABASE_UNREACHABLE) is
# tried again, its delay doubling from 1 s up to this, for as long as any report
# could still wait on it (REPORT_QUEUE_TIMEOUT, longer than the stale timeout):
# a part given up during an outage left its report waiting on a job that no
# queue held. Each try claims the job anew once the database answers, and stops
# there if the report ended meanwhile. Any other database error: a few tries.
RETRY_DELAY_MAX_SECONDS = 30
OTHER_DATABASE_ERROR_RETRIES = 5


def retry_delay(retries: int) -> int:
    """Seconds before try number `retries` + 2: 1, 2, 4, 8, 16, then 30 each."""
    return int(min(2 ** min(retries, 16), RETRY_DELAY_MAX_SECONDS))


def retries_lasting(seconds: int) -> int:
    """The number of retries whose delays add up to at least `seconds`."""
    retries, waited = 0, 0
    while waited < seconds:
        waited += retry_delay(retries)
        retries += 1
    return retries


def job_task(job: Job[Key]) -> Task[[Key], None]:
    """The task that runs `job`.

    Acknowledged only once the job returns, and handed back to the queue
    when the worker process running it dies (CELERY_TASK_ACKS_LATE and
    CELERY_TASK_REJECT_ON_WORKER_LOST in the settings): a killed worker's job
    is redelivered, which the attempt protocol makes harmless. A database
    error that escaped the job (claiming its attempt, losing the database
    mid-part, finishing the report) sends it again, with backoff (above): a
    task that raised is acknowledged, and nothing else would run it again.
    """

    def run(task: Task[[Key], None], key: Key) -> None:
        retries = task.request.retries
        try:
            job.run(key)
        except DATABASE_UNREACHABLE as error:
            if retries >= retries_lasting(settings.REPORT_QUEUE_TIMEOUT):
                raise
            logger.warning("%s %s: the database does not answer; trying again", job.name, key)
            raise task.retry(exc=error, countdown=retry_delay(retries)) from error
        except DatabaseError as error:
            if retries >= OTHER_DATABASE_ERROR_RETRIES:
                raise
            raise task.retry(exc=error, countdown=retry_delay(retries)) from error

    task: Task[[Key], None] = shared_task(
        name=job.name, bind=True, ignore_result=True, max_retries=None
    )(run)
    return task


report_run_task = job_task(report_parts.REPORT_RUN)
report_part_run_task = job_task(report_parts.PART_RUN)
notifications_dispatch_task = job_task(notifications.DISPATCH)
notification_deliver_task = job_task(notifications.DELIVER)
# Run by Celery beat every minute: the deliveries' safety net.
notifications_catch_up_task = job_task(notifications.CATCH_UP)


# Run by `celery -A store_monitoring beat` every REPORT_RETENTION_INTERVAL_SECONDS.
@shared_task(name="monitor.reports_prune", ignore_result=True)
def reports_prune_task() -> int:
    return report_retention.reports_prune()


# Run by Celery beat every ALERT_EVALUATE_INTERVAL_SECONDS: what time alone changes
# (no retries: the next run comes soon).
@shared_task(name=incidents.EVALUATE.name, ignore_result=True)
def incidents_evaluate_task(key: str) -> None:
    incidents.EVALUATE.run(key)


# Run by Celery beat on PRUNE_POLLS_CRON when PRUNE_POLLS_OLDER_THAN_DAYS is set.
@shared_task(name="monitor.polls_prune", ignore_result=True)
def polls_prune_task(older_than_days: int) -> int:
    cutoff = poll_retention.prune_cutoff(older_than_days)
    pruned = poll_retention.polls_prune(cutoff=cutoff)
    logger.info(
        "pruned %d polls taken before %s; kept the last one of %d stores",
        pruned.deleted,
        pruned.horizon.isoformat(),
        pruned.kept,
    )
    return pruned.deleted


# ---- the worker's watchdog and heartbeat ------------------------------------------------------
#
# kombu's Redis transport can stop consuming after Redis pauses in the middle of
# a task (a known Celery and kombu failure: "Couldn't ack"): the worker still
# answers `inspect ping`, but takes no job, and reports wait for the queue
# timeout. The worker watches itself, in a thread of its main process: when it
# has not served its queue (below) for WORKER_STALL_SECONDS, it exits for its
# supervisor to start it again (its unacknowledged jobs go back to the queue
# after the visibility timeout).
#
# Another thread beats into the database (services.workers) every few seconds:
# the web processes read there whether any worker serves the queue, and how
# many are alive, without asking the broker.

STALLED_EXIT_STATUS = 70  # EX_SOFTWARE


class _Activity:
    """When this worker last received a job (or became ready)."""

    at = time.monotonic()


@task_received.connect
def _job_received(**_: Any) -> None:
    _Activity.at = time.monotonic()


@worker_ready.connect
def _watch_consumption(sender: Any, **_: Any) -> None:
    _Activity.at = time.monotonic()
    concurrency = sender.controller.concurrency
    threads: list[tuple[Callable[..., None], str, tuple[Any, ...]]] = [
        (_beat, "worker-beat", (sender.hostname, concurrency))
    ]
    if settings.WORKER_STALL_SECONDS > 0:
        threads.append((_watch, "stall-watchdog", (concurrency,)))
    for target, name, args in threads:
        thread = threading.Thread(target=target, args=args, name=name)
        thread.daemon = True
        thread.start()


@worker_shutting_down.connect
def _stopping(sender: str, **_: Any) -> None:
    """Counted live no more at once (sender: the worker's node name)."""
    try:
        workers.worker_stopped(sender)
    except DatabaseError:
        logger.warning("worker beat: the database did not take the worker's stop", exc_info=True)
    finally:
        connections.close_all()


def _broker_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )


def _watch(concurrency: int) -> None:
    stall = settings.WORKER_STALL_SECONDS
    queue = current_app.conf.task_default_queue
    client = _broker_client()
    while True:
        time.sleep(min(stall / 4, 10.0))
        if _stalled(client, queue, concurrency, stall):
            logger.critical(
                "worker stalled: jobs wait in queue %r, the pool has room, and none was "
                "received for %d s (the broker connection no longer consumes); exiting "
                "for the supervisor to restart the worker",
                queue,
                stall,
            )
            logging.shutdown()
            os._exit(STALLED_EXIT_STATUS)


def _beat(hostname: str, concurrency: int) -> None:
    queue = current_app.conf.task_default_queue
    client = _broker_client()
    last = time.monotonic() - workers.beat_seconds()
    while True:
        now = time.monotonic()
        served = _serving(client, queue, concurrency, since=last) is True
        last = now
        try:
            workers.worker_beat(hostname, served=served, now=timezone.now())
        except DatabaseError:
            logger.warning("worker beat: the database did not take it", exc_info=True)
        finally:
            # Django's connections are per thread; the next beat opens its own.
            connections.close_all()
        time.sleep(workers.beat_seconds())


def _stalled(client: redis.Redis, queue: str, concurrency: int, stall: int) -> bool:
    return _serving(client, queue, concurrency, since=time.monotonic() - stall) is False


def _serving(client: redis.Redis, queue: str, concurrency: int, *, since: float) -> bool | None:
    """Whether this worker has served `queue` since `since` (monotonic): received
    a job, or has every pool process busy (taking nothing is right), or has no
    job waiting. None: the broker does not answer, so nobody can tell (kombu
    reconnects by itself meanwhile)."""
    if _Activity.at >= since:
        return True
    if len(state.active_requests) >= concurrency:
        return True
    try:
        waiting = int(client.llen(queue))
    except (redis.RedisError, OSError):
        return None
    return waiting == 0
