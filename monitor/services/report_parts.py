"""A report in parts: each computes a range of stores; the last one in completes the report.

The report's job (services.jobs.report_run) splits the stores, in the
report's order, into ranges of at most REPORT_SHARD_STORES stores
(selectors.store_ranges) and creates one `ReportPart` per range. Each part
is a job of its own (`part_run`, sent through monitor.jobqueue): on Celery
one task per part, spread over every worker; in the embedded set-up one after
another in the report's thread, so a report's memory is one part's at a time.

A part's job follows the report's protocol (services.jobs): it claims the
next attempt number under a row lock, and every write is a conditional
UPDATE that holds only while the part carries that number and the report
is Running. A part whose worker died is redelivered (acks_late, as whole
reports are) and runs again; one started MAX_ATTEMPTS times, or one that
fails, makes the report Failed.

The last part in finishes the report (`_finish_if_last`). Any part may find
that every part is Complete; the conditional UPDATE of the report's status
(Running, the plan and round it read, no part unfinished) lets exactly one
of them finish it, and never on parts a newer plan has replaced. There
is no chord: a counter in the database (the parts' statuses) needs no
result backend, and no part is lost to a join that times out.

Parts read at different moments, and data arrives meanwhile (polls come
every hour, from many stores one by one). Each part records the data
version of the snapshot it read. The report completes when no change
between the lowest and the highest version read reaches it (services.
data_version.changes_reach: new polls after its as-of instant, which it
never reads, do not): every part's figures are then those of the highest
version, which the report carries, so report reuse (services.jobs) hands it
out only for the data its figures reflect. Otherwise the parts whose data a
later change reaches run again, for at most MAX_ROUNDS rounds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from monitor import jobqueue, metrics
from monitor.engine.render import header_line
from monitor.models import Report, ReportPart
from monitor.selectors import StoreRange
from monitor.services.data_version import changes_logged, changes_reach
from monitor.services.reports import ReportInputError, report_generate

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A report or part whose job was lost this many times (each run killed its
# worker, say out of memory) fails instead of being redelivered for ever.
MAX_ATTEMPTS = 3
# Rounds of re-running the parts that read data older than a change that
# reaches the report: data that changes so between every round (edits every
# few seconds) would otherwise keep a report Running for ever. Three rounds
# let an import or two land during a report.
MAX_ROUNDS = 3
# What a report that failed unexpectedly tells its readers. Anyone may read it,
# and exception text can carry hosts, ports or SQL: the details go to the log.
INTERNAL_ERROR = "the report failed: internal error, see the worker log"
QUEUE_UNREACHABLE = "the job queue is unreachable; try again later"
DATA_KEPT_CHANGING = (
    f"the data kept changing during the report (its parts read different data "
    f"{MAX_ROUNDS + 1} times); trigger it again"
)
_COLUMNS = {False: "result_csv", True: "result_percent_csv"}
_SIZES = {False: "result_bytes", True: "result_percent_bytes"}


class AttemptSupersededError(Exception):
    """This run's report or part finished, failed or was claimed by a newer run."""


class ReportPartsMissingError(RuntimeError):
    """A Complete report's parts are gone (retention deleted the report meanwhile)."""


def parts_create(report_id: str, ranges: list[StoreRange]) -> list[int]:
    """The report's parts, one per range, in order, replacing any earlier
    attempt's (whose jobs then find no part to write to); call it inside the
    transaction that records the plan."""
    ReportPart.objects.filter(report_id=report_id).delete()
    parts = ReportPart.objects.bulk_create(
        ReportPart(report_id=report_id, index=index, store_first=r.first, store_end=r.end)
        for index, r in enumerate(ranges)
    )
    return [part.pk for part in parts]


def parts_dispatch(report_id: str, part_ids: list[int]) -> None:
    """Run the parts through the job queue (on Celery a task each; embedded,
    one after another in this thread); fail the report when it refuses them."""
    try:
        jobqueue.current().run_each(PART_RUN, part_ids)
    except jobqueue.QueueUnavailableError:
        report_fail(report_id, QUEUE_UNREACHABLE)


def part_run(part_id: int) -> None:
    """Compute part `part_id` and store its rows; the last part in finishes the report."""
    attempt = part_attempt_start(part_id)
    if attempt is None:
        return
    job = f"report part {part_id} attempt {attempt.number}"
    if attempt_outcome(job, attempt.fail, lambda: _part_compute(attempt)) is None:
        return
    _progress(attempt)
    _finish_if_last(attempt.report_id)


# A part's job (monitor.tasks runs it as a Celery task of this name).
PART_RUN = jobqueue.Job("monitor.report_part_run", part_run)


def _part_compute(attempt: PartAttempt) -> Literal[True]:
    generated = report_generate(
        as_of=attempt.as_of, stores=attempt.stores, on_progress=attempt.progress
    )
    attempt.progress("rendering", 0.8)
    absolute, percent = generated.csv_rows(), generated.csv_rows(percent=True)
    attempt.progress("writing", 0.9)
    attempt.complete(
        data_version=generated.data_version,
        row_count=len(generated.table),
        stores_without_recent_poll=generated.stores_without_recent_poll,
        absolute=absolute,
        percent=percent,
    )
    return True


