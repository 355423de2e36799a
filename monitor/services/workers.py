"""Whether the job queue is served: the Celery workers' heartbeats, and the
warning a queued report carries when no worker has served its queue for
QUEUE_UNSERVED_SECONDS (docs/report-jobs.md, "Is the queue served?").

A worker serves the queue when it takes a job from it, when every one of its
pool processes is busy (a backlog is no fault), or when it is idle and no job
waits. A worker that is alive but takes nothing while jobs wait (its broker
connection stopped consuming), a stopped worker and no worker at all do not.
Each back-end says when its queue was last served (JobQueue.last_served):
Celery's workers write it here; the embedded queue's threads serve their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from monitor import jobqueue
from monitor.formatting import duration_text
from monitor.models import Report, WorkerBeat

# A worker that missed this many beats in a row is no longer counted live.
BEATS_MISSED = 3
# A worker neither alive nor serving for this long is forgotten (its row deleted).
FORGET_AFTER = timedelta(days=1)
# The stages of a report whose next step waits on the job queue (a waiting
# report: its client's report in the queue, services.report_turns).
WAITING_STAGES = frozenset({Report.Stage.WAITING, Report.Stage.QUEUED, Report.Stage.QUEUED_PARTS})


def beat_seconds() -> float:
    """How often a worker beats: often enough that a gap of QUEUE_UNSERVED_SECONDS
    is seen within a quarter of it, and at least every 10 s."""
    return min(settings.QUEUE_UNSERVED_SECONDS / 4, 10.0)


@dataclass(frozen=True)
class WorkersSeen:
    live: int  # workers whose last beat is recent
    last_served: datetime | None  # when any of them last served the queue; None: never


def worker_beat(hostname: str, *, served: bool, now: datetime) -> None:
    """Worker `hostname` is alive at `now`, and served the queue since its last beat if `served`."""
    fields = {"beat_at": now, **({"served_at": now} if served else {})}
    if not WorkerBeat.objects.filter(hostname=hostname).update(**fields):
        WorkerBeat.objects.update_or_create(hostname=hostname, defaults=fields)
    forgotten = now - FORGET_AFTER
    WorkerBeat.objects.filter(
        Q(beat_at__isnull=True) | Q(beat_at__lt=forgotten),
        Q(served_at__isnull=True) | Q(served_at__lt=forgotten),
    ).delete()


def worker_stopped(hostname: str) -> None:
    """Worker `hostname` stops cleanly: no longer live at once (when it last served stays)."""
    WorkerBeat.objects.filter(hostname=hostname).update(beat_at=None)


def workers_seen(now: datetime) -> WorkersSeen:
    """The Celery workers as their beats tell it: one small query."""
    live_since = now - timedelta(seconds=BEATS_MISSED * beat_seconds())
    seen = WorkerBeat.objects.aggregate(
        live=Count("pk", filter=Q(beat_at__gte=live_since)), last_served=Max("served_at")
    )
    return WorkersSeen(live=seen["live"], last_served=seen["last_served"])


def queue_workers() -> WorkersSeen:
    """The workers of this set-up's job queue: how many are live, and when the
    queue was last served (the metrics)."""
    queue = jobqueue.current()
    return WorkersSeen(live=queue.live_workers(), last_served=queue.last_served())


def queue_warning(report: Report, *, now: datetime | None = None) -> str | None:
    """What a reader of a queued report should know when no worker has served
    its queue for QUEUE_UNSERVED_SECONDS; None otherwise (and for a report
    whose job has started or ended)."""
    if report.status != Report.Status.RUNNING or report.stage not in WAITING_STAGES:
        return None
    now = timezone.now() if now is None else now
    queue = jobqueue.current()
    last_served = queue.last_served()
    limit = timedelta(seconds=settings.QUEUE_UNSERVED_SECONDS)
    if last_served is not None and now - last_served < limit:
        return None
    since = (
        f"in the last {duration_text(limit)}"
        if last_served is None
        else f"for {duration_text(now - last_served)} (since {last_served.isoformat()})"
    )
    return (
        f"no worker has served the job queue {since}, and {queue.live_workers()} are live: "
        "the report waits until a worker takes its job"
    )
