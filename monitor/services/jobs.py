"""Report jobs: a `Report` row is the job, its progress and its result.

`report_trigger` creates the row and hands the job over to the job queue
(monitor.jobqueue: Celery, or this process's threads) once the row is
committed. The job is `report_run`, which resolves the report's instant and
splits the report into parts, ranges of stores that are jobs of their own
(services.report_parts: on Celery spread over every worker); the last part
in completes the report.
Progress and the result are rows, so any process can read them. A trigger
for an instant that already has a Running or Complete report of the same
data reuses it instead (see report_trigger).

A job may run more than once for the same report: Celery redelivers a task
whose worker died (acks_late, reject_on_worker_lost), and Redis redelivers a
task still unacknowledged after the visibility timeout, even while its first
run goes on. Each start therefore claims the next attempt number under a row
lock, and every later write is a conditional UPDATE (`… WHERE status =
'Running' AND attempts = <mine>`): a finished report is never overwritten, and
of two runs of one report only the latest claimer writes.

A report waits in the queue (attempts 0, stage "queued", or "enqueuing"
while its Celery task is being published) until a job claims it; only
REPORT_QUEUE_TIMEOUT, long, fails it there: a backlog is not a fault. Once
started, a job that gives no sign of life for REPORT_STALE_AFTER_SECONDS has
been lost, unless one of its parts still waits in Celery's queue: then,
again, only REPORT_QUEUE_TIMEOUT fails it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from monitor import db, jobqueue, metrics, selectors
from monitor.db.base import LockWaitTimeoutError
from monitor.models import REPORT_ID_MAX_LENGTH, Report
from monitor.services import report_parts
from monitor.services.data_version import data_version_locked
from monitor.services.report_parts import (
    MAX_ATTEMPTS,
    QUEUE_UNREACHABLE,
    AttemptSupersededError,
    attempt_outcome,
    has_queued_part,
    report_fail,
)
from monitor.services.report_retention import report_kept_a_while
from monitor.services.reports import resolve_as_of

logger = logging.getLogger(__name__)

REPORT_ID_PATTERN = rf"[A-Za-z0-9_-]{{1,{REPORT_ID_MAX_LENGTH}}}"
_REPORT_ID = re.compile(REPORT_ID_PATTERN, re.ASCII)
# A queued report is reused while this young, or while the job queue knows it
# holds its job (the embedded one can tell; Redis is not asked).
QUEUED_REUSE_SECONDS = 60
# The stage of a new report until its job is published to a broker: the
# publish may still fail (see _dispatch). The embedded queue takes a job at once.
STAGE_ENQUEUING = "enqueuing"
STAGE_QUEUED = "queued"
# How long an identical trigger waits for such a publish, which gives up
# within about 2 s (see _dispatched), and how often it looks.
ENQUEUING_WAIT_SECONDS = 3.0
ENQUEUING_POLL_SECONDS = 0.02


class JobQueueUnavailableError(RuntimeError):
    """The job queue refused the job; the report has been marked Failed."""


@dataclass(frozen=True)
class Triggered:
    report: Report
    reused: bool  # an existing report of the same instant and data, not a new job


def report_trigger(*, as_of: datetime | None = None, force: bool = False) -> Triggered:
    """The report as of `as_of` (None: the latest poll, resolved now).

    A Running or Complete report of that instant triggered at the current
    data version is returned as it is (reused), unless `force`: nothing was
    imported since, so it is the report a new job would compute. Otherwise a
    new Running report is created and its job started.

    Raises JobQueueUnavailableError when the broker refuses the job (of this
    report, or of the identical one it would reuse).
    """
    # Before the version is locked: a bulk poll load holds the polls table
    # until it commits, and bumps the version last; the other order would
    # deadlock with it.
    resolved = as_of if as_of is not None else _latest_poll_unless_loading()
    with transaction.atomic():
        # Locked until commit: no import commits between reading the version
        # and storing it, and concurrent identical triggers take turns, so
        # the second one finds the first one's report.
        # None: an import is committing; this report is then new, never reused.
        version = data_version_locked()
        existing = None
        if not force and resolved is not None and version is not None:
            existing = _reusable(resolved, version)
        if existing is None:
            stage = STAGE_ENQUEUING if jobqueue.current().may_refuse else STAGE_QUEUED
            report = Report.objects.create(
                requested_as_of=as_of, as_of=resolved, data_version=version, stage=stage
            )
            # After commit only: a worker that picked the job up earlier would
            # not find the row yet.
            transaction.on_commit(lambda: _dispatch(report))
    if existing is None:
        return Triggered(report, reused=False)
    dispatched = _dispatched(existing)
    if dispatched is None:
        return report_trigger(as_of=as_of, force=True)
    return Triggered(dispatched, reused=True)


def _latest_poll_unless_loading() -> datetime | None:
    """The default as-of instant; None (the job resolves it) while a bulk poll
    load holds the polls table (PostgreSQL), so that a trigger never waits for
    an import: its report is then new, not reused. On SQLite a plain read:
    WAL readers never wait, and a transaction would take the write lock."""
    try:
        with db.current().lock_wait_at_most(1.0):
            return selectors.latest_poll_time()
    except LockWaitTimeoutError:
        logger.info("the polls table is being loaded: the report resolves its instant later")
        return None


def _reusable(as_of: datetime, version: int) -> Report | None:
    """The best live report of the instant and version: a Complete one first
    (its CSV is ready), else the newest one whose job is alive (_job_alive)."""
    candidates = Report.objects.filter(
        as_of=as_of,
        data_version=version,
        status__in=[Report.Status.RUNNING, Report.Status.COMPLETE],
    )
    newest = list(candidates.order_by("-created_at")[:20])
    lost = [report.report_id for report in newest if _is_lost(report)]
    if lost:
        reports_fail_stale(report_ids=lost)
    alive = [report for report in newest if report.report_id not in lost and _job_alive(report)]
    # min is stable: the newest of the Complete ones, else of the Running ones
    # whose job is in a queue, else of those still being published.
    return min(
        alive,
        key=lambda report: (report.status != Report.Status.COMPLETE, _enqueuing(report)),
        default=None,
    )


def _enqueuing(report: Report) -> bool:
    return report.attempts == 0 and report.stage == STAGE_ENQUEUING


def _dispatched(report: Report) -> Report | None:
    """`report` (reusable) once its job is in a queue; None when it will not
    do: it failed, or its publish took too long (its web process died, say).

    A report whose task is still being published is not reused at once: its
    publish may yet fail, and every identical trigger meanwhile would answer
    Running for a report about to fail. They wait for the publish (outside
    the version lock) and share its outcome: when the broker refused the job,
    JobQueueUnavailableError.
    """
    deadline = time.monotonic() + ENQUEUING_WAIT_SECONDS
    while _enqueuing(report):
        if report.status == Report.Status.FAILED:
            raise JobQueueUnavailableError(report.error)
        if time.monotonic() > deadline:
            return None
        time.sleep(ENQUEUING_POLL_SECONDS)
        report.refresh_from_db(fields=["status", "stage", "attempts", "error"])
    return None if report.status == Report.Status.FAILED else report


def _job_alive(report: Report) -> bool:
    """Whether a report not lost (_is_lost) will finish and stay: Complete and
    kept by retention a while, started, or
    queued where its job is known to wait. A queue can lose a job unseen (a
    web process's restart empties the embedded queue; a Redis restarted
    without persistence, Celery's), and reusing that report would pin every
    identical trigger to it until REPORT_QUEUE_TIMEOUT."""
    if report.status == Report.Status.COMPLETE:
        # Not one retention is about to delete: the caller would then get a 404.
        return report_kept_a_while(report)
    if report.attempts > 0:
        return True
    if jobqueue.current().holds(REPORT_RUN, report.report_id):
        return True
    # Just queued (or committed and not yet handed to the queue): Redis is not
    # asked, so a queued report older than this is not reused.
    return report.created_at >= timezone.now() - timedelta(seconds=QUEUED_REUSE_SECONDS)


def report_run(report_id: str) -> None:
    """Plan report `report_id` in parts and run them (the job, in any process):
    on Celery a task per part; without a broker here, one after another.

    Does nothing when the report is no longer Running, e.g. a redelivered task
    of a report that is already Complete. A redelivered job of a planned
    report plans it again: the earlier parts are replaced, and their jobs
    find nothing to write to.
    """
    attempt = report_attempt_start(report_id)
    if attempt is None:
        return
    job = f"report {report_id} attempt {attempt.number}"
    part_ids = attempt_outcome(job, attempt.fail, attempt.plan_parts)
    if part_ids is None:
        return
    report_parts.parts_dispatch(report_id, part_ids)


def report_attempt_start(report_id: str) -> ReportAttempt | None:
    """Claim the next attempt of a Running report; None when there is nothing to run.

    The row lock (SELECT … FOR UPDATE on PostgreSQL; on SQLite the write lock
    that BEGIN IMMEDIATE takes) makes the read-check-increment atomic, so two
    deliveries starting together never claim the same number.
    """
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            logger.warning("report %s does not exist: nothing to run", report_id)
            return None
        if report.status != Report.Status.RUNNING:
            logger.info("report %s is %s already: nothing to run", report_id, report.status)
            return None
        if report.attempts >= MAX_ATTEMPTS:
            report_fail(
                report_id,
                f"the report's job was started {report.attempts} times and its worker "
                "was lost each time; not trying again",
            )
            return None
        now = timezone.now()
        report.attempts += 1
        report.stage, report.heartbeat_at = "started", now
        report.started_at = report.started_at or now
        report.save(update_fields=["attempts", "stage", "heartbeat_at", "started_at"])
    if report.attempts == 1:
        metrics.report_started(created_at=report.created_at, started_at=now)
    as_of = report.as_of if report.as_of is not None else report.requested_as_of
    return ReportAttempt(report_id, report.attempts, as_of)


@dataclass(frozen=True)
class ReportAttempt:
    """One run of a report's job, which writes only while its claim holds.

    Each write raises AttemptSupersededError (fail: logs) when it matched no
    row: the report finished, failed, or a newer run claimed it.
    """

    report_id: str
    number: int
    as_of: datetime | None  # None: the latest poll

    def progress(self, stage: str, fraction: float) -> None:
        """Record the stage; stops the run once superseded."""
        progress = report_parts.progress_raised(fraction)
        if not self._write(stage=stage, progress=progress, heartbeat_at=timezone.now()):
            raise AttemptSupersededError(self.report_id)

    def plan_parts(self) -> list[int]:
        """Resolve the report's instant and plan its parts (plan); the parts' ids."""
        self.progress("planning", 0.0)
        as_of = resolve_as_of(self.as_of)
        return self.plan(as_of, selectors.store_ranges(settings.REPORT_SHARD_STORES))

    def plan(self, as_of: datetime, ranges: list[selectors.StoreRange]) -> list[int]:
        """Record the instant and create one part per range, in one
        transaction; the parts' ids, in order."""
        with transaction.atomic():
            if not self._write(
                as_of=as_of,
                part_count=len(ranges),
                rounds=0,
                stage="queued parts",
                heartbeat_at=timezone.now(),
            ):
                raise AttemptSupersededError(self.report_id)
            return report_parts.parts_create(self.report_id, ranges)

    def fail(self, error: str) -> None:
        if not report_fail(self.report_id, error, attempt=self.number):
            logger.info("report %s: failure of a superseded attempt dropped", self.report_id)

    def _write(self, **fields: Any) -> bool:
        # The conditional UPDATE is the compare-and-set of the module docstring.
        claimed = Report.objects.filter(
            pk=self.report_id, status=Report.Status.RUNNING, attempts=self.number
        )
        return claimed.update(**fields) == 1


def report_get(report_id: str) -> Report | None:
    """The report, with a lost job's report marked Failed first (see reports_fail_stale).

    Its CSV lives in its parts (services.report_parts.report_csv_chunks),
    read only by a download. An id that no report can have
    (see is_possible_report_id) is not looked up.
    """
    if not is_possible_report_id(report_id):
        return None
    report = Report.objects.filter(pk=report_id).first()
    if report is not None and _is_lost(report):
        reports_fail_stale(report_ids=[report_id])
        report.refresh_from_db()
    return report


def is_possible_report_id(report_id: str) -> bool:
    """Report ids are URL-safe base64 (models.new_report_id), at most the column's length.

    Checking this first keeps odd input (a NUL, which PostgreSQL cannot even
    compare, or 10,000 characters) away from the database.
    """
    return _REPORT_ID.fullmatch(report_id) is not None


def reports_recent(*, limit: int) -> list[Report]:
    """The `limit` latest reports, newest first, without their CSVs."""

    def latest() -> list[Report]:
        # Served by the report_created_idx index (ORDER BY created_at DESC LIMIT n).
        listed = Report.objects.order_by("-created_at")
        return list(listed[:limit])

    reports = latest()
    stale = [report.report_id for report in reports if _is_lost(report)]
    if stale:
        reports_fail_stale(report_ids=stale)
        reports = latest()
    return reports


def reports_fail_stale(*, report_ids: list[str] | None = None) -> int:
    """Mark Failed the Running reports whose job is lost (all of them, or those of `report_ids`):

    - started, then no sign of life for REPORT_STALE_AFTER_SECONDS (its
      worker was stopped or vanished, and nothing redelivered the job);
    - never started within REPORT_QUEUE_TIMEOUT (the queue lost the job, e.g.
      a broker restarted without persistence, or no worker runs), or no sign
      of life for as long while one of its parts waits in the queue.

    This runs lazily, whenever reports are read (report_get, reports_recent)
    or reused, rather than on a schedule: a report is never *seen* Running
    once its job is lost. The UPDATE re-checks status, attempts and heartbeat
    in its WHERE clause, so a job that starts, finishes or reports progress at
    the same moment is never overwritten: whichever write lands second
    matches no row.
    """
    stale = Report.objects.filter(_lost())
    if report_ids is not None:
        stale = stale.filter(pk__in=report_ids)
    return stale.update(
        status=Report.Status.FAILED,
        finished_at=timezone.now(),
        error=Case(
            When(
                _waits_in_queue(),
                then=Value(
                    f"no worker started the report's job within "
                    f"{settings.REPORT_QUEUE_TIMEOUT} s (the job queue lost it, or no "
                    "worker is running); trigger a new report"
                ),
            ),
            default=Value(
                f"the report's job gave no sign of life for "
                f"{settings.REPORT_STALE_AFTER_SECONDS} s (its worker was stopped or lost); "
                "trigger a new report"
            ),
        ),
    )


def report_queue_position(report: Report) -> int | None:
    """1 for the next report to start, when the queue can tell: the embedded
    one can; Redis is not asked, so that reads never wait on the broker."""
    if report.status != Report.Status.RUNNING or report.attempts:
        return None
    return jobqueue.current().position(REPORT_RUN, report.report_id)


def _lost() -> Q:
    """The one rule of lost jobs (see reports_fail_stale): how long a Running
    report's job may give no sign of life. A queued report's heartbeat is its
    creation time; a backlog is not a fault, so a report waiting in the queue,
    itself or one of its parts, has REPORT_QUEUE_TIMEOUT."""
    now = timezone.now()
    queue = now - timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT)
    stale = now - timedelta(seconds=settings.REPORT_STALE_AFTER_SECONDS)
    return Q(status=Report.Status.RUNNING) & (
        (_waits_in_queue() & Q(heartbeat_at__lt=queue))
        | (~_waits_in_queue() & Q(heartbeat_at__lt=stale))
    )


