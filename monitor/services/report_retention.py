"""Retention: finished reports are deleted once old, or once beyond the newest ones kept.

Celery beat runs `reports_prune` every REPORT_RETENTION_INTERVAL_SECONDS in
production (monitor.tasks, store_monitoring.celery); the embedded set-up runs
it after a job finishes, at most that often (`reports_prune_if_due`);
`manage.py prune_reports` runs it by hand. Running reports are never deleted:
their jobs still write to them. Each pass also trims the log of data changes
to what Running reports still need (services.data_version).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from monitor.models import Report
from monitor.services.data_version import data_changes_prune

_FINISHED = [Report.Status.COMPLETE, Report.Status.FAILED]
# A finished report handed out again (reused) must outlive its caller's next
# reads: at least this long by age...
_REUSE_MARGIN = timedelta(hours=1)


def reports_prune(*, older_than: timedelta | None = None, keep: int | None = None) -> int:
    """Delete the finished reports created more than `older_than` ago, or
    beyond the newest `keep` finished ones; how many were deleted.

    Defaults: REPORT_RETENTION_DAYS and REPORT_RETENTION_COUNT.
    """
    if older_than is None:
        older_than = timedelta(days=settings.REPORT_RETENTION_DAYS)
    if keep is None:
        keep = settings.REPORT_RETENTION_COUNT
    finished = Report.objects.filter(status__in=_FINISHED)
    # Newest first, as the report_created_idx index reads them; the pk breaks ties.
    beyond_newest = finished.order_by("-created_at", "-pk").values("pk")[keep:]
    expired = Q(created_at__lt=timezone.now() - older_than) | Q(pk__in=beyond_newest)
    _, deleted = finished.filter(expired).delete()
    data_changes_prune()
    return deleted.get(Report._meta.label, 0)  # not counting their parts


def report_kept_a_while(report: Report) -> bool:
    """Whether retention keeps this finished report long enough to hand it out
    again: an hour before its age expires, and while fewer than half of the
    newest REPORT_RETENTION_COUNT finished reports are newer (...and by count)."""
    expires = report.created_at + timedelta(days=settings.REPORT_RETENTION_DAYS)
    if expires - _REUSE_MARGIN <= timezone.now():
        return False
    newer = Report.objects.filter(status__in=_FINISHED, created_at__gt=report.created_at)
    return newer.count() < settings.REPORT_RETENTION_COUNT // 2


class _Schedule:
    """When this process last pruned (the embedded set-up has no beat)."""

    lock = threading.Lock()
    last: float | None = None


def reports_prune_if_due() -> int:
    """reports_prune, unless this process ran it less than
    REPORT_RETENTION_INTERVAL_SECONDS ago (then 0)."""
    now = time.monotonic()
    with _Schedule.lock:
        due = (
            _Schedule.last is None
            or now - _Schedule.last >= settings.REPORT_RETENTION_INTERVAL_SECONDS
        )
        if due:
            _Schedule.last = now
    return reports_prune() if due else 0
