"""A report in parts: plan, run, finish.

Plan: the report's job (`report_run`) claims an attempt, resolves the
report's instant and splits the stores, in the report's order, into ranges
of at most REPORT_SHARD_STORES stores, one `ReportPart` each. Run: each part
is a job of its own (`part_run`, through monitor.jobqueue: on Celery one
task per part, spread over every worker; embedded, one after another in
the report's thread, so a report's memory is one part's at a time). Finish:
the last part in decides (`finishing_decision`) whether the report is
complete, whether the parts that read older data run again (a round), or
whether it fails, and one conditional UPDATE acts on it.

Parts read at different moments, and data arrives meanwhile. Each part
records the data version of the snapshot it read; the report completes when
no change between the lowest and the highest version read reaches it
(services.data_version.changes_reach), carrying the highest version, so
reuse hands it out only for the data its figures reflect. The states, the
transitions and who makes each are in docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from monitor import jobqueue
from monitor.models import Report, ReportPart
from monitor.services.data_version import Change, changes_logged, changes_reach
from monitor.services.report_attempts import (
    QUEUE_UNREACHABLE,
    PartAttempt,
    attempt_outcome,
    part_attempt_start,
    report_attempt_start,
    report_count_finished,
    report_fail,
)
from monitor.services.report_staleness import reports_left_queued
from monitor.services.report_turns import report_turn_passes
from monitor.services.reports import report_generate

logger = logging.getLogger(__name__)

# Rounds of re-running the parts that read data older than a change that
# reaches the report: data that changes so between every round (edits every
# few seconds) would otherwise keep a report Running for ever. Three rounds
# let an import or two land during a report.
MAX_ROUNDS = 3
DATA_KEPT_CHANGING = (
    f"the data kept changing during the report (its parts read different data "
    f"{MAX_ROUNDS + 1} times); trigger it again"
)


# ---- plan ------------------------------------------------------------------------------------


def report_run(report_id: str) -> None:
    """The report's job, in any process: plan report `report_id` in parts and run them.

    Does nothing when the report is no longer Running, e.g. a redelivered task
    of a report that is already Complete. A redelivered job of a planned
    report plans it again: the earlier parts are replaced, and their jobs
    find nothing to write to.

    Out of the queue, the report passes its client's turn on
    (report_turns): the client's next waiting report is sent.
    """
    attempt = report_attempt_start(report_id)
    report_turn_passes(report_id)
    if attempt is None:
        return
    job = f"report {report_id} attempt {attempt.number}"
    part_ids = attempt_outcome(job, attempt.fail, attempt.plan_parts)
    if part_ids is not None:
        parts_dispatch(report_id, part_ids)


# The report's job (monitor.tasks runs it as the Celery task of this name).
REPORT_RUN = jobqueue.Job("monitor.report_run", report_run, left_queued=reports_left_queued)


def parts_dispatch(report_id: str, part_ids: list[int]) -> None:
    """Run the parts through the job queue (on Celery a task each; embedded,
    one after another in this thread); fail the report when it refuses them."""
    try:
        jobqueue.current().run_each(PART_RUN, part_ids)
    except jobqueue.QueueUnavailableError:
        report_fail(report_id, QUEUE_UNREACHABLE)


# ---- run -------------------------------------------------------------------------------------


def part_run(part_id: int) -> None:
    """A part's job: compute part `part_id` and store its rows; the last part
    in finishes the report. A part delivered again once it is in repairs what
    its first delivery may have left undone (part_delivered_again_once_in)."""
    attempt = part_attempt_start(part_id)
    if attempt is None:
        part_delivered_again_once_in(part_id)
        return
    job = f"report part {part_id} attempt {attempt.number}"
    if attempt_outcome(job, attempt.fail, lambda: _part_compute(attempt)) is None:
        return
    _progress(attempt)
    report_finish_if_last(attempt.report_id)


# A part's job (monitor.tasks runs it as the Celery task of this name).
PART_RUN = jobqueue.Job("monitor.report_part_run", part_run)


def _part_compute(attempt: PartAttempt) -> Literal[True]:
    generated = report_generate(
        as_of=attempt.as_of, stores=attempt.stores, on_progress=attempt.progress
    )
    attempt.progress(Report.Stage.RENDERING)
    absolute, percent = generated.csv_rows(), generated.csv_rows(percent=True)
    attempt.progress(Report.Stage.WRITING)
    attempt.complete(
        data_version=generated.data_version,
        row_count=len(generated.table),
        stores_without_recent_poll=generated.stores_without_recent_poll,
        absolute=absolute,
        percent=percent,
    )
    return True


def _progress(attempt: PartAttempt) -> None:
    """The report's progress: its parts done, of its parts and the step that
    completes it, so 1 only once Complete (a round may yet run parts again).
    Never lowered: parts finishing together write in either order, and a job
    delivered again plans anew while the report's readers have seen its parts done."""
    done = ReportPart.objects.filter(
        report_id=attempt.report_id, status=Report.Status.COMPLETE
    ).count()
    Report.objects.filter(pk=attempt.report_id, status=Report.Status.RUNNING).update(
        progress=Greatest(F("progress"), Value(done / (attempt.part_count + 1))),
        heartbeat_at=timezone.now(),
    )


