"""Trigger and reuse: a trigger hands out the report of its instant and data, new or reused.

`report_trigger` creates a Running report and sends its job (REPORT_RUN)
through the job queue once the row is committed, or leaves it waiting for its
client's turn (services.report_turns: the cap on waiting reports, and the
turns), unless a Running or Complete report of the same instant, triggered
at the same data version, can be reused (`reuse_choice`, a pure decision
over what the reads found). The report's states and who changes them:
docs/architecture.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from monitor import db, jobqueue, selectors
from monitor.db.base import LockWaitTimeoutError
from monitor.models import ApiKey, Report
from monitor.scope import Scope
from monitor.services.data_version import data_version_locked
from monitor.services.report_parts import REPORT_RUN
from monitor.services.report_retention import report_kept_a_while
from monitor.services.report_staleness import report_is_lost, reports_fail_stale
from monitor.services.report_turns import (
    ENQUEUING_WAIT_SECONDS,
    Client,
    JobQueueUnavailableError,
    QueueFullError,
    new_report_stage,
    report_dispatch,
    reports_release,
)

__all__ = ["JobQueueUnavailableError", "QueueFullError", "Triggered", "report_trigger"]

logger = logging.getLogger(__name__)

# A queued report is reused while this young, or while the job queue knows it
# holds its job (the embedded one can tell; Redis is not asked).
QUEUED_REUSE_SECONDS = 60
# An identical trigger waits up to ENQUEUING_WAIT_SECONDS for a report's job
# to be published (Report.Stage.ENQUEUING), looking this often.
ENQUEUING_POLL_SECONDS = 0.02
# Of the newest reports of an instant and version, how many a trigger considers.
_CANDIDATES = 20


@dataclass(frozen=True)
class Triggered:
    report: Report
    reused: bool  # an existing report of the same instant and data, not a new job


def report_trigger(
    *,
    scope: Scope,
    as_of: datetime | None = None,
    force: bool = False,
    api_key: ApiKey | None = None,
) -> Triggered:
    """The report of `scope`'s stores as of `as_of` (None: the latest poll,
    resolved now), which belongs to `scope` (monitor.scope: an organization's
    holds its stores only, and only it and the platform read it), triggered
    with `api_key` (None: without a key).

    A Running or Complete report of the scope's own, of that instant, triggered
    at the current data version is returned as it is (reused), unless `force`: nothing was
    imported since, so it is the report a new job would compute. Otherwise a
    new Running report is created and its job sent, or it waits for its
    client's turn (services.report_turns).

    Raises QueueFullError when the client has REPORT_MAX_QUEUED_PER_KEY
    reports waiting to start already (nothing is created), and
    JobQueueUnavailableError when the queue refuses the job (of this
    report, or of the identical one it would reuse).
    """
    client = Client.of(api_key, scope.organization)
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
            existing = _reusable(scope, resolved, version)
        if existing is None:
            # A broker may yet refuse the job: until it took it, the report is
            # enqueuing (see _dispatched). The embedded queue takes it at once.
            # Behind a report of its client's still waiting to start: waiting.
            stage = new_report_stage(client, may_refuse=jobqueue.current().may_refuse)
            report = Report.objects.create(
                requested_as_of=as_of,
                as_of=resolved,
                data_version=version,
                stage=stage,
                organization=scope.organization,
                api_key=api_key,
            )
            # After commit only: a worker that picked the job up earlier would
            # not find the row yet. A waiting report's turn comes when its
            # client's report in the queue starts; releasing here as well
            # mends a turn that a process died before passing on.
            if stage == Report.Stage.WAITING:
                transaction.on_commit(lambda: reports_release(client))
            else:
                transaction.on_commit(lambda: report_dispatch(report))
    if existing is None:
        return Triggered(report, reused=False)
    dispatched = _dispatched(existing)
    if dispatched is None:
        return report_trigger(scope=scope, as_of=as_of, force=True, api_key=api_key)
    return Triggered(dispatched, reused=True)


def report_queue_position(report: Report) -> int | None:
    """1 for the next report to start, when the queue can tell: the embedded
    one can; Redis is not asked, so that reads never wait on the broker."""
    if report.status != Report.Status.RUNNING or report.attempts:
        return None
    return jobqueue.current().position(REPORT_RUN, report.report_id)


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


# ---- reuse: the decision, pure ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A Running or Complete report of the trigger's instant and version, as read."""

    report_id: str
    complete: bool
    created_at: datetime
    lost: bool  # its job is lost (report_staleness): it is being failed
    kept_a_while: bool  # Complete: retention keeps it long enough to hand out again
    started: bool  # a job claimed it (attempts > 0)
    held: bool  # the job queue knows it holds its job
    enqueuing: bool  # its job is still being published
    # It waits for its client's turn (report_turns): its job is sent when the
    # client's report in the queue starts.
    awaits_turn: bool = False


