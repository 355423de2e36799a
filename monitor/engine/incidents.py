"""Stores' outages as incidents see them at an instant T (docs/report-semantics.md §11).

An incident is an outage of §8 (with §10's calendar) told live. Evaluated at
T over the polls at or before T, for many stores at once, this gives each
store's outages within the look-back window [T − 1 week, T) (the report's week:
the polls `selectors.report_inputs` reads), with three twists of §11:

- an outage never starts before the store's first poll: before it the service
  knew nothing of the store, so that time counts as "not down" here (where §5
  extends the first poll's status backwards for the report);
- the last outage is **open** when T itself is in business time and the status
  at T (the last poll's, §5) is inactive; its end is then T;
- only outages that reached the threshold count: an open one lasting at least
  `threshold` by T, a resolved one at least that long.

An outage that began before the look-back window shows here as starting at
the window's start (`window_start`): the caller keeps the start it knew.

And per store: its latest poll at or before T, and whether it is **silent**
(that poll is older than the silence limit, or it has none).

The computation is set-based, every store at once, with the hours engine's
interval operations: business time minus the time a store is "not down"
(active, or before its first poll). It is exactly `timeline.store_timeline`'s
outages cut at the first poll (tests/engine/test_incidents.py holds them equal).
Instants are ticks of half a microsecond, as everywhere in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.engine.hours import Intervals, minus, union
from monitor.engine.keys import sort_by_group
from monitor.engine.report import ReportInputs
from monitor.engine.units import TICKS_PER_US, WINDOW_LENGTHS_US

# How far back an evaluation looks: the report's week (what report_inputs reads).
LOOK_BACK_US = WINDOW_LENGTHS_US[-1]
NO_POLL = -1  # latest_poll of a store without a poll at or before T


@dataclass(frozen=True)
class Outages:
    """Outages [start, end) in ticks, sorted by store then start; `store` indexes the
    inputs' stores. An open outage ends at T."""

    store: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    open: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.store)

    def of(self, store: int) -> Outages:
        """The outages of one store."""
        first, last = np.searchsorted(self.store, [store, store + 1])
        part = slice(int(first), int(last))
        return Outages(self.store[part], self.start[part], self.end[part], self.open[part])


@dataclass(frozen=True)
class IncidentState:
    """What an evaluation at T sees of `stores` (sorted store indices)."""

    at: int  # T, ticks
    window_start: int  # T − LOOK_BACK_US, ticks
    stores: npt.NDArray[np.int64]
    latest_poll: npt.NDArray[np.int64]  # ticks, NO_POLL when none at or before T
    silent: npt.NDArray[np.bool_]
    outages: Outages  # those that reached the threshold


def incident_state(
    inputs: ReportInputs,
    stores: npt.NDArray[np.int64],
    *,
    threshold_ticks: int,
    silent_after_ticks: int,
) -> IncidentState:
    """The outages and silence of `stores` (sorted indices into the inputs) at
    T = inputs.as_of_us; see the module docstring."""
    at = inputs.as_of_us * TICKS_PER_US
    window_start = (inputs.as_of_us - LOOK_BACK_US) * TICKS_PER_US
    # One tick past T: an outage that reaches it is open (T is in business time
    # and inactive), every bound being a whole number of ticks.
    beyond = at + 1
    kept = (inputs.poll_time_us <= inputs.as_of_us) & np.isin(inputs.poll_store, stores)
    store, time_us, active = sort_by_group(
        inputs.poll_store[kept], inputs.poll_time_us[kept], inputs.poll_active[kept]
    )
    first_of_store = np.ones(len(store), dtype=bool)
    first_of_store[1:] = store[1:] != store[:-1]
    last_of_store = np.ones(len(store), dtype=bool)
    last_of_store[:-1] = first_of_store[1:]

    latest = np.full(len(stores), NO_POLL, dtype=np.int64)
    latest[np.searchsorted(stores, store[last_of_store])] = time_us[last_of_store] * TICKS_PER_US
    silent = (latest == NO_POLL) | (latest < at - silent_after_ticks)

    not_down = _not_down(stores, store, time_us, active, first_of_store, last_of_store)
    business = inputs.business_intervals(stores, inputs.as_of_us - LOOK_BACK_US)
    start = np.clip(business.start_us * TICKS_PER_US, window_start, beyond)
    end = np.clip(business.end_us * TICKS_PER_US, window_start, beyond)
    nonempty = end > start
    business_ticks = Intervals(business.store[nonempty], start[nonempty], end[nonempty])
    clipped = Intervals(
        not_down.store,
        np.clip(not_down.start_us, window_start, beyond),
        np.clip(not_down.end_us, window_start, beyond),
    )
    down = minus(business_ticks, union(clipped.store, clipped.start_us, clipped.end_us))
    is_open = down.end_us == beyond
    down_end = np.where(is_open, at, down.end_us)
    # Down at T from T itself has lasted 0: an incident already at threshold 0.
    reached = (down_end - down.start_us >= threshold_ticks) & (is_open | (down_end > down.start_us))
    return IncidentState(
        at=at,
        window_start=window_start,
        stores=stores,
        latest_poll=latest,
        silent=silent,
        outages=Outages(
            down.store[reached], down.start_us[reached], down_end[reached], is_open[reached]
        ),
    )


def _not_down(
    stores: npt.NDArray[np.int64],
    store: npt.NDArray[np.int64],
    time_us: npt.NDArray[np.int64],
    active: npt.NDArray[np.bool_],
    first_of_store: npt.NDArray[np.bool_],
    last_of_store: npt.NDArray[np.bool_],
) -> Intervals:
    """When each store is not down whatever its hours, in ticks, unbounded ends
    standing at ±the int64 range's middle: before its first poll, and while active.

    A run of consecutive active polls is active from the midpoint with the poll
    before it (or from −∞ for a store's first poll) to the midpoint with the poll
    after it (or +∞ after its last poll): §5. A store without a poll is never down.
    """
    far_past, far_future = -(2**61), 2**61
    midpoint_before = np.empty_like(time_us)
    midpoint_before[1:] = time_us[1:] + time_us[:-1]  # (p1 + p2) / 2 µs = p1 + p2 ticks
    midpoint_before[first_of_store] = far_past
    midpoint_after = np.empty_like(time_us)
    midpoint_after[:-1] = midpoint_before[1:]
    midpoint_after[last_of_store] = far_future
    previous_active = np.zeros(len(active), dtype=bool)
    previous_active[1:] = active[:-1]
    next_active = np.zeros(len(active), dtype=bool)
    next_active[:-1] = active[1:]
    run_starts = active & (first_of_store | ~previous_active)
    run_ends = active & (last_of_store | ~next_active)

    polled = store[first_of_store]
    never_polled = stores[~np.isin(stores, polled)]
    return Intervals(
        np.concatenate([store[run_starts], polled, never_polled]),
        np.concatenate(
            [
                midpoint_before[run_starts],
                np.full(len(polled), far_past, dtype=np.int64),
                np.full(len(never_polled), far_past, dtype=np.int64),
            ]
        ),
        np.concatenate(
            [
                midpoint_after[run_ends],
                time_us[first_of_store] * TICKS_PER_US,
                np.full(len(never_polled), far_future, dtype=np.int64),
            ]
        ),
    )