def part_delivered_again_once_in(part_id: int) -> None:
    """The repair path: what a part's job does once its part is in, done again
    by a later delivery of a job whose part is Complete while its report is
    still Running. Its worker may have died (or the database failed) after
    writing the part and before finishing the report, or before sending the
    parts of the round it started. Both steps bear repeating: one finisher
    wins, and a part sent twice runs once (its attempt's claim)."""
    report_id = (
        ReportPart.objects.filter(
            pk=part_id, status=Report.Status.COMPLETE, report__status=Report.Status.RUNNING
        )
        .values_list("report_id", flat=True)
        .first()
    )
    if report_id is None:
        return
    resent = ReportPart.objects.filter(
        report_id=report_id,
        report__status=Report.Status.RUNNING,
        report__rounds__gt=0,  # round 0's parts are sent again by their planner, redelivered
        status=Report.Status.RUNNING,
        attempts=0,
    )
    parts_dispatch(report_id, list(resent.values_list("pk", flat=True)))
    report_finish_if_last(report_id)


# ---- finish: the decision, pure --------------------------------------------------------------


@dataclass(frozen=True)
class PartIn:
    """A Complete part's figures, as the finisher reads them."""

    pk: int
    data_version: int
    row_count: int
    stores_without_recent_poll: int


@dataclass(frozen=True)
class CompleteReport:
    """Complete the report with these figures."""

    data_version: int
    row_count: int
    stores_without_recent_poll: int


@dataclass(frozen=True)
class RunAgain:
    """Run these parts again, as the next round: they read older data."""

    part_ids: tuple[int, ...]


@dataclass(frozen=True)
class FailReport:
    error: str


Finishing = CompleteReport | RunAgain | FailReport


def finishing_decision(
    *, as_of: datetime, rounds: int, parts: Sequence[PartIn], logged: Mapping[int, Change]
) -> Finishing:
    """What to do with a report every part of which is in (`parts`, at least
    one), in round `rounds`, given the logged changes between the lowest and
    the highest data version its parts read.

    Complete when no change in between reaches the report: every part's
    figures are then those of the highest version, which the report carries.
    Else the parts whose data a later change reaches run again, unless the
    report ran MAX_ROUNDS rounds already: then it fails.
    """
    oldest = min(part.data_version for part in parts)
    newest = max(part.data_version for part in parts)
    if not changes_reach(as_of, oldest, newest, logged):
        return CompleteReport(
            data_version=newest,
            row_count=sum(part.row_count for part in parts),
            stores_without_recent_poll=sum(part.stores_without_recent_poll for part in parts),
        )
    if rounds >= MAX_ROUNDS:
        return FailReport(DATA_KEPT_CHANGING)
    behind = (part.pk for part in parts if changes_reach(as_of, part.data_version, newest, logged))
    return RunAgain(tuple(behind))


# ---- finish: the I/O around it ---------------------------------------------------------------


def report_finish_if_last(report_id: str) -> None:
    """Finish the report if every part is in (finishing_decision), acting on
    the decision with an UPDATE that holds only while the report keeps the
    plan and round it was made on.

    The report's plan (its attempt number, which every new plan raises) and
    round are read before the parts, and the parts' statuses and figures in
    one read: the decision rests on one view of them. A finisher that read
    parts a newer plan or round has since replaced matches no row.
    """
    plan = (
        Report.objects.filter(pk=report_id, status=Report.Status.RUNNING)
        .values_list("attempts", "rounds", "as_of")
        .first()
    )
    if plan is None:
        return
    attempts, rounds, as_of = plan
    parts = parts_in(report_id)
    if parts is None:
        return  # the last part in finishes
    assert as_of is not None  # resolved before the parts were made
    versions = [part.data_version for part in parts]
    logged = changes_logged(min(versions), max(versions))
    decision = finishing_decision(as_of=as_of, rounds=rounds, parts=parts, logged=logged)
    current = _Plan(report_id, attempts, rounds)
    if isinstance(decision, CompleteReport):
        _complete(current, decision)
    elif isinstance(decision, RunAgain):
        _run_again(current, list(decision.part_ids))
    else:
        report_fail(report_id, decision.error)


def parts_in(report_id: str) -> list[PartIn] | None:
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
        done.append(PartIn(pk, version, rows, stale))
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


def _complete(plan: _Plan, figures: CompleteReport) -> None:
    now = timezone.now()
    unfinished = ReportPart.objects.filter(report=OuterRef("pk")).exclude(
        status=Report.Status.COMPLETE
    )
    finished = plan.unchanged().filter(~Exists(unfinished))
    if finished.update(
        status=Report.Status.COMPLETE,
        stage=Report.Stage.DONE,
        progress=1.0,
        data_version=figures.data_version,
        row_count=figures.row_count,
        stores_without_recent_poll=figures.stores_without_recent_poll,
        heartbeat_at=now,
        finished_at=now,
    ):
        report_count_finished(plan.report_id, Report.Status.COMPLETE, now)


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
