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
from django.db.models import Exists, OuterRef, Q
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


def polls_prune(*, cutoff: datetime) -> PollsPruned:
    """Delete the polls no report as of `cutoff` or later reads (one transaction)."""
    horizon = cutoff - REPORT_REACH
    before = StatusPoll.objects.filter(timestamp_utc__lt=horizon)
    later_before = before.filter(
        store=OuterRef("store"), timestamp_utc__gt=OuterRef("timestamp_utc")
    )
    with transaction.atomic():
        deleted, _ = before.filter(Exists(later_before)).delete()
        kept = before.count()  # one a store, now
        if deleted:
            data_changed()  # reports as of earlier instants may differ now
    return PollsPruned(cutoff=cutoff, horizon=horizon, deleted=deleted, kept=kept)


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
