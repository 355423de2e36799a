"""An independent reference for the report, written from docs/report-semantics.md (§2–§6,
§10) alone.

Deliberately slow and plain: one store at a time, `zoneinfo` + `datetime` for
every local → UTC conversion, Python lists of intervals, and exact integers.
It shares nothing with monitor.engine except the output unit: ticks of half a
microsecond, so both can be compared with `==`.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "America/Chicago"  # docs/report-semantics.md §4: a store without a zone
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
TICKS_PER_US = 2  # a tick is half a microsecond: a midpoint of two polls is a whole tick
WINDOWS = (
    timedelta(hours=1),
    timedelta(hours=24),
    timedelta(hours=168),
)  # docs/report-semantics.md §2
# Local dates around the as-of date to convert; the week window needs 8, ±9 is ample.
DATE_MARGIN_DAYS = 9

TICKS_PER_MINUTE = 60 * 1_000_000 * TICKS_PER_US
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE

PLAIN_HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)
PERCENT_HEADER = (PLAIN_HEADER[0], *(f"{name}_pct" for name in PLAIN_HEADER[1:]))


@dataclass(frozen=True)
class HoursRow:
    day: int  # 0 = Monday … 6 = Sunday
    start: time | None  # local wall-clock time; None (both): a closed row (§10.1)
    end: time | None


@dataclass(frozen=True)
class SpecialRow:
    """A row of special hours (§10.2) on a local date; None times: closed that date."""

    date: date
    start: time | None
    end: time | None


@dataclass(frozen=True)
class Excluded:
    """An exclusion (§10.3): UTC instants, aware."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Poll:
    at: datetime  # aware, any zone (compared as instants)
    active: bool


@dataclass(frozen=True)
class StoreData:
    store_id: str
    timezone: str = ""  # "" = unknown
    hours: tuple[HoursRow, ...] = ()
    polls: tuple[Poll, ...] = ()
    special: tuple[SpecialRow, ...] = ()
    # Its own exclusions and those of every store (`*`): the reference does not tell them apart.
    excluded: tuple[Excluded, ...] = ()


Windows = tuple[int, int, int]  # one figure per window: last hour, day, week


def windows(values: Iterable[int]) -> Windows:
    hour, day, week = values
    return (hour, day, week)


@dataclass(frozen=True)
class StoreFigures:
    """One report row, exact: per window (hour, day, week), in half-microsecond ticks."""

    store_id: str
    uptime: Windows
    business: Windows

    @property
    def downtime(self) -> Windows:
        return windows(b - u for u, b in zip(self.uptime, self.business, strict=True))


def to_ticks(instant: datetime) -> int:
    return (instant - EPOCH) // ONE_US * TICKS_PER_US


# ---- §4: business hours as UTC intervals -------------------------------------------------


def local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """fold=0 (PEP 495), the plain way: a skipped time keeps the offset before the
    jump, a repeated time is its first occurrence."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def local_intervals_of_day(
    day: date, rows: list[HoursRow] | list[SpecialRow], *, whole_day_without_rows: bool = True
) -> list[tuple[date, time, date, time]]:
    """The local (date, time) bounds opened on `day` by its rows: the rows of its
    weekday, or its special rows (§10.2: a date with special rows has no whole-day default)."""
    next_day = day + timedelta(days=1)
    if not rows and whole_day_without_rows:  # a weekday without rows is open the whole day
        return [(day, time(0), next_day, time(0))]
    bounds = []
    for row in rows:
        if row.start is None or row.end is None:  # a closed row: opens nothing (§10.1)
            continue
        if row.start < row.end:
            bounds.append((day, row.start, day, row.end))
        elif row.end < row.start:  # overnight
            bounds.append((day, row.start, next_day, row.end))
        else:  # start == end: open 24 hours
            bounds.append((day, row.start, next_day, row.start))
    return bounds


def union(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def minus(
    intervals: list[tuple[datetime, datetime]], excluded: Iterable[Excluded]
) -> list[tuple[datetime, datetime]]:
    """The intervals with every excluded period cut out of them, one at a time."""
    remaining = intervals
    for period in excluded:
        cut = []
        for start, end in remaining:
            if start < period.start:
                cut.append((start, min(end, period.start)))
            if period.end < end:
                cut.append((max(start, period.end), end))
        remaining = cut
    return union(remaining)


def business_intervals(store: StoreData, as_of: datetime) -> list[tuple[datetime, datetime]]:
    """The store's business time near `as_of` as sorted, disjoint UTC intervals."""
    zone = ZoneInfo(store.timezone or DEFAULT_ZONE)
    as_of_date = as_of.astimezone(zone).date()
    converted = []
    for offset in range(-DATE_MARGIN_DAYS, DATE_MARGIN_DAYS + 1):
        day = as_of_date + timedelta(days=offset)
        special = [row for row in store.special if row.date == day]
        if special:
            bounds = local_intervals_of_day(day, special, whole_day_without_rows=False)
        else:
            rows = [row for row in store.hours if row.day == day.weekday()]
            bounds = local_intervals_of_day(day, rows)
        for start_day, start, end_day, end in bounds:
            start_utc = local_to_utc(start_day, start, zone)
            end_utc = local_to_utc(end_day, end, zone)
            if end_utc > start_utc:  # else dropped (only possible around a DST jump)
                converted.append((start_utc, end_utc))
    return minus(union(converted), store.excluded)


