"""Business hours → UTC intervals (docs/report-semantics.md §4, with §10's calendar).

Each store's weekly rows, in local wall-clock time, are laid on every local
date around the report's week and converted to UTC instants the way zoneinfo
does with fold=0 (PEP 495): a skipped time takes the offset in force before
the jump, a repeated time means its first occurrence. Stores share zones and
times, so each distinct (zone, local date, local time) is converted once.

The calendar (§10) adjusts that: a closed row gives its weekday rows but no
time; a local date with special rows takes the intervals those rows open
instead of its weekday's (an overnight shift begun the day before is
untouched); and excluded UTC periods are cut out of the union.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from monitor.engine.keys import order_by_group, packing
from monitor.engine.units import US_PER_DAY

DEFAULT_TIMEZONE = "America/Chicago"  # docs/report-semantics.md §4: a store without a zone
# The start and end of a closed row (both times empty, §10.1 and §10.2).
CLOSED = -1
# The store of an exclusion of every store (`*`, §10.3), including stores added later.
EVERY_STORE = -1
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 (naive: local wall-clock times count from it)
_ONE_US = timedelta(microseconds=1)


def no_rows() -> npt.NDArray[np.int64]:
    """An empty column: a calendar input without rows."""
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Intervals:
    """Disjoint UTC intervals [start, end), sorted by store then start."""

    store: npt.NDArray[np.int64]
    start_us: npt.NDArray[np.int64]
    end_us: npt.NDArray[np.int64]


@dataclass(frozen=True)
class WeeklyHours:
    """Business hours rows: store index, weekday (0 = Monday), local µs since midnight
    (both CLOSED for a closed row)."""

    store: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    start_us: npt.NDArray[np.int64]
    end_us: npt.NDArray[np.int64]


@dataclass(frozen=True)
class SpecialHours:
    """Special hours rows (§10.2): store index, local date (days since 1970-01-01),
    local µs since midnight (both CLOSED for a closed date)."""

    store: npt.NDArray[np.int64] = field(default_factory=no_rows)
    date: npt.NDArray[np.int64] = field(default_factory=no_rows)
    start_us: npt.NDArray[np.int64] = field(default_factory=no_rows)
    end_us: npt.NDArray[np.int64] = field(default_factory=no_rows)


@dataclass(frozen=True)
class Exclusions:
    """Excluded periods (§10.3): store index (EVERY_STORE for all), UTC µs [start, end)."""

    store: npt.NDArray[np.int64] = field(default_factory=no_rows)
    start_us: npt.NDArray[np.int64] = field(default_factory=no_rows)
    end_us: npt.NDArray[np.int64] = field(default_factory=no_rows)


NO_SPECIAL_HOURS = SpecialHours()
NO_EXCLUSIONS = Exclusions()


def business_intervals(
    hours: WeeklyHours,
    timezones: npt.NDArray[np.str_],
    stores: npt.NDArray[np.int64],
    from_us: int,
    to_us: int,
    special: SpecialHours = NO_SPECIAL_HOURS,
    exclusions: Exclusions = NO_EXCLUSIONS,
) -> Intervals:
    """The business time of `stores` (sorted indices into `timezones`) around
    [from_us, to_us), without their excluded time.

    The result covers at least [from_us, to_us); callers clip it to their windows.
    """
    weekly = _open_rows(_with_missing_weekdays(_rows_of(hours, stores), stores))
    # Local dates from two days before the window's first UTC date to one day
    # after its last: local dates are at most a day off their UTC date
    # (offsets stay within ±14 h) and overnight rows reach into the next day.
    first_day = from_us // US_PER_DAY - 2
    days = np.arange(first_day, to_us // US_PER_DAY + 2, dtype=np.int64)
    row, day = _rows_by_date(weekly.day, days)
    store, day, start_us, end_us = weekly.store[row], day, weekly.start_us[row], weekly.end_us[row]
    special = _special_of(special, stores, days)
    if len(special.store):
        # §10.2: a date with special rows opens what they open, instead of its weekday's.
        regular = ~np.isin(
            _date_keys(store, day, days), _date_keys(special.store, special.date, days)
        )
        opens = special.start_us != CLOSED
        store = np.concatenate([store[regular], special.store[opens]])
        day = np.concatenate([day[regular], special.date[opens]])
        start_us = np.concatenate([start_us[regular], special.start_us[opens]])
        end_us = np.concatenate([end_us[regular], special.end_us[opens]])
    start_local = day * US_PER_DAY + start_us
    # end < start: overnight into the next day; end == start: open 24 hours.
    end_local = (day + (end_us <= start_us)) * US_PER_DAY + end_us
    zone_names, store_zone = _zone_codes(timezones)
    zone = store_zone[store]
    start_utc, end_utc = np.split(
        _local_to_utc(
            zone_names, np.concatenate([zone, zone]), np.concatenate([start_local, end_local])
        ),
        2,
    )
    # A conversion can turn an interval empty or inverted (DST); such intervals are dropped.
    kept = end_utc > start_utc
    business = union(store[kept], start_utc[kept], end_utc[kept])
    excluded = _exclusions_of(exclusions, stores)
    if len(excluded.store) == 0:
        return business
    return minus(business, union(excluded.store, excluded.start_us, excluded.end_us))


def _open_rows(hours: WeeklyHours) -> WeeklyHours:
    """The rows that open time: not the closed ones."""
    opens = hours.start_us != CLOSED
    if opens.all():
        return hours
    return WeeklyHours(
        hours.store[opens], hours.day[opens], hours.start_us[opens], hours.end_us[opens]
    )


def _special_of(
    special: SpecialHours, stores: npt.NDArray[np.int64], days: npt.NDArray[np.int64]
) -> SpecialHours:
    """The special rows of `stores` on the local dates `days` (others open nothing here)."""
    wanted = np.isin(special.store, stores) & (special.date >= days[0]) & (special.date <= days[-1])
    return SpecialHours(
        special.store[wanted],
        special.date[wanted],
        special.start_us[wanted],
        special.end_us[wanted],
    )


def _date_keys(
    store: npt.NDArray[np.int64], day: npt.NDArray[np.int64], days: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """(store, local date) packed into one number, for dates in `days`."""
    keys: npt.NDArray[np.int64] = store * len(days) + (day - days[0])
    return keys


def _exclusions_of(exclusions: Exclusions, stores: npt.NDArray[np.int64]) -> Exclusions:
    """The exclusions of `stores`, one of every store's repeated for each of them."""
    own = np.isin(exclusions.store, stores)
    every = np.flatnonzero(exclusions.store == EVERY_STORE)
    return Exclusions(
        np.concatenate([exclusions.store[own], np.tile(stores, len(every))]),
        np.concatenate(
            [exclusions.start_us[own], np.repeat(exclusions.start_us[every], len(stores))]
        ),
        np.concatenate([exclusions.end_us[own], np.repeat(exclusions.end_us[every], len(stores))]),
    )


