"""Attempts: how a report's job, or a part's, claims its run and writes only while the claim holds.

A job may run more than once for the same report or part (a redelivered
task, a sibling process queuing it again: docs/architecture.md, the failure
model). Each start therefore claims the next attempt number under a row
lock, and every later write is a conditional UPDATE (`… WHERE status =
'Running' AND attempts = <mine>`): a finished report is never overwritten,
and of two runs only the latest claimer writes (fencing). A write that
matches no row raises AttemptSupersededError, which ends the run quietly.

Every failure of a report comes through `report_fail`, and every attempt
ends through `attempt_outcome`: what it returned, or why it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from monitor import metrics, selectors
from monitor.models import Report, ReportPart
from monitor.selectors import ALL_STORES, StoreRange
from monitor.services.reports import ReportInputError, resolve_as_of

logger = logging.getLogger(__name__)

# What Django raises when the database does not answer (down, restarting,
# failing over, a connection cut): a job is worth trying again once it is
# back (monitor.tasks), unlike after any other database error.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)

T = TypeVar("T")

# A report or part whose job was lost this many times (each run killed its
# worker, say out of memory) fails instead of being redelivered for ever.
MAX_ATTEMPTS = 3
# What a report that failed unexpectedly tells its readers. Anyone may read it,
# and exception text can carry hosts, ports or SQL: the details go to the log.
INTERNAL_ERROR = "the report failed: internal error, see the worker log"
QUEUE_UNREACHABLE = "the job queue is unreachable; try again later"


class AttemptSupersededError(Exception):
    """This run's report or part finished, failed or was claimed by a newer run."""


# ---- a report's attempt (its job plans the parts) --------------------------------------------


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
        report.stage, report.heartbeat_at = Report.Stage.STARTED, now
        report.started_at = report.started_at or now
        report.save(update_fields=["attempts", "stage", "heartbeat_at", "started_at"])
    if report.attempts == 1:
        metrics.report_started(created_at=report.created_at, started_at=now)
    as_of = report.as_of if report.as_of is not None else report.requested_as_of
    stores = StoreRange(organization_id=report.organization_id)
    return ReportAttempt(report_id, report.attempts, as_of, stores)


@dataclass(frozen=True)
class ReportAttempt:
    """One run of a report's job, which writes only while its claim holds."""

    report_id: str
    number: int
    as_of: datetime | None  # None: the latest poll
    stores: StoreRange = ALL_STORES  # every store, or the report's organization's (monitor.scope)

    def progress(self, stage: str) -> None:
        """Record the stage (a sign of life); stops the run once superseded."""
        if not self._write(stage=stage, heartbeat_at=timezone.now()):
            raise AttemptSupersededError(self.report_id)

    def plan_parts(self) -> list[int]:
        """Resolve the report's instant and plan its parts (plan); the parts' ids."""
        self.progress(Report.Stage.PLANNING)
        as_of = resolve_as_of(self.as_of)
        ranges = selectors.store_ranges(settings.REPORT_SHARD_STORES, self.stores)
        return self.plan(as_of, ranges)

    def plan(self, as_of: datetime, ranges: list[StoreRange]) -> list[int]:
        """Record the instant and make one part per range, in one transaction,
        replacing an earlier attempt's parts (whose jobs then find no part to
        write to); the parts' ids, in order. The rounds start again."""
        with transaction.atomic():
            if not self._write(
                as_of=as_of,
                part_count=len(ranges),
                rounds=0,
                stage=Report.Stage.QUEUED_PARTS,
                heartbeat_at=timezone.now(),
            ):
                raise AttemptSupersededError(self.report_id)
            ReportPart.objects.filter(report_id=self.report_id).delete()
            parts = ReportPart.objects.bulk_create(
                ReportPart(
                    report_id=self.report_id, index=index, store_first=r.first, store_end=r.end
                )
                for index, r in enumerate(ranges)
            )
        return [part.pk for part in parts]

    def fail(self, error: str) -> None:
        if not report_fail(self.report_id, error, attempt=self.number):
            logger.info("report %s: failure of a superseded attempt dropped", self.report_id)

    def _write(self, **fields: Any) -> bool:
        claimed = Report.objects.filter(
            pk=self.report_id, status=Report.Status.RUNNING, attempts=self.number
        )
        return claimed.update(**fields) == 1


# ---- a part's attempt ------------------------------------------------------------------------


def part_attempt_start(part_id: int) -> PartAttempt | None:
    """Claim the next attempt of a Running part of a Running report; None when
    there is nothing to run (as report_attempt_start)."""
    with transaction.atomic():
        part = (
            ReportPart.objects.select_for_update(of=("self",))
            .select_related("report")
            .filter(pk=part_id)
            .first()
        )
        if part is None:
            logger.info("report part %d does not exist (planned again): nothing to run", part_id)
            return None
        return _part_claim(part)


