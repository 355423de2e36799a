"""How long polls are kept: pruning old ones without changing any recent report.

A report as of `now` reads the polls of its week window, [now − 168 h, now),
and each store's last poll before that window, whose status reaches into it
up to the midpoint with the next poll (docs/report-semantics.md §5). So once every report as of
the cut-off or later must stay as it is, the polls older than a week before
the cut-off (the horizon) can go, except each store's last one before the
horizon: within the window the nearest poll is never one of those deleted,
and a store keeps being reported (docs/report-semantics.md §3).

Polls stored before amendment 5 may lie outside the range it allows (before
1970, or later than a day after now): no report reads them
(selectors.polls_in_range), and polls_outside_range_prune deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from monitor.engine.units import WINDOW_LENGTHS_US
from monitor.ingest import rules
from monitor.models import StatusPoll
from monitor.services.data_version import data_changed

REPORT_REACH = timedelta(microseconds=WINDOW_LENGTHS_US[-1])  # the week window


@dataclass(frozen=True)
class PollsPruned:
    cutoff: datetime  # every report as of this instant or later is unchanged
    horizon: datetime  # polls before it were deleted, except each store's last one
    deleted: int
    kept: int  # stores whose last poll before the horizon was kept


def prune_cutoff(older_than_days: float, *, now: datetime | None = None) -> datetime:
    """The cut-off of `prune_polls --older-than DAYS`: that many days before now."""
    return (now or timezone.now()) - timedelta(days=older_than_days)


@dataclass(frozen=True)
class PollsPrunePreview:
    """What polls_prune(cutoff=cutoff) would do now, and whom it would reach."""

    cutoff: datetime
    horizon: datetime
    deleting: int  # polls it would delete
    keeping: int  # stores whose last poll before the horizon it would keep
    stores: int  # stores with at least one poll
    stores_all_before: int  # of those, stores with no poll at or after the horizon
    latest_poll: datetime | None

    @property
    def historical(self) -> bool:
        """Most stores would keep only their last poll: the data is older than the
        cut-off assumes (an import of last year's polls, the sample data), and
        reports as of any instant but its last would change."""
        return self.stores > 0 and 2 * self.stores_all_before > self.stores


def polls_prune_preview(*, cutoff: datetime) -> PollsPrunePreview:
    """What polls_prune would delete at `cutoff`, counted, with nothing deleted."""
    horizon = cutoff - REPORT_REACH
    before = StatusPoll.objects.filter(timestamp_utc__lt=horizon)
    stores = StatusPoll.objects.values("store").distinct().count()
    stores_recent = (
        StatusPoll.objects.filter(timestamp_utc__gte=horizon).values("store").distinct().count()
    )
    latest = StatusPoll.objects.order_by("-timestamp_utc").values_list("timestamp_utc").first()
    return PollsPrunePreview(
        cutoff=cutoff,
        horizon=horizon,
        deleting=_prunable(before).count(),
        keeping=before.values("store").distinct().count(),
        stores=stores,
        stores_all_before=stores - stores_recent,
        latest_poll=latest[0] if latest else None,
    )


def polls_prune(*, cutoff: datetime) -> PollsPruned:
    """Delete the polls no report as of `cutoff` or later reads (one transaction)."""
    horizon = cutoff - REPORT_REACH
    before = StatusPoll.objects.filter(timestamp_utc__lt=horizon)
    with transaction.atomic():
        deleted, _ = _prunable(before).delete()
        kept = before.count()  # one a store, now
        if deleted:
            data_changed()  # reports as of earlier instants may differ now
    return PollsPruned(cutoff=cutoff, horizon=horizon, deleted=deleted, kept=kept)


def _prunable(before: QuerySet[StatusPoll]) -> QuerySet[StatusPoll]:
    """The polls of `before` (those before the horizon) but each store's last one."""
    later_before = before.filter(
        store=OuterRef("store"), timestamp_utc__gt=OuterRef("timestamp_utc")
    )
    return before.filter(Exists(later_before))


@dataclass(frozen=True)
class PollsOutsideRange:
    earliest: datetime  # polls before it were deleted
    latest: datetime  # and polls after it (a day after the moment of pruning)
    deleted: int


def polls_outside_range_prune(*, now: datetime | None = None) -> PollsOutsideRange:
    """Delete the polls that amendment 5 would refuse to load at `now` (default: the
    current time): before the epoch, or more than a day after `now`."""
    latest = rules.latest_poll_instant(now or timezone.now())
    outside = StatusPoll.objects.filter(
        Q(timestamp_utc__lt=rules.EARLIEST_INSTANT) | Q(timestamp_utc__gt=latest)
    )
    with transaction.atomic():
        deleted, _ = outside.delete()
        if deleted:
            data_changed()
    return PollsOutsideRange(earliest=rules.EARLIEST_INSTANT, latest=latest, deleted=deleted)