def minus(business: Intervals, excluded: Intervals) -> Intervals:
    """Business time without the excluded time (both disjoint and sorted per store).

    A sweep over every bound of both, all stores at once: after each bound,
    the running sums of +1 at a start and −1 at an end say whether the
    instant is in business time and in excluded time; the stretch up to the
    next bound (of the same store) is kept when it is in the one, not the other.
    Each store's sums come back to 0 after its last bound, so one cumulative
    sum serves all stores.
    """
    n_business, n_excluded = len(business.store), len(excluded.store)
    store = np.concatenate([business.store, business.store, excluded.store, excluded.store])
    time = np.concatenate([business.start_us, business.end_us, excluded.start_us, excluded.end_us])
    ones_b, ones_e = np.ones(n_business, np.int64), np.ones(n_excluded, np.int64)
    zeros_b, zeros_e = np.zeros(n_business, np.int64), np.zeros(n_excluded, np.int64)
    in_business = np.concatenate([ones_b, -ones_b, zeros_e, zeros_e])
    in_excluded = np.concatenate([zeros_b, zeros_b, ones_e, -ones_e])
    order = order_by_group(store, time)
    store, time = store[order], time[order]
    open_ = np.cumsum(in_business[order])[:-1] > 0
    not_excluded = np.cumsum(in_excluded[order])[:-1] == 0
    kept = open_ & not_excluded & (store[1:] == store[:-1]) & (time[1:] > time[:-1])
    return union(store[:-1][kept], time[:-1][kept], time[1:][kept])


def _rows_of(hours: WeeklyHours, stores: npt.NDArray[np.int64]) -> WeeklyHours:
    wanted = np.isin(hours.store, stores)
    return WeeklyHours(
        hours.store[wanted], hours.day[wanted], hours.start_us[wanted], hours.end_us[wanted]
    )


def _with_missing_weekdays(hours: WeeklyHours, stores: npt.NDArray[np.int64]) -> WeeklyHours:
    """Add a 00:00–00:00 row (open the whole day) for each weekday a store has no row
    for; a closed row is a row (§10.1).

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


def union(
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
