"""Property tests: the engine agrees exactly with the reference on random stores.
(§N refers to docs/report-semantics.md.)

Random zones (DST, 30- and 45-minute offsets), hours rows of every kind,
random polls (before, inside and after the windows) and as-of instants, many of
them in a week with a DST jump. A third property checks the reference itself
against a different formulation of docs/report-semantics.md: minute-by-minute sampling with the
status of the nearest poll.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.engine import ReportInputs, compute_report, render_csv
from tests.engine.bridge import engine_inputs, engine_render, figures_of, reordered
from tests.engine.reference import (
    DEFAULT_ZONE,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    TICKS_PER_US,
    WINDOWS,
    HoursRow,
    Poll,
    StoreData,
    StoreFigures,
    local_intervals_of_day,
    local_to_utc,
    reference_csv,
    reference_report,
    windows,
)

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
ONE_US = timedelta(microseconds=1)

ZONES = (
    "",  # unknown: America/Chicago
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
    "America/St_Johns",
)
# UTC instants of DST jumps of the zones above (2023 and 2024).
DST_JUMPS = (
    datetime(2023, 3, 12, 8, tzinfo=UTC),  # America/Chicago forward
    datetime(2023, 11, 5, 7, tzinfo=UTC),  # America/Chicago back
    datetime(2024, 3, 10, 7, tzinfo=UTC),  # America/New_York forward
    datetime(2024, 3, 10, 8, tzinfo=UTC),  # America/Chicago forward
    datetime(2024, 3, 10, 5, 30, tzinfo=UTC),  # America/St_Johns forward
    datetime(2024, 11, 3, 7, tzinfo=UTC),  # America/Chicago back
    datetime(2024, 3, 31, 1, tzinfo=UTC),  # Europe/London forward
    datetime(2024, 10, 27, 1, tzinfo=UTC),  # Europe/London back
    datetime(2024, 4, 6, 15, tzinfo=UTC),  # Australia/Lord_Howe back 30 min
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),  # Australia/Lord_Howe forward 30 min
    datetime(2024, 4, 6, 14, tzinfo=UTC),  # Pacific/Chatham back
    datetime(2024, 9, 28, 14, tzinfo=UTC),  # Pacific/Chatham forward
)
EARLIEST = datetime(2023, 1, 1, tzinfo=UTC)
LATEST = datetime(2025, 12, 31, tzinfo=UTC)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


def _time_of_day(us: int) -> time:
    minutes, us = divmod(us, US_PER_MINUTE)
    return time(minutes // 60, minutes % 60, us // 1_000_000, us % 1_000_000)


def _span_us(start: datetime, end: datetime) -> st.SearchStrategy[int]:
    return st.integers(0, (end - start) // ONE_US)


# Times of day: whole hours, quarter hours in the small hours (where DST jumps happen),
# whole minutes, and any microsecond.
times_of_day = st.one_of(
    st.integers(0, 23).map(lambda hour: time(hour)),
    st.integers(0, 4 * 4).map(lambda quarter: time(quarter // 4, quarter % 4 * 15)),
    st.integers(0, 24 * 60 - 1).map(lambda minute: _time_of_day(minute * US_PER_MINUTE)),
    st.integers(0, US_PER_DAY - 1).map(_time_of_day),
)
as_of_instants = st.one_of(
    # Inside a DST jump week: the jump anywhere in the last week, or just outside it.
    st.builds(
        lambda jump, offset_us: jump + offset_us * ONE_US,
        st.sampled_from(DST_JUMPS),
        st.integers(-US_PER_DAY, 8 * US_PER_DAY),
    ),
    _span_us(EARLIEST, LATEST).map(lambda offset_us: EARLIEST + offset_us * ONE_US),
)
# Poll instants relative to as-of: mostly around the week window, sometimes long before,
# sometimes after as-of (which the report must ignore), sometimes exactly at it.
poll_offsets_us = st.one_of(
    st.integers(-10 * US_PER_DAY, US_PER_DAY),
    st.integers(-60 * US_PER_DAY, -9 * US_PER_DAY),
    st.builds(
        lambda hours, jitter: hours * US_PER_HOUR + jitter,
        st.integers(-9 * 24, 2),
        st.integers(-3, 3),
    ),
    st.just(0),
)


@st.composite
def hours_rows(draw: st.DrawFn) -> tuple[HoursRow, ...]:
    days = st.integers(0, 6)
    rows = draw(
        st.lists(
            st.one_of(
                st.builds(HoursRow, days, times_of_day, times_of_day),
                # start == end: open 24 hours
                st.builds(lambda day, wall: HoursRow(day, wall, wall), days, times_of_day),
            ),
            max_size=10,
        )
    )
    repeated = draw(st.lists(st.sampled_from(rows), max_size=3)) if rows else []
    return tuple(draw(st.permutations(rows + repeated)))


@st.composite
def stores(draw: st.DrawFn, as_of: datetime) -> StoreData:
    offsets = draw(st.lists(poll_offsets_us, unique=True, max_size=20))
    actives = draw(st.lists(st.booleans(), min_size=len(offsets), max_size=len(offsets)))
    return StoreData(
        store_id="",  # set by the caller, unique
        timezone=draw(st.sampled_from(ZONES)),
        hours=draw(hours_rows()),
        polls=tuple(
            Poll(as_of + offset * ONE_US, active)
            for offset, active in zip(offsets, actives, strict=True)
        ),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[StoreData], datetime]:
    as_of = draw(as_of_instants)
    ids = draw(
        st.lists(
            st.text("0123456789abcdefABCDEF-", min_size=1, max_size=8),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    data = [draw(stores(as_of)) for _ in ids]
    return [
        StoreData(store_id, store.timezone, store.hours, store.polls)
        for store_id, store in zip(ids, data, strict=True)
    ], as_of


def _poll_orders(inputs: ReportInputs) -> st.SearchStrategy[list[int]]:
    """Polls as built (grouped by store), sorted by (store, time), by time alone (the
    order of a scan of the (timestamp, store) index), or in any order."""
    count = len(inputs.poll_time_us)
    return st.one_of(
        st.just(list(range(count))),
        st.just(np.lexsort((inputs.poll_time_us, inputs.poll_store)).tolist()),
        st.just(np.argsort(inputs.poll_time_us, kind="stable").tolist()),
        st.permutations(range(count)),
    )


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_engine_matches_reference(
    scenario: tuple[list[StoreData], datetime], data: st.DataObject
) -> None:
    stores_, as_of = scenario
    expected = reference_report(stores_, as_of)
    inputs = engine_inputs(stores_, as_of)
    inputs = reordered(
        inputs,
        data.draw(_poll_orders(inputs), label="poll order"),
        data.draw(st.permutations(range(len(inputs.hours_day))), label="hours order"),
    )
    table = compute_report(inputs)

    assert figures_of(table) == expected
    assert render_csv(table) == reference_csv(expected)
    assert render_csv(table, percent=True) == reference_csv(expected, percent=True)


# ---- rendering on its own, with figures crowding the rounding boundaries -----------------

WINDOW_TICKS = tuple(window // ONE_US * TICKS_PER_US for window in WINDOWS)
# Half a hundredth of the printed unit: minutes for the last hour, hours for the others.
HALF_HUNDREDTH = (TICKS_PER_MINUTE // 200, TICKS_PER_HOUR // 200, TICKS_PER_HOUR // 200)


@st.composite
def window_figures(draw: st.DrawFn, window: int) -> tuple[int, int]:
    """(uptime, business) of one window, often on or next to a .xx5 boundary."""
    business = draw(
        st.one_of(
            st.integers(0, WINDOW_TICKS[window]),
            # A multiple of 20 000 ticks has uptimes giving exactly x.xx5 %.
            st.integers(0, WINDOW_TICKS[window] // 20_000).map(lambda k: k * 20_000),
        )
    )
    uptime = draw(
        st.one_of(
            st.integers(0, business),
            st.builds(
                lambda k, nudge: min(business, max(0, k * HALF_HUNDREDTH[window] + nudge)),
                st.integers(0, business // HALF_HUNDREDTH[window]),
                st.integers(-1, 1),
            ),
            st.builds(
                lambda k, nudge: min(business, max(0, k * (business // 20_000) + nudge)),
                st.integers(0, 20_000),
                st.integers(-1, 1),
            ),
        )
    )
    return uptime, business


@st.composite
def figure_rows(draw: st.DrawFn) -> list[StoreFigures]:
    ids = draw(
        st.lists(st.text("0123456789abcdef-", min_size=1, max_size=6), max_size=8, unique=True)
    )
    rows = []
    for store_id in sorted(ids):
        drawn = [draw(window_figures(window)) for window in range(3)]
        rows.append(
            StoreFigures(
                store_id,
                windows(uptime for uptime, _ in drawn),
                windows(business for _, business in drawn),
            )
        )
    return rows


@PROPERTY_SETTINGS
@given(figure_rows(), st.booleans())
def test_render_matches_reference(rows: list[StoreFigures], percent: bool) -> None:
    assert engine_render(rows, percent=percent) == reference_csv(rows, percent=percent)


# ---- the reference against minute sampling -------------------------------------------------


def _is_open(store: StoreData, instant: datetime) -> bool:
    """§4 read directly: some row of some nearby local date covers the instant."""
    zone = ZoneInfo(store.timezone or DEFAULT_ZONE)
    local_date = instant.astimezone(zone).date()
    for offset in (-2, -1, 0, 1):
        day: date = local_date + timedelta(days=offset)
        rows = [row for row in store.hours if row.day == day.weekday()]
        for start_day, start, end_day, end in local_intervals_of_day(day, rows):
            if local_to_utc(start_day, start, zone) <= instant < local_to_utc(end_day, end, zone):
                return True
    return False


def _status(polls: list[Poll], instant: datetime) -> bool:
    """§5 read directly: the nearest poll; at an exact tie (the midpoint), the later one."""
    nearest = min(polls, key=lambda poll: (abs(poll.at - instant), -poll.at.timestamp()))
    return nearest.active


def _sampled_minutes(store: StoreData, as_of: datetime) -> tuple[list[int], list[int]]:
    polls = sorted((poll for poll in store.polls if poll.at <= as_of), key=lambda p: p.at)
    times = [poll.at for poll in polls]
    week_minutes = WINDOWS[-1] // timedelta(minutes=1)
    # Status and openness of each minute of the week, oldest first; shorter windows are
    # its tail. Only the polls on either side of a minute can be the nearest.
    open_flags, up_flags = [], []
    for k in range(week_minutes, 0, -1):
        minute = as_of - timedelta(minutes=k)
        i = bisect.bisect_left(times, minute)
        is_open = _is_open(store, minute)
        open_flags.append(is_open)
        up_flags.append(is_open and _status(polls[max(0, i - 1) : i + 1], minute))
    uptimes, businesses = [], []
    for window in WINDOWS:
        count = window // timedelta(minutes=1)
        uptimes.append(sum(up_flags[-count:]) * TICKS_PER_MINUTE)
        businesses.append(sum(open_flags[-count:]) * TICKS_PER_MINUTE)
    return uptimes, businesses


@st.composite
def whole_minute_store(draw: st.DrawFn) -> tuple[StoreData, datetime]:
    """Every boundary on a whole minute (polls on even minutes, so midpoints too): then the
    status and business hours are constant over each minute and sampling is exact."""
    as_of = draw(as_of_instants).replace(second=0, microsecond=0)
    minute_times = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
    days = st.integers(0, 6)
    hours = draw(
        st.lists(
            st.one_of(
                st.builds(HoursRow, days, minute_times, minute_times),
                st.builds(lambda d, t: HoursRow(d, t, t), days, minute_times),
            ),
            max_size=6,
        )
    )
    offsets = draw(st.lists(st.integers(-9 * 24 * 30, 30), min_size=1, max_size=12, unique=True))
    polls = tuple(
        Poll(as_of + timedelta(minutes=2 * offset), draw(st.booleans())) for offset in offsets
    )
    zone = draw(st.sampled_from(ZONES))
    return StoreData("s", zone, tuple(hours), polls), as_of


@settings(max_examples=15, deadline=None)
@given(whole_minute_store())
def test_reference_matches_minute_sampling(case: tuple[StoreData, datetime]) -> None:
    store, as_of = case
    rows = reference_report([store], as_of)
    if not rows:
        assert all(poll.at > as_of for poll in store.polls)
        return
    uptimes, businesses = _sampled_minutes(store, as_of)
    assert (list(rows[0].uptime), list(rows[0].business)) == (uptimes, businesses)
