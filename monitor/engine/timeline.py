"""One store's timeline: business time, status and outages (docs/report-semantics.md §8).

The report sums a store's uptime and business time per window; this module
shows where that time lies. For one store of a `ReportInputs` and its as-of
instant it gives:

- its business intervals in the week window (§4, from `hours.py`);
- its status segments (§5, from `status.py`) cut by business time: the
  maximal intervals of business time ∩ window of constant status; and so
- its outages, the inactive ones among them.

Every piece is [start, end) in ticks of half a microsecond, exactly as the
report counts. The pieces partition business time ∩ window, so the lengths of
the active ones add up to the report's uptime and those of the inactive ones
to its downtime, for each window (hour, day, week): `Timeline.totals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from monitor.engine.hours import DEFAULT_TIMEZONE
from monitor.engine.report import ReportInputs, ReportTable
from monitor.engine.status import active_time
from monitor.engine.units import TICKS_PER_US, WINDOW_LENGTHS_US

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Spans:
    """Disjoint intervals [start, end) in ticks, sorted, none empty; `active` per interval.

    For business intervals `active` is all True (they carry no status).
    """

    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    active: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.start)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return self.end - self.start

    def clipped(self, lo: int, hi: int) -> Spans:
        """The parts of the spans within [lo, hi)."""
        start, end = np.clip(self.start, lo, hi), np.clip(self.end, lo, hi)
        kept = end > start
        return Spans(start[kept], end[kept], self.active[kept])

    def where(self, active: bool) -> Spans:
        kept = self.active == active
        return Spans(self.start[kept], self.end[kept], self.active[kept])

    def totals(self) -> tuple[int, int]:
        """(active ticks, all ticks): uptime and business time when these are a timeline."""
        lengths = self.lengths
        return int(lengths[self.active].sum()), int(lengths.sum())


@dataclass(frozen=True)
class Timeline:
    """A store's story over the week window [week_start, now) (ticks).

    `pieces` are the maximal intervals of business time ∩ week of constant
    status, oldest first; touching business intervals are merged before they
    are cut (an overnight shift across midnight is one interval).
    """

    zone: str  # the IANA zone the hours were read in (the default when the store has none)
    now: int  # ticks
    reported: bool  # the store has a poll at or before now (§3)
    business: Spans
    pieces: Spans  # empty when not reported

    @property
    def outages(self) -> Spans:
        """Maximal intervals of business time ∩ week ∩ inactive (§8)."""
        return self.pieces.where(False)

    def window(self, length_us: int) -> Spans:
        """The pieces within the window of `length_us` ending at now."""
        return self.pieces.clipped(self.now - length_us * TICKS_PER_US, self.now)

    def totals(self) -> list[tuple[int, int]]:
        """(uptime, business) ticks of each report window (hour, day, week)."""
        return [self.window(length).totals() for length in WINDOW_LENGTHS_US]


def report_row(timeline: Timeline, store_id: str) -> ReportTable:
    """The store's report row (none when it is not reported), summed from its pieces;
    equal to compute_report's row for the store."""
    if not timeline.reported:
        empty = np.empty((0, len(WINDOW_LENGTHS_US)), dtype=np.int64)
        return ReportTable(np.array([], dtype=object), empty, empty)
    uptime, business = zip(*timeline.totals(), strict=True)
    return ReportTable(
        np.array([store_id], dtype=object),
        np.array([uptime], dtype=np.int64),
        np.array([business], dtype=np.int64),
    )


def store_zone(inputs: ReportInputs, store: int) -> str:
    return str(inputs.timezones[store]) or DEFAULT_TIMEZONE