def _part_claim(part: ReportPart) -> PartAttempt | None:
    report = part.report
    if report.status != Report.Status.RUNNING or part.status != Report.Status.RUNNING:
        logger.info(
            "report part %d (%s, report %s): nothing to run", part.pk, part.status, report.status
        )
        return None
    if part.attempts >= MAX_ATTEMPTS:
        error = (
            f"part {part.index + 1} of the report was started {part.attempts} times and "
            "its worker was lost each time; not trying again"
        )
        ReportPart.objects.filter(pk=part.pk).update(status=Report.Status.FAILED)
        report_fail(report.report_id, error)
        return None
    part.attempts += 1
    part.save(update_fields=["attempts"])
    # A sign of life of the report's job.
    Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING).update(
        stage=Report.Stage.STARTED, heartbeat_at=timezone.now()
    )
    assert report.as_of is not None  # resolved by the report's job before it made parts
    return PartAttempt(
        part_id=part.pk,
        report_id=report.report_id,
        number=part.attempts,
        part_count=report.part_count,
        as_of=report.as_of,
        stores=StoreRange(part.store_first, part.store_end, report.organization_id),
    )


@dataclass(frozen=True)
class PartAttempt:
    """One run of a part's job, which writes only while its claim holds."""

    part_id: int
    report_id: str
    number: int
    part_count: int
    as_of: datetime
    stores: StoreRange

    def progress(self, stage: str) -> None:
        """on_progress for report_generate: the report's stage and heartbeat
        (its progress counts finished parts); stops the run once superseded."""
        mine = Report.objects.filter(
            pk=self.report_id,
            status=Report.Status.RUNNING,
            parts__pk=self.part_id,
            parts__status=Report.Status.RUNNING,
            parts__attempts=self.number,
        )
        if not mine.update(stage=stage, heartbeat_at=timezone.now()):
            raise AttemptSupersededError(self.part_id)

    def complete(
        self,
        *,
        data_version: int,
        row_count: int,
        stores_without_recent_poll: int,
        absolute: str,
        percent: str,
    ) -> None:
        if not self._write(
            status=Report.Status.COMPLETE,
            data_version=data_version,
            row_count=row_count,
            stores_without_recent_poll=stores_without_recent_poll,
            result_csv=absolute,
            result_percent_csv=percent,
            result_bytes=len(absolute.encode()),
            result_percent_bytes=len(percent.encode()),
        ):
            raise AttemptSupersededError(self.part_id)

    def fail(self, error: str) -> None:
        """Fail the part and, with it, the report with `error` (the report's
        error is the one its readers see)."""
        if not self._write(status=Report.Status.FAILED):
            logger.info("report part %d: failure of a superseded attempt dropped", self.part_id)
            return
        report_fail(self.report_id, error)

    def _write(self, **fields: Any) -> bool:
        claimed = ReportPart.objects.filter(
            pk=self.part_id,
            status=Report.Status.RUNNING,
            attempts=self.number,
            report__status=Report.Status.RUNNING,
        )
        return claimed.update(**fields) == 1


# ---- how an attempt ends ---------------------------------------------------------------------


def attempt_outcome(job: str, fail: Callable[[str], None], work: Callable[[], T]) -> T | None:
    """What `work()` returns, or None when the attempt stopped: superseded (a
    newer run, or the report's end: logged), or failed, `fail` recording why
    (the input's error as it is; anything else as INTERNAL_ERROR, the
    details in the log only). A lost database connection is raised."""
    try:
        return work()
    except AttemptSupersededError:
        logger.info("%s: superseded, stopped", job)
    except ReportInputError as error:
        fail(str(error))
    except DATABASE_UNREACHABLE:
        # Lost the database mid-attempt (a restart, a failover): no fault of the
        # report's. Raised to the job's queue, which tries the job again once
        # the database answers (monitor.tasks), rather than failing the report.
        raise
    except Exception:
        logger.exception("%s failed", job)
        fail(INTERNAL_ERROR)
    return None


def report_fail(report_id: str, error: str, *, attempt: int | None = None) -> bool:
    """Mark the report Failed with `error`, unless it is no longer Running (or,
    given `attempt`, no longer that attempt's); False when it was not. Every
    failure of a report's job comes here: the same fields set, and the job's
    duration counted the same way (from its first start)."""
    now = timezone.now()
    failed = Report.objects.filter(pk=report_id, status=Report.Status.RUNNING)
    if attempt is not None:
        failed = failed.filter(attempts=attempt)
    if not failed.update(
        status=Report.Status.FAILED, error=error, heartbeat_at=now, finished_at=now
    ):
        return False
    report_count_finished(report_id, Report.Status.FAILED, now)
    return True


def report_count_finished(report_id: str, status: str, finished_at: datetime) -> None:
    """The metrics of a report's job that just ended (its duration from its first start)."""
    started_at = Report.objects.filter(pk=report_id).values_list("started_at", flat=True).first()
    if started_at is not None:
        metrics.report_finished(status=status, started_at=started_at, finished_at=finished_at)
