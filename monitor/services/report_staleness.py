"""Staleness: which Running reports have lost their job, and which still wait in a queue.

A report waits in the queue (attempts 0, stage "queued", or "enqueuing"
while its job is being published) until a job claims it; only
REPORT_QUEUE_TIMEOUT, long, fails it there: a backlog is not a fault. Once
started, a job that gives no sign of life for REPORT_STALE_AFTER_SECONDS has
been lost, unless one of its parts still waits in a queue that fans out
(Celery's): then, again, only REPORT_QUEUE_TIMEOUT fails it. The table of
faults and the mechanism that handles each is in docs/architecture.md.

Lost reports are failed lazily, by the reads that would show them (the
`…_failing_lost` functions: reads that write) and by reuse, rather than on a
schedule: a report is never *seen* Running once its job is lost. A report
waiting for its client's turn (services.report_turns) has no job yet: it has
REPORT_QUEUE_TIMEOUT too, and reading it gives it its turn if its client has
no report in the queue (a release a process died before making).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from monitor import jobqueue, selectors
from monitor.models import Report, ReportPart
from monitor.scope import Scope
from monitor.services.report_turns import Client, reports_release


def report_get_failing_lost(report_id: str, *, scope: Scope) -> Report | None:
    """The report, if `scope` may read it (selectors.report_get; another's is
    None, as an unknown id), marked Failed first if its job is lost."""
    report = selectors.report_get(report_id, scope.reports())
    if report is not None and report_is_lost(report):
        reports_fail_stale(report_ids=[report_id])
        report.refresh_from_db()
    elif report is not None and _awaits_turn(report):
        reports_release(Client(report.api_key_id, report.organization_id))
        report.refresh_from_db()
    return report


def _awaits_turn(report: Report) -> bool:
    return report.status == Report.Status.RUNNING and report.stage == Report.Stage.WAITING


def reports_recent_failing_lost(*, scope: Scope, limit: int, own: bool = False) -> list[Report]:
    """The `limit` latest reports `scope` may read (`own`: that it triggered
    itself; selectors.reports_recent), those whose job is lost marked Failed first."""
    readable = scope.own_reports() if own else scope.reports()
    reports = selectors.reports_recent(readable, limit=limit)
    stale = [report.report_id for report in reports if report_is_lost(report)]
    if stale:
        reports_fail_stale(report_ids=stale)
        reports = selectors.reports_recent(readable, limit=limit)
    return reports


def reports_fail_stale(*, report_ids: list[str] | None = None) -> int:
    """Mark Failed the Running reports whose job is lost (all of them, or those
    of `report_ids`); how many:

    - started, then no sign of life for REPORT_STALE_AFTER_SECONDS (its
      worker was stopped or vanished, and nothing redelivered the job);
    - never started within REPORT_QUEUE_TIMEOUT (the queue lost the job, e.g.
      a broker restarted without persistence, or no worker runs), or no sign
      of life for as long while one of its parts waits in the queue.

    The UPDATE re-checks status, attempts and heartbeat in its WHERE clause,
    so a job that starts, finishes or reports progress at the same moment is
    never overwritten: whichever write lands second matches no row. The
    clients of those failed before they started then pass their turn on.
    """
    stale = Report.objects.filter(_lost())
    if report_ids is not None:
        stale = stale.filter(pk__in=report_ids)
    clients = {
        Client(*client)
        for client in stale.filter(attempts=0).values_list("api_key_id", "organization_id")
    }
    failed = stale.update(
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
    for client in clients:
        reports_release(client)
    return failed


def report_is_lost(report: Report) -> bool:
    """Whether a report already read has lost its job (the rule of _lost);
    asks the database only when its heartbeat is older than the shorter timeout."""
    shortest = min(settings.REPORT_STALE_AFTER_SECONDS, settings.REPORT_QUEUE_TIMEOUT)
    return (
        report.status == Report.Status.RUNNING
        and report.heartbeat_at < timezone.now() - timedelta(seconds=shortest)
        and Report.objects.filter(_lost(), pk=report.pk).exists()
    )


def reports_left_queued(before: datetime) -> list[str]:
    """The reports still queued, or with parts still queued (oldest first),
    that were created before `before`: this process's start. The embedded
    queue, or the job thread running the parts, was the memory of a web
    process that has stopped, so this one queues them again (a report in
    parts is planned again, as a redelivered job is). Not those waiting for
    their client's turn: no queue held their jobs."""
    queued = Report.objects.filter(
        (Q(attempts=0) & ~Q(stage=Report.Stage.WAITING)) | Q(has_queued_part()),
        status=Report.Status.RUNNING,
        created_at__lt=before,
    )
    return list(queued.order_by("created_at").values_list("report_id", flat=True))


def has_queued_part() -> Exists:
    """Whether a report (the outer query's row) has a part still waiting in the queue."""
    return Exists(
        ReportPart.objects.filter(report=OuterRef("pk"), status=Report.Status.RUNNING, attempts=0)
    )


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