def store_business(inputs: ReportInputs, store: int) -> Spans:
    """Store `store`'s business time within the week window before `inputs.as_of_us` (ticks)."""
    now_us = inputs.as_of_us
    week_start_us = now_us - WINDOW_LENGTHS_US[-1]
    intervals = inputs.business_intervals(np.array([store], dtype=np.int64), week_start_us)
    spans = Spans(
        intervals.start_us * TICKS_PER_US,
        intervals.end_us * TICKS_PER_US,
        np.ones(len(intervals.start_us), dtype=bool),
    )
    return spans.clipped(week_start_us * TICKS_PER_US, now_us * TICKS_PER_US)


def status_segments(inputs: ReportInputs, store: int) -> Spans:
    """The store's maximal intervals of constant status (§5) within the week window.

    Empty when the store has no poll at or before now (it is not reported).
    """
    times, active = store_polls(inputs, store)
    origin = (inputs.as_of_us - WINDOW_LENGTHS_US[-1]) * TICKS_PER_US
    end = inputs.as_of_us * TICKS_PER_US
    if len(times) == 0:
        return Spans(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool))
    steps = active_time(np.zeros(len(times), dtype=np.int64), times, active, origin, end)
    seg_end = np.append(steps.seg_start[1:], end)
    return _merged(Spans(steps.seg_start, seg_end, active))


def store_polls(
    inputs: ReportInputs, store: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The store's polls at or before now (later ones do not exist, §2), oldest first (µs)."""
    mine = (inputs.poll_store == store) & (inputs.poll_time_us <= inputs.as_of_us)
    times, active = inputs.poll_time_us[mine], inputs.poll_active[mine]
    order = np.argsort(times, kind="stable")
    return times[order], active[order]


def store_timeline(inputs: ReportInputs, store: int) -> Timeline:
    """Business time, status pieces and outages of store `store` over the week window.

    A store with no poll at or before now has business time but no pieces.
    """
    business = store_business(inputs, store)
    status = status_segments(inputs, store)
    reported = len(status) > 0
    return Timeline(
        zone=store_zone(inputs, store),
        now=inputs.as_of_us * TICKS_PER_US,
        reported=reported,
        business=business,
        pieces=_cut(business, status) if reported else status,
    )


def switch_ticks(times_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Where the status passes from each poll to the next: their midpoints, in ticks (§5).

    For polls p1 < p2 (µs) the midpoint (p1 + p2) / 2 µs is the whole tick p1 + p2.
    """
    return times_us[1:] + times_us[:-1]


def utc_instant(ticks: int) -> datetime:
    """The instant of a tick, truncated to the microsecond (§8), in UTC."""
    return _EPOCH + timedelta(microseconds=ticks // TICKS_PER_US)


def local_instant(ticks: int, zone: str) -> datetime:
    """The same instant in the store's local time, with its offset."""
    return utc_instant(ticks).astimezone(ZoneInfo(zone))


def _cut(business: Spans, status: Spans) -> Spans:
    """Business time cut where the status changes: maximal pieces of constant status.

    `status` covers the whole window without gaps, so every elementary interval
    between two consecutive boundaries (of either) lies in exactly one status
    segment; it is kept when it lies in business time.
    """
    points = np.unique(np.concatenate([business.start, business.end, status.start]))
    start, end = points[:-1], points[1:]
    in_business = np.searchsorted(business.start, start, side="right") - 1
    open_ = (in_business >= 0) & (start < business.end[np.maximum(in_business, 0)])
    segment = np.searchsorted(status.start, start[open_], side="right") - 1
    return _merged(Spans(start[open_], end[open_], status.active[segment]))


def _merged(spans: Spans) -> Spans:
    """Drop empty spans; join each span to the previous one when they touch with equal status."""
    kept = spans.end > spans.start
    spans = Spans(spans.start[kept], spans.end[kept], spans.active[kept])
    opens = np.ones(len(spans), dtype=bool)
    opens[1:] = (spans.start[1:] != spans.end[:-1]) | (spans.active[1:] != spans.active[:-1])
    first = np.flatnonzero(opens)
    last = np.append(first[1:], len(spans)) - 1
    return Spans(spans.start[first], spans.end[last], spans.active[first])
