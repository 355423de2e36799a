"""A store's week laid out by local day, for the week chart (pure functions).

Everything here is in the store's local wall-clock time: a day row runs from
one local midnight to the next, positions are wall-clock hours after
midnight. (A day with a DST change has 23 or 25 real hours; its row still
reads as a clock does.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from monitor.formatting import duration_text
from monitor.pages.charts import BUSINESS_KINDS, DayRow, PollMark, Stretch


def day_rows(
    *,
    window_start: datetime,
    window_end: datetime,
    segments: Iterable[tuple[datetime, datetime, bool]],
    polls: Iterable[tuple[datetime, bool]],
    without_data: Iterable[tuple[datetime, datetime]] = (),
    special_dates: Iterable[tuple[date, str]] = (),
    excluded: Iterable[tuple[datetime, datetime, str]] = (),
) -> list[DayRow]:
    """One row per local date the window [window_start, window_end) touches.

    `segments` are (start, end, active) stretches of business time,
    `without_data` (start, end) stretches of business time with no status to
    tell (no poll at or before the as-of instant), and `polls` (instant,
    active) pairs, all aware local datetimes. Stretches that cross midnight
    are cut at it; each day's parts outside the window are marked "outside".
    The calendar (docs/report-semantics.md §10) lies under the segments: a
    local date with special hours (date, its hours as text) is "special"
    where it is not business time, and an excluded period (start, end,
    label) is "excluded".
    """
    start, end = _wall(window_start), _wall(window_end)
    days = _dates(start, end)
    stretches: dict[date, list[Stretch]] = {day: [] for day in days}
    marks: dict[date, list[PollMark]] = {day: [] for day in days}
    first, last = days[0], days[-1]
    if start > _midnight(first):
        stretches[first].append(Stretch(0, _hours(start), "outside", "Before the report's week"))
    if end < _midnight(last + timedelta(days=1)):
        stretches[last].append(Stretch(_hours(end), 24, "outside", "After the report's as-of"))
    _add_calendar(stretches, special_dates, excluded, start, end)
    kinds = [
        *(
            (start, end, "up" if active else "down", _stretch_label(start, end, active))
            for start, end, active in segments
        ),
        *((start, end, "nodata", _no_data_label(start, end)) for start, end in without_data),
    ]
    for seg_start, seg_end, kind, label in kinds:
        for day, piece_start, piece_end in _split_at_midnights(_wall(seg_start), _wall(seg_end)):
            if day in stretches:
                stretches[day].append(
                    Stretch(_hours(piece_start), _hours(piece_end, day), kind, label)
                )
    for at, active in polls:
        wall = _wall(at)
        if wall.date() in marks and start <= wall < end:
            label = f"Poll {'active' if active else 'inactive'} at {_stamp(at)}"
            marks[wall.date()].append(PollMark(_hours(wall), active, label))
    return [DayRow(f"{day:%a %d %b}", stretches[day], marks[day]) for day in days]


def _add_calendar(
    stretches: dict[date, list[Stretch]],
    special_dates: Iterable[tuple[date, str]],
    excluded: Iterable[tuple[datetime, datetime, str]],
    start: datetime,
    end: datetime,
) -> None:
    """The calendar's stretches, under the segments: each special date whole, each
    excluded period within the window [start, end) (wall-clock)."""
    for day, hours in special_dates:
        if day in stretches:
            label = f"Special hours on {day:%a %d %b}: {hours}"
            stretches[day].append(Stretch(0, 24, "special", label))
    for ex_start, ex_end, label in excluded:
        for day, piece_start, piece_end in _split_at_midnights(
            max(_wall(ex_start), start), min(_wall(ex_end), end)
        ):
            if day in stretches:
                stretches[day].append(
                    Stretch(_hours(piece_start), _hours(piece_end, day), "excluded", label)
                )


def _stretch_label(start: datetime, end: datetime, active: bool) -> str:
    status = "Up" if active else "Down"
    return f"{status} from {_stamp(start)} to {_stamp(end)} ({duration_text(end - start)})"


def _no_data_label(start: datetime, end: datetime) -> str:
    return (
        f"No data from {_stamp(start)} to {_stamp(end)}: business hours, "
        "but no poll at or before the as-of instant"
    )


def first_business_hour(days: Sequence[DayRow]) -> float | None:
    """The earliest hour of the day at which some day's business time starts (None: none)."""
    starts = [
        stretch.start for day in days for stretch in day.stretches if stretch.kind in BUSINESS_KINDS
    ]
    return min(starts, default=None)


def _stamp(instant: datetime) -> str:
    """Local time with its UTC offset, e.g. "Tue 24 Jan 09:00:00 (UTC−05:00)"."""
    offset = instant.strftime("%z")
    sign = "−" if offset.startswith("-") else "+"
    return f"{instant:%a %d %b %H:%M:%S} (UTC{sign}{offset[1:3]}:{offset[3:5]})"


def _wall(instant: datetime) -> datetime:
    """The local wall-clock reading, without its zone."""
    return instant.replace(tzinfo=None)


def _dates(start: datetime, end: datetime) -> list[date]:
    last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
    count = (last - start.date()).days + 1
    return [start.date() + timedelta(days=i) for i in range(count)]


def _split_at_midnights(
    start: datetime, end: datetime
) -> Sequence[tuple[date, datetime, datetime]]:
    pieces = []
    while start < end:
        next_midnight = _midnight(start.date() + timedelta(days=1))
        piece_end = min(end, next_midnight)
        pieces.append((start.date(), start, piece_end))
        start = piece_end
    return pieces


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _hours(wall: datetime, day: date | None = None) -> float:
    """Wall-clock hours since midnight of `day` (default: its own date; 24 at the next midnight)."""
    since = wall - _midnight(day or wall.date())
    return since.total_seconds() / 3600
