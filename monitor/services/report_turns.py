"""Turns: how many reports a client may have waiting, and which of them the queue gets next.

A report's *client* is the API key that triggered it. Reports triggered
without a key (keys off, as `make run` serves; the pages' users) are one
client per organization, the platform's included: they share one cap and
take one turn.

- **The cap.** A client has at most REPORT_MAX_QUEUED_PER_KEY reports
  waiting to start (Running with no attempt yet: `enqueuing`, `queued` or
  `waiting`). A trigger beyond it is refused (QueueFullError: the API's 429).
  A trigger that reuses a report adds none.
- **Turns.** A client has at most one report whose job is in the queue and not
  yet started; its later reports are `waiting`, their jobs not sent. When
  that report's job starts (or the report fails before it starts), the
  client's oldest waiting report is released: its job is sent, to the back of
  the queue. Both back-ends' queues are first in, first out (Redis's list,
  the embedded queue's deque), so the clients with reports waiting are served
  round-robin: a client that queued three reports delays another client's one
  by one report at most, not three.

The trigger's count and choice of stage, and each release, run under the
client's lock (Database.lock_until_commit) in one transaction: two triggers
never both pass the cap, and a release never misses a report that a
concurrent trigger made `waiting`. What releases a waiting report, and what
fails it when nothing does, is in docs/architecture.md (the state tables).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from monitor import db, jobqueue
from monitor.jobqueue import Job
from monitor.models import ApiKey, Organization, Report
from monitor.services.report_attempts import QUEUE_UNREACHABLE, report_fail

logger = logging.getLogger(__name__)

# How long publishing a report's job may take (it gives up within about 2 s):
# a report `enqueuing` for longer lost its publisher (a web process that
# died) and no longer holds its client's turn.
ENQUEUING_WAIT_SECONDS = 3.0


class JobQueueUnavailableError(RuntimeError):
    """The job queue refused the job; the report has been marked Failed."""


class QueueFullError(Exception):
    """The client has REPORT_MAX_QUEUED_PER_KEY reports waiting to start already."""


@dataclass(frozen=True)
class Client:
    """Who a report was triggered by, as far as turns go: an API key, or the
    keyless callers of an organization (None: of the platform)."""

    api_key_id: int | None
    organization_id: int | None

    @classmethod
    def of(cls, api_key: ApiKey | None, organization: Organization | None) -> Client:
        if api_key is not None:
            return cls(api_key.pk, None)
        return cls(None, None if organization is None else organization.pk)

    def reports(self) -> QuerySet[Report]:
        if self.api_key_id is not None:
            return Report.objects.filter(api_key_id=self.api_key_id)
        return Report.objects.filter(api_key=None, organization=self.organization_id)

    def lock(self) -> None:
        """Take the client's lock until the transaction ends."""
        db.current().lock_until_commit(f"report turns {self.api_key_id} {self.organization_id}")

    def __str__(self) -> str:
        if self.api_key_id is not None:
            return "this API key"
        return "the callers without an API key (one client per organization)"


def _waiting_to_start() -> Q:
    return Q(status=Report.Status.RUNNING, attempts=0)


def _in_the_queue() -> Q:
    """A report whose job is in the queue (or being published), not started:
    its client's turn."""
    published = timezone.now() - timedelta(seconds=ENQUEUING_WAIT_SECONDS)
    return _waiting_to_start() & (
        Q(stage=Report.Stage.QUEUED) | Q(stage=Report.Stage.ENQUEUING, heartbeat_at__gte=published)
    )


# ---- a trigger -------------------------------------------------------------------------------


def new_report_stage(client: Client, *, may_refuse: bool) -> str:
    """The stage of a new report of `client`; call it in the transaction that
    creates the report. `waiting` when the client has a report waiting to
    start already; else `enqueuing` (a broker may yet refuse its job) or
    `queued`. Raises QueueFullError when the client is at the cap."""
    client.lock()
    waiting = list(
        client.reports()
        .filter(_waiting_to_start())
        .order_by("created_at")
        .values_list("report_id", flat=True)
    )
    cap = settings.REPORT_MAX_QUEUED_PER_KEY
    if len(waiting) >= cap:
        raise QueueFullError(
            f"{len(waiting)} reports of {client} wait to start (REPORT_MAX_QUEUED_PER_KEY "
            f"is {cap}): {', '.join(waiting)}; trigger again once one of them has started "
            "(its stage is no longer queued or waiting: GET /api/monitor/reports/<report_id>)"
        )
    if waiting:
        return Report.Stage.WAITING
    return Report.Stage.ENQUEUING if may_refuse else Report.Stage.QUEUED


# ---- sending a report's job, and releasing the next ------------------------------------------


def report_dispatch(report: Report) -> None:
    """Send the job of `report` (`enqueuing` or `queued`), once its row is
    committed; then `queued`. When the queue refuses it, the report fails at
    once (without a job it would fail only after REPORT_QUEUE_TIMEOUT), its
    client's next report gets its turn, and JobQueueUnavailableError is raised."""
    try:
        jobqueue.current().send(_report_job(), report.report_id)
    except jobqueue.QueueUnavailableError as error:
        report_fail(report.report_id, QUEUE_UNREACHABLE)
        reports_release(Client(report.api_key_id, report.organization_id))
        raise JobQueueUnavailableError(QUEUE_UNREACHABLE) from error
    if report.stage == Report.Stage.ENQUEUING:
        # In the queue: from now on identical triggers may reuse the report.
        # Only while nothing else wrote it (a worker may have claimed it already).
        Report.objects.filter(
            pk=report.report_id,
            status=Report.Status.RUNNING,
            attempts=0,
            stage=Report.Stage.ENQUEUING,
        ).update(stage=Report.Stage.QUEUED)


def reports_release(client: Client) -> None:
    """Give `client`'s oldest waiting report its turn (its job is sent), unless
    a report of the client's is in the queue already. Harmless to repeat: the
    report's job calls it as it starts, a failure before the start does, and
    so do the reads of a waiting report (report_staleness), which mends a
    release that a process died before making."""
    with transaction.atomic():
        client.lock()
        if client.reports().filter(_in_the_queue()).exists():
            return
        oldest = (
            client.reports()
            .filter(_waiting_to_start(), stage=Report.Stage.WAITING)
            .order_by("created_at")
            .first()
        )
        if oldest is None:
            return
        oldest.stage = (
            Report.Stage.ENQUEUING if jobqueue.current().may_refuse else Report.Stage.QUEUED
        )
        # Its queue timeout counts from now: the wait for its turn was its
        # client's backlog, which the reports ahead of it answered for.
        oldest.heartbeat_at = timezone.now()
        oldest.save(update_fields=["stage", "heartbeat_at"])
        transaction.on_commit(lambda: _dispatch_quietly(oldest))


def report_turn_passes(report_id: str) -> None:
    """The report's job has started (or found the report ended): its client's
    next report gets its turn."""
    client = (
        Report.objects.filter(pk=report_id).values_list("api_key_id", "organization_id").first()
    )
    if client is not None:
        reports_release(Client(*client))


def _dispatch_quietly(report: Report) -> None:
    # A refusal has failed the report and released the next: no caller to tell.
    with contextlib.suppress(JobQueueUnavailableError):
        report_dispatch(report)


def _report_job() -> Job[str]:
    # Imported here: the report's job (report_parts) releases the next report
    # as it starts, so it imports this module.
    from monitor.services.report_parts import REPORT_RUN

    return REPORT_RUN