def reuse_choice(candidates: Sequence[Candidate], *, now: datetime) -> str | None:
    """The id of the report to reuse among `candidates` (newest first), or None.

    Only a report whose job will finish and stay: not lost; Complete and kept
    by retention a while (the caller would get a 404 else), started, waiting
    for its client's turn, or queued where its job is known to wait, or
    queued less than QUEUED_REUSE_SECONDS ago. A queue can lose a job
    unseen (a web process's restart empties the embedded queue; a Redis
    restarted without persistence, Celery's), and reusing that report would
    pin every identical trigger to it until REPORT_QUEUE_TIMEOUT. Of those,
    the newest Complete one (its CSV is ready), else the newest whose job is
    in a queue, else the newest still being published.
    """
    recent = now - timedelta(seconds=QUEUED_REUSE_SECONDS)

    def alive(candidate: Candidate) -> bool:
        if candidate.lost:
            return False
        if candidate.complete:
            return candidate.kept_a_while
        return (
            candidate.started
            or candidate.awaits_turn
            or candidate.held
            or candidate.created_at >= recent
        )

    # min is stable: the newest of the best.
    chosen = min(
        filter(alive, candidates),
        key=lambda candidate: (not candidate.complete, candidate.enqueuing),
        default=None,
    )
    return None if chosen is None else chosen.report_id


# ---- reuse: the I/O around it ----------------------------------------------------------------


def _reusable(scope: Scope, as_of: datetime, version: int) -> Report | None:
    """The report of the scope's own to reuse for the instant and version
    (reuse_choice), lost ones among the candidates failed first."""
    reports = scope.own_reports().filter(
        as_of=as_of,
        data_version=version,
        status__in=[Report.Status.RUNNING, Report.Status.COMPLETE],
    )
    newest = list(reports.order_by("-created_at")[:_CANDIDATES])
    lost = {report.report_id for report in newest if report_is_lost(report)}
    if lost:
        reports_fail_stale(report_ids=sorted(lost))
    queue = jobqueue.current()

    def candidate(report: Report) -> Candidate:
        complete = report.status == Report.Status.COMPLETE
        gone = report.report_id in lost
        waiting = not (gone or complete or report.attempts)
        return Candidate(
            report_id=report.report_id,
            complete=complete,
            created_at=report.created_at,
            lost=gone,
            kept_a_while=complete and not gone and report_kept_a_while(report),
            started=report.attempts > 0,
            held=waiting and queue.holds(REPORT_RUN, report.report_id),
            enqueuing=_enqueuing(report),
            awaits_turn=waiting and report.stage == Report.Stage.WAITING,
        )

    chosen = reuse_choice([candidate(report) for report in newest], now=timezone.now())
    return next((report for report in newest if report.report_id == chosen), None)


def _enqueuing(report: Report) -> bool:
    return report.attempts == 0 and report.stage == Report.Stage.ENQUEUING


def _dispatched(report: Report) -> Report | None:
    """`report` (reusable) once its job is in a queue; None when it will not
    do: it failed, or its publish took too long (its web process died, say).

    A report whose job is still being published is not reused at once: its
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
