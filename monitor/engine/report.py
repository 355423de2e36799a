"""Windows → table: uptime and business time of every store in each window."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from monitor.engine.hours import (
    Exclusions,
    Intervals,
    SpecialHours,
    WeeklyHours,
    business_intervals,
    no_rows,
)
from monitor.engine.keys import sort_by_group
from monitor.engine.status import active_time
from monitor.engine.units import TICKS_PER_US, WINDOW_LENGTHS_US


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report reads, as columns. Index i of `store_ids` is store i.

    Polls may come in any order and may include polls after `as_of_us` (they
    are ignored, docs/report-semantics.md §2). Hours rows: day 0 = Monday; start and end are
    microseconds since local midnight (0 ≤ t < 24 h), both hours.CLOSED for a
    closed row (§10.1). The calendar of §10 is optional: special hours rows
    (a local date each) and exclusions (UTC; store hours.EVERY_STORE for `*`).
    """

    store_ids: npt.NDArray[np.object_ | np.str_]  # opaque ids, any order
    timezones: npt.NDArray[np.str_]  # IANA name per store, "" = unknown (America/Chicago)
    poll_store: npt.NDArray[np.int64]  # store index of each poll
    poll_time_us: npt.NDArray[np.int64]  # UTC instant, µs since the epoch
    poll_active: npt.NDArray[np.bool_]
    hours_store: npt.NDArray[np.int64]  # store index of each business hours row
    hours_day: npt.NDArray[np.int64]  # 0 = Monday … 6 = Sunday
    hours_start_us: npt.NDArray[np.int64]  # local time of day, µs since midnight
    hours_end_us: npt.NDArray[np.int64]
    as_of_us: int  # the report's `now`
    special_store: npt.NDArray[np.int64] = field(default_factory=no_rows)
    special_date: npt.NDArray[np.int64] = field(default_factory=no_rows)  # days since 1970
    special_start_us: npt.NDArray[np.int64] = field(default_factory=no_rows)
    special_end_us: npt.NDArray[np.int64] = field(default_factory=no_rows)
    exclusion_store: npt.NDArray[np.int64] = field(default_factory=no_rows)
    exclusion_start_us: npt.NDArray[np.int64] = field(default_factory=no_rows)
    exclusion_end_us: npt.NDArray[np.int64] = field(default_factory=no_rows)

    def business_intervals(self, stores: npt.NDArray[np.int64], from_us: int) -> Intervals:
        """The business time (§4, §10) of `stores` (sorted) around [from_us, as_of_us)."""
        return business_intervals(
            WeeklyHours(self.hours_store, self.hours_day, self.hours_start_us, self.hours_end_us),
            self.timezones,
            stores,
            from_us,
            self.as_of_us,
            SpecialHours(
                self.special_store, self.special_date, self.special_start_us, self.special_end_us
            ),
            Exclusions(self.exclusion_store, self.exclusion_start_us, self.exclusion_end_us),
        )


@dataclass(frozen=True)
class ReportTable:
    """One row per reported store (§3 of docs/report-semantics.md), sorted by store_id as text.

    Columns of `uptime` and `business` are the windows hour, day, week; values
    are exact, in ticks of half a microsecond (see monitor.engine.units).
    """

    store_ids: npt.NDArray[np.object_ | np.str_]
    uptime: npt.NDArray[np.int64]  # shape (n, 3)
    business: npt.NDArray[np.int64]  # shape (n, 3)

    @property
    def downtime(self) -> npt.NDArray[np.int64]:
        return self.business - self.uptime

    def __len__(self) -> int:
        return len(self.store_ids)


def compute_report(inputs: ReportInputs) -> ReportTable:
    """The report's figures (docs/report-semantics.md §2–§6), exact, in half-microsecond ticks."""
    now_us = inputs.as_of_us
    polls = _polls_until(inputs, now_us)
    stores = np.unique(
        polls.store
    )  # docs/report-semantics.md §3: stores with a poll at or before now
    week_start_us = now_us - WINDOW_LENGTHS_US[-1]

    intervals = inputs.business_intervals(stores, week_start_us)
    active = active_time(
        polls.store,
        polls.time_us,
        polls.active,
        week_start_us * TICKS_PER_US,
        now_us * TICKS_PER_US,
    )
    # Row r of the table is stores[r]; intervals come sorted by store.
    row = np.searchsorted(stores, intervals.store)
    uptime = np.zeros((len(stores), len(WINDOW_LENGTHS_US)), dtype=np.int64)
    business = np.zeros_like(uptime)
    for w, length_us in enumerate(WINDOW_LENGTHS_US):
        start = np.clip(intervals.start_us, now_us - length_us, now_us) * TICKS_PER_US
        end = np.clip(intervals.end_us, now_us - length_us, now_us) * TICKS_PER_US
        business[:, w] = _sum_by_row(row, end - start, len(stores))
        uptime[:, w] = _sum_by_row(
            row, active.at(intervals.store, end) - active.at(intervals.store, start), len(stores)
        )

    order = np.argsort(inputs.store_ids[stores], kind="stable")  # plain string order
    return ReportTable(inputs.store_ids[stores][order], uptime[order], business[order])


def stores_without_polls_since(inputs: ReportInputs, since_us: int) -> int:
    """How many reported stores (a poll at or before now) have none in [since_us, now]."""
    polled = inputs.poll_time_us <= inputs.as_of_us
    reported = np.unique(inputs.poll_store[polled])
    recent = np.unique(inputs.poll_store[polled & (inputs.poll_time_us >= since_us)])
    return len(reported) - len(recent)


@dataclass(frozen=True)
class _Polls:
    store: npt.NDArray[np.int64]
    time_us: npt.NDArray[np.int64]
    active: npt.NDArray[np.bool_]


def _polls_until(inputs: ReportInputs, now_us: int) -> _Polls:
    """The polls at or before now (later ones do not exist for the report), by store and time."""
    store, time_us, active = inputs.poll_store, inputs.poll_time_us, inputs.poll_active
    kept = time_us <= now_us
    if not kept.all():  # the selector reads none after now; other callers may
        store, time_us, active = store[kept], time_us[kept], active[kept]
    return _Polls(*sort_by_group(store, time_us, active))


def _sum_by_row(
    row: npt.NDArray[np.intp], values: npt.NDArray[np.int64], n_rows: int
) -> npt.NDArray[np.int64]:
    """Exact integer sums of `values` per row (rows sorted ascending)."""
    bounds = np.searchsorted(row, np.arange(n_rows + 1))
    totals = np.concatenate([[0], np.cumsum(values)])
    sums: npt.NDArray[np.int64] = totals[bounds[1:]] - totals[bounds[:-1]]
    return sums
