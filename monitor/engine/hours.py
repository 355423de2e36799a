"""Business hours → UTC intervals (docs/report-semantics.md §4).

Each store's weekly rows, in local wall-clock time, are laid on every local
date around the report's week and converted to UTC instants the way zoneinfo
does with fold=0 (PEP 495): a skipped time takes the offset in force before
the jump, a repeated time means its first occurrence. Stores share zones and
times, so each distinct (zone, local date, local time) is converted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from monitor.engine.keys import order_by_group, packing
from monitor.engine.units import US_PER_DAY

DEFAULT_TIMEZONE = "America/Chicago"  # docs/report-semantics.md §4: a store without a zone
_EPOCH = datetime(1970, 1, 1)  # naive: local wall-clock times are counted from it
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Intervals:
    """Disjoint UTC intervals [start, end), sorted by store then start."""

    store: npt.NDArray[np.int64]
    start_us: npt.NDArray[np.int64]
    end_us: npt.NDArray[np.int64]


@dataclass(frozen=True)
class WeeklyHours:
    """Business hours rows: store index, weekday (0 = Monday), local µs since midnight."""

    store: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    start_us: npt.NDArray[np.int64]
    end_us: npt.NDArray[np.int64]


def business_intervals(
    hours: WeeklyHours,
    timezones: npt.NDArray[np.str_],
    stores: npt.NDArray[np.int64],
    from_us: int,
    to_us: int,
) -> Intervals:
    """The business time of `stores` (indices into `timezones`) around [from_us, to_us).

    The result covers at least [from_us, to_us); callers clip it to their windows.
    """
    weekly = _with_missing_weekdays(_rows_of(hours, stores), stores)
    # Local dates from two days before the window's first UTC date to one day
    # after its last: local dates are at most a day off their UTC date
    # (offsets stay within ±14 h) and overnight rows reach into the next day.
    first_day = from_us // US_PER_DAY - 2
    days = np.arange(first_day, to_us // US_PER_DAY + 2, dtype=np.int64)
    row, day = _rows_by_date(weekly.day, days)
    start_local = day * US_PER_DAY + weekly.start_us[row]
    # end < start: overnight into the next day; end == start: open 24 hours.
    next_day = weekly.end_us[row] <= weekly.start_us[row]
    end_local = (day + next_day) * US_PER_DAY + weekly.end_us[row]
    zone_names, store_zone = _zone_codes(timezones)
    zone = store_zone[weekly.store[row]]
    start_utc, end_utc = np.split(
        _local_to_utc(
            zone_names, np.concatenate([zone, zone]), np.concatenate([start_local, end_local])
        ),
        2,
    )
    # A conversion can turn an interval empty or inverted (DST); such intervals are dropped.
    kept = end_utc > start_utc
    return _union(weekly.store[row][kept], start_utc[kept], end_utc[kept])


def _rows_of(hours: WeeklyHours, stores: npt.NDArray[np.int64]) -> WeeklyHours:
    wanted = np.isin(hours.store, stores)
    return WeeklyHours(
        hours.store[wanted], hours.day[wanted], hours.start_us[wanted], hours.end_us[wanted]
    )


def _with_missing_weekdays(hours: WeeklyHours, stores: npt.NDArray[np.int64]) -> WeeklyHours:
    """Add a 00:00–00:00 row (open the whole day) for each weekday a store has no row for.

    That row means exactly what docs/report-semantics.md §4 says of a missing weekday: open from
    D 00:00 to (D + 1) 00:00, with the same DST conversion as any other row.
    """
    has_rows = np.zeros((len(stores), 7), dtype=bool)
    has_rows[np.searchsorted(stores, hours.store), hours.day] = True
    missing_store, missing_day = np.nonzero(~has_rows)
    zeros = np.zeros(len(missing_store), dtype=np.int64)
    return WeeklyHours(
        np.concatenate([hours.store, stores[missing_store]]),
        np.concatenate([hours.day, missing_day]),
        np.concatenate([hours.start_us, zeros]),
        np.concatenate([hours.end_us, zeros]),
    )


def _rows_by_date(
    row_day: npt.NDArray[np.int64], days: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Every (row, local date) pair where the date's weekday is the row's day."""
    weekday = (days + 3) % 7  # 1970-01-01, day 0, was a Thursday
    rows_of_weekday = [np.flatnonzero(row_day == wd) for wd in range(7)]
    rows = [rows_of_weekday[wd] for wd in weekday]
    dates = [np.full(len(r), d, dtype=np.int64) for r, d in zip(rows, days, strict=True)]
    return np.concatenate(rows), np.concatenate(dates)


def _zone_codes(timezones: npt.NDArray[np.str_]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The distinct zone names, and per store the index of its zone (empty → the default)."""
    named = np.where(timezones == "", DEFAULT_TIMEZONE, timezones)
    names, codes = np.unique(named, return_inverse=True)
    return names.tolist(), codes.astype(np.int64)


def _local_to_utc(
    zone_names: list[str], zone: npt.NDArray[np.int64], local_us: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Wall-clock µs (counted from 1970-01-01 00:00 local) → UTC µs, as zoneinfo with fold=0."""
    # Distinct (zone, wall time) pairs are few next to the rows: convert each once.
    base, stride = packing(local_us)
    distinct, inverse = np.unique(zone * stride + (local_us - base), return_inverse=True)
    offsets = np.fromiter(
        (
            _utc_offset_us(zone_names[key // stride], base + key % stride)
            for key in distinct.tolist()
        ),
        dtype=np.int64,
        count=len(distinct),
    )
    return local_us - offsets[inverse]


def _utc_offset_us(zone_name: str, wall_us: int) -> int:
    wall = (_EPOCH + timedelta(microseconds=wall_us)).replace(tzinfo=ZoneInfo(zone_name))
    offset = wall.utcoffset()  # fold=0: the offset before a jump, the first of a repeat
    assert offset is not None
    return offset // _ONE_US


def _union(
    store: npt.NDArray[np.int64], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> Intervals:
    """Merge overlapping or touching intervals of each store: repeated rows count once."""
    order = order_by_group(store, start)
    store, start, end = store[order], start[order], end[order]
    # Pack (store, time) into one number line so that a single running maximum
    # serves all stores at once without reaching from one store into the next.
    base, stride = packing(np.concatenate([start, end]))
    shift = store * stride - base
    reach = np.maximum.accumulate(end + shift) - shift
    opens_group = np.ones(len(store), dtype=bool)
    opens_group[1:] = (store[1:] != store[:-1]) | (start[1:] > reach[:-1])
    closes_group = np.empty_like(opens_group)
    closes_group[:-1] = opens_group[1:]
    closes_group[-1:] = True  # the last interval closes its group (none when empty)
    return Intervals(store[opens_group], start[opens_group], reach[closes_group])
