"""Polls → status step function → active time (docs/report-semantics.md §5).

A store has the status of its nearest poll: between polls p1 < p2 the status
switches at their midpoint, the first poll's status holds before it and the
last poll's after it. So the active time A(t) accumulated since the window's
start is piecewise linear, and the active time inside any interval [a, b) is
A(b) − A(a): one vectorised search over all stores, no loop per poll.

Instants here are ticks of half a microsecond (2 × µs), so every midpoint is
a whole number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ActiveTime:
    """A(store, t) on [origin, end]: the store's active ticks in [origin, t).

    Segment i of a store starts at `seg_start[i]` (clipped into [origin, end]),
    holds status `seg_active[i]` and has `seg_cum_active[i]` active ticks
    before it. Segments are ordered by store, then time; `seg_key` packs
    (store, start) into one sorted number for searching.
    """

    origin: int
    stride: int
    seg_key: npt.NDArray[np.int64]
    seg_start: npt.NDArray[np.int64]
    seg_active: npt.NDArray[np.int64]
    seg_cum_active: npt.NDArray[np.int64]

    def at(self, store: npt.NDArray[np.int64], t: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """A(store, t) for instants t within [origin, end]; every store must have a poll."""
        key = store * self.stride + (t - self.origin)
        seg = np.searchsorted(self.seg_key, key, side="right") - 1
        return self.seg_cum_active[seg] + self.seg_active[seg] * (t - self.seg_start[seg])


def active_time(
    poll_store: npt.NDArray[np.int64],
    poll_time_us: npt.NDArray[np.int64],
    poll_active: npt.NDArray[np.bool_],
    origin: int,
    end: int,
) -> ActiveTime:
    """Build A from polls sorted by store, then time; A is exact on [origin, end] (ticks)."""
    # Arrays here hold one value per poll (18 M at 10× the real set), so the
    # steps work in place: fewer temporaries, fewer fresh pages to fault in.
    count = len(poll_store)
    first_of_store = np.ones(count, dtype=bool)
    np.not_equal(poll_store[1:], poll_store[:-1], out=first_of_store[1:])
    # Segment i starts at the midpoint of polls i−1 and i, or at −∞ for a
    # store's first poll: clipped, at the origin.
    start = np.empty_like(poll_time_us)
    np.add(poll_time_us[1:], poll_time_us[:-1], out=start[1:])  # (p1 + p2) / 2 µs = p1 + p2 ticks
    np.clip(start, origin, end, out=start)
    start[first_of_store] = origin

    # Active ticks of each segment: it ends where the next one starts, or at
    # `end` for a store's last segment.
    gained = np.empty_like(start)
    gained[:-1] = start[1:]
    gained[-1:] = end
    gained[np.flatnonzero(first_of_store[1:])] = end
    gained -= start
    gained[~poll_active] = 0
    # Active ticks before each segment, counted from its store's first segment.
    cum = np.cumsum(gained)
    cum -= gained
    first = np.flatnonzero(first_of_store)
    cum -= np.repeat(cum[first], np.diff(first, append=count))
    active = poll_active.astype(np.int64)

    stride = end - origin + 1
    return ActiveTime(
        origin=origin,
        stride=stride,
        seg_key=poll_store * stride + (start - origin),
        seg_start=start,
        seg_active=active,
        seg_cum_active=cum,
    )