def attempt_outcome(job: str, fail: Callable[[str], None], work: Callable[[], T]) -> T | None:
    """What `work()` returns, or None when the attempt stopped: superseded (a
    newer run, or the report's end: logged), or failed, `fail` recording why
    (the input's error as it is; anything else as INTERNAL_ERROR, the
    details in the log only)."""
    try:
        return work()
    except AttemptSupersededError:
        logger.info("%s: superseded, stopped", job)
    except ReportInputError as error:
        fail(str(error))
    except Exception:
        logger.exception("%s failed", job)
        fail(INTERNAL_ERROR)
    return None


def _finish_again(report_id: str) -> None:
    """What a part's job does once its part is in, done again by a later
    delivery of a job whose part is Complete: its worker may have died (or
    the database failed) after writing the part and before finishing the
    report, or before sending the parts of the next round it started. Both
    steps bear repeating: one finisher wins, and a part sent twice runs once
    (part_attempt_start)."""
    resent = ReportPart.objects.filter(
        report_id=report_id,
        report__status=Report.Status.RUNNING,
        report__rounds__gt=0,  # round 0's parts are sent again by their planner, redelivered
        status=Report.Status.RUNNING,
        attempts=0,
    )
    parts_dispatch(report_id, list(resent.values_list("pk", flat=True)))
    _finish_if_last(report_id)


def part_attempt_start(part_id: int) -> PartAttempt | None:
    """Claim the next attempt of a Running part of a Running report; None when
    there is nothing to run (see services.jobs.report_attempt_start). A part
    already Complete of a Running report has its report finished again."""
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
        attempt = _claim(part)
    # Once the part's row lock is released: finishing locks the report's row.
    if attempt is None and (part.status, part.report.status) == (
        Report.Status.COMPLETE,
        Report.Status.RUNNING,
    ):
        _finish_again(part.report_id)
    return attempt