def _waits_in_queue() -> Q:
    """Queued itself, or one of its parts queued where parts wait behind
    other jobs (a queue that fans out): the embedded queue runs a report's
    parts one after another in its own thread, never behind a backlog."""
    if jobqueue.current().fans_out:
        return Q(attempts=0) | Q(has_queued_part())
    return Q(attempts=0)


def _is_lost(report: Report) -> bool:
    """_lost() for one report already read; asks the database only when its
    heartbeat is older than the shorter timeout."""
    shortest = min(settings.REPORT_STALE_AFTER_SECONDS, settings.REPORT_QUEUE_TIMEOUT)
    return (
        report.status == Report.Status.RUNNING
        and report.heartbeat_at < timezone.now() - timedelta(seconds=shortest)
        and Report.objects.filter(_lost(), pk=report.pk).exists()
    )


def _dispatch(report: Report) -> None:
    try:
        jobqueue.current().send(REPORT_RUN, report.report_id)
    except jobqueue.QueueUnavailableError as error:
        # Without a queued job the report would only fail after the queue
        # timeout: fail it now.
        report_fail(report.report_id, QUEUE_UNREACHABLE)
        raise JobQueueUnavailableError(QUEUE_UNREACHABLE) from error
    if report.stage == STAGE_ENQUEUING:
        # In the queue: from now on identical triggers may reuse the report.
        # Only while nothing else wrote it (a worker may have claimed it already).
        Report.objects.filter(
            pk=report.report_id, status=Report.Status.RUNNING, attempts=0, stage=STAGE_ENQUEUING
        ).update(stage=STAGE_QUEUED)


def reports_left_queued(before: datetime) -> list[str]:
    """The reports still queued, or with parts still queued (oldest first),
    that were created before `before`: this process's start. The embedded
    queue, or the job thread running the parts, was the memory of a web
    process that has stopped, so this one queues them again (a report in
    parts is planned again, as a redelivered job is)."""
    queued = Report.objects.filter(
        Q(attempts=0) | Q(has_queued_part()), status=Report.Status.RUNNING, created_at__lt=before
    )
    return list(queued.order_by("created_at").values_list("report_id", flat=True))


# The report's job (monitor.tasks runs it as a Celery task of this name).
REPORT_RUN = jobqueue.Job("monitor.report_run", report_run, left_queued=reports_left_queued)