# ---- §5: status between polls --------------------------------------------------------------


def status_segments(polls: list[Poll]) -> list[tuple[float, float, bool]]:
    """[start, end) ticks of each poll's reign: nearest poll wins, switching at the midpoint.

    The first poll reigns from -inf, the last until +inf. Polls are in ticks (2 per µs),
    so a midpoint (a + b) / 2 is the whole tick a_µs + b_µs.
    """
    ordered = sorted(polls, key=lambda poll: poll.at)
    ticks = [to_ticks(poll.at) for poll in ordered]
    midpoints = [(a + b) // 2 for a, b in itertools.pairwise(ticks)]
    starts = [-math.inf, *midpoints]
    ends = [*midpoints, math.inf]
    return [
        (start, end, poll.active) for start, end, poll in zip(starts, ends, ordered, strict=True)
    ]


def status_at(polls: list[Poll], instant_ticks: int) -> bool:
    for start, end, active in status_segments(polls):
        if start <= instant_ticks < end:
            return active
    raise AssertionError("the segments cover every instant")


def overlap(a: tuple[float, float], b: tuple[float, float]) -> int:
    return int(max(0, min(a[1], b[1]) - max(a[0], b[0])))


# ---- §3, §6: the report ----------------------------------------------------------------


def store_figures(store: StoreData, as_of: datetime) -> StoreFigures | None:
    polls = [poll for poll in store.polls if poll.at <= as_of]  # later polls don't exist
    if not polls:
        return None  # §3: only stores with a poll at or before now
    business = [(to_ticks(a), to_ticks(b)) for a, b in business_intervals(store, as_of)]
    active = [(s, e) for s, e, is_active in status_segments(polls) if is_active]
    now = to_ticks(as_of)
    uptimes, businesses = [], []
    for length in WINDOWS:
        window = (now - length // ONE_US * TICKS_PER_US, now)
        open_parts = [(max(a, window[0]), min(b, window[1])) for a, b in business]
        open_parts = [(a, b) for a, b in open_parts if a < b]
        businesses.append(sum(b - a for a, b in open_parts))
        uptimes.append(sum(overlap(part, seg) for part in open_parts for seg in active))
    return StoreFigures(store.store_id, windows(uptimes), windows(businesses))


def reference_report(stores: Iterable[StoreData], as_of: datetime) -> list[StoreFigures]:
    """Rows of the reported stores, sorted by store_id as a plain string."""
    rows = [store_figures(store, as_of) for store in stores]
    return sorted((row for row in rows if row is not None), key=lambda row: row.store_id)


# ---- §6: rendering ---------------------------------------------------------------------


def half_up_2(value: Fraction) -> str:
    """Round a non-negative exact value half up to 2 decimals, written with 2 decimals."""
    assert value >= 0
    hundredths = math.floor(value * 100 + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def plain_cells(row: StoreFigures) -> list[str]:
    units = (TICKS_PER_MINUTE, TICKS_PER_HOUR, TICKS_PER_HOUR)
    return [
        half_up_2(Fraction(ticks, unit))
        for values in (row.uptime, row.downtime)
        for ticks, unit in zip(values, units, strict=True)
    ]


def percent_cells(row: StoreFigures) -> list[str]:
    return [
        half_up_2(Fraction(100 * ticks, business)) if business else ""
        for values in (row.uptime, row.downtime)
        for ticks, business in zip(values, row.business, strict=True)
    ]


def reference_csv(rows: Iterable[StoreFigures], *, percent: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PERCENT_HEADER if percent else PLAIN_HEADER)
    cells = percent_cells if percent else plain_cells
    for row in rows:
        writer.writerow([row.store_id, *cells(row)])
    return out.getvalue()


# ---- §8: a store's timeline ------------------------------------------------------------------


def store_pieces(store: StoreData, as_of: datetime) -> list[tuple[int, int, bool]]:
    """The maximal intervals of business time ∩ last week of constant status, in ticks.

    Cut plainly: each business interval at every status segment boundary inside it,
    then neighbours that touch with the same status are joined.
    """
    polls = [poll for poll in store.polls if poll.at <= as_of]
    if not polls:
        return []
    now = to_ticks(as_of)
    week = (now - WINDOWS[-1] // ONE_US * TICKS_PER_US, now)
    pieces: list[tuple[int, int, bool]] = []
    for a, b in business_intervals(store, as_of):
        part = (max(to_ticks(a), week[0]), min(to_ticks(b), week[1]))
        for start, end, active in status_segments(polls):
            length = overlap(part, (start, end))
            if length:
                piece_start = int(max(part[0], start))
                pieces.append((piece_start, piece_start + length, active))
    joined: list[tuple[int, int, bool]] = []
    for start, end, active in pieces:
        if joined and joined[-1][1] == start and joined[-1][2] == active:
            joined[-1] = (joined[-1][0], end, active)
        else:
            joined.append((start, end, active))
    return joined