def _claim(part: ReportPart) -> PartAttempt | None:
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
        stage="started", heartbeat_at=timezone.now()
    )
    assert report.as_of is not None  # resolved by the report's job before it made parts
    return PartAttempt(
        part_id=part.pk,
        report_id=report.report_id,
        number=part.attempts,
        part_count=report.part_count,
        as_of=report.as_of,
        stores=StoreRange(part.store_first, part.store_end),
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

    def progress(self, stage: str, fraction: float) -> None:
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


def _progress(attempt: PartAttempt) -> None:
    """The report's progress: its parts done, of its parts and the step that
    completes it, so 1 only once Complete (a round may yet run parts again).
    Never lowered (progress_raised)."""
    done = ReportPart.objects.filter(
        report_id=attempt.report_id, status=Report.Status.COMPLETE
    ).count()
    Report.objects.filter(pk=attempt.report_id, status=Report.Status.RUNNING).update(
        progress=progress_raised(done / (attempt.part_count + 1)), heartbeat_at=timezone.now()
    )


def progress_raised(fraction: float) -> Greatest:
    """The report's progress, raised to `fraction` and never lowered: parts
    finishing together write in either order, and a job delivered again
    plans anew while the report's readers have seen its parts done."""
    return Greatest(F("progress"), Value(fraction))


def _finish_if_last(report_id: str) -> None:
    """Complete the report if every part is in and read the same data, as far
    as the report goes; run again the parts that read older data; or fail it
    after MAX_ROUNDS.

    The report's plan (its attempt number, which every new plan raises) and
    round are read before the parts, and the parts' statuses and figures in
    one read: the decision rests on one view of them. The UPDATE that acts
    on it holds only while the report keeps that plan and round (and, to
    complete it, has no unfinished part): a finisher that read parts a newer
    plan or round has since replaced matches no row.
    """
    plan = (
        Report.objects.filter(pk=report_id, status=Report.Status.RUNNING)
        .values_list("attempts", "rounds", "as_of")
        .first()
    )
    if plan is None:
        return
    attempts, rounds, as_of = plan
    done = _parts_done(report_id)
    if done is None:
        return  # the last part in finishes
    current = _Plan(report_id, attempts, rounds)
    assert as_of is not None  # resolved before the parts were made
    oldest, newest = min(p.data_version for p in done), max(p.data_version for p in done)
    logged = changes_logged(oldest, newest)
    if not changes_reach(as_of, oldest, newest, logged):
        _complete(
            current,
            data_version=newest,
            row_count=sum(part.row_count for part in done),
            stores_without_recent_poll=sum(part.stores_without_recent_poll for part in done),
        )
    elif current.rounds >= MAX_ROUNDS:
        report_fail(report_id, DATA_KEPT_CHANGING)
    else:
        behind = [
            part.pk for part in done if changes_reach(as_of, part.data_version, newest, logged)
        ]
        _run_again(current, behind)


@dataclass(frozen=True)
class _Done:
    pk: int
    data_version: int
    row_count: int
    stores_without_recent_poll: int


def _parts_done(report_id: str) -> list[_Done] | None:
    """The report's parts, read at once; None while one is not Complete."""
    parts = ReportPart.objects.filter(report_id=report_id).values_list(
        "pk", "status", "data_version", "row_count", "stores_without_recent_poll"
    )
    done = []
    for pk, status, version, rows, stale in parts:
        if status != Report.Status.COMPLETE:
            return None
        # A Complete part's figures are written with its status.
        assert version is not None
        assert rows is not None
        assert stale is not None
        done.append(_Done(pk, version, rows, stale))
    return done


@dataclass(frozen=True)
class _Plan:
    """The report's plan and round a finisher read."""

    report_id: str
    attempts: int
    rounds: int

    def unchanged(self) -> QuerySet[Report]:
        """The report, while it is Running with this plan and round."""
        return Report.objects.filter(
            pk=self.report_id,
            status=Report.Status.RUNNING,
            attempts=self.attempts,
            rounds=self.rounds,
        )


def _complete(
    plan: _Plan,
    *,
    data_version: int,
    row_count: int,
    stores_without_recent_poll: int,
) -> None:
    now = timezone.now()
    unfinished = ReportPart.objects.filter(report=OuterRef("pk")).exclude(
        status=Report.Status.COMPLETE
    )
    finished = plan.unchanged().filter(~Exists(unfinished))
    if finished.update(
        status=Report.Status.COMPLETE,
        stage="done",
        progress=1.0,
        data_version=data_version,
        row_count=row_count,
        stores_without_recent_poll=stores_without_recent_poll,
        heartbeat_at=now,
        finished_at=now,
    ):
        _count_finished(plan.report_id, Report.Status.COMPLETE, now)


def _run_again(plan: _Plan, part_ids: list[int]) -> None:
    """Queue again the parts that read older data, as the next round (one
    finisher wins the round: the UPDATE is conditional on it)."""
    report_id = plan.report_id
    logger.info(
        "report %s: %d parts read older data; round %d", report_id, len(part_ids), plan.rounds + 1
    )
    with transaction.atomic():
        if not plan.unchanged().update(rounds=plan.rounds + 1, heartbeat_at=timezone.now()):
            return
        ReportPart.objects.filter(pk__in=part_ids).update(
            status=Report.Status.RUNNING,
            attempts=0,
            data_version=None,
            row_count=None,
            stores_without_recent_poll=None,
            result_csv="",
            result_percent_csv="",
            result_bytes=0,
            result_percent_bytes=0,
        )
    parts_dispatch(report_id, part_ids)


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
    _count_finished(report_id, Report.Status.FAILED, now)
    return True


def _count_finished(report_id: str, status: str, finished_at: datetime) -> None:
    started_at = Report.objects.filter(pk=report_id).values_list("started_at", flat=True).first()
    if started_at is not None:
        metrics.report_finished(status=status, started_at=started_at, finished_at=finished_at)


def has_queued_part() -> Exists:
    """Whether a report (the outer query's row) has a part still waiting in the queue."""
    return Exists(
        ReportPart.objects.filter(report=OuterRef("pk"), status=Report.Status.RUNNING, attempts=0)
    )


# ---- a Complete report's CSV -----------------------------------------------------------------


def report_csv_chunks(report: Report, *, percent: bool = False) -> Iterator[str]:
    """The Complete report's CSV: the header, then each part's rows in order,
    one part in memory at a time (only that form's column is read).

    Parts already gone raise ReportPartsMissingError here, before the first
    chunk, so that a download answers an error rather than a cut CSV.
    """
    parts = ReportPart.objects.filter(report_id=report.report_id)
    part_ids = list(parts.order_by("index").values_list("pk", flat=True))
    if len(part_ids) != report.part_count:
        raise ReportPartsMissingError(report.report_id)
    return _csv_chunks(report.report_id, part_ids, percent=percent)


def _csv_chunks(report_id: str, part_ids: list[int], *, percent: bool) -> Iterator[str]:
    yield header_line(percent=percent)
    for part_id in part_ids:
        rows: str | None = (
            ReportPart.objects.filter(pk=part_id).values_list(_COLUMNS[percent], flat=True).first()
        )
        if rows is None:  # deleted meanwhile: never a CSV cut short without an error
            raise ReportPartsMissingError(report_id)
        yield rows


def report_csv(report: Report, *, percent: bool = False) -> str:
    """The Complete report's whole CSV text."""
    return "".join(report_csv_chunks(report, percent=percent))


def report_csv_bytes(report: Report, *, percent: bool = False) -> int:
    """The size of the Complete report's CSV in UTF-8 bytes, without reading it."""
    sizes = ReportPart.objects.filter(report_id=report.report_id).aggregate(
        total=Sum(_SIZES[percent])
    )
    return len(header_line(percent=percent).encode()) + (sizes["total"] or 0)
