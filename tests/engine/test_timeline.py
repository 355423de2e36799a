"""A store's timeline (docs/report-semantics.md §8): its pieces and outages add up to its
report row, exactly.

Property tests on the random stores of test_properties (DST weeks, overnight and
split shifts, stores without hours or zone, polls before the window and after
now): each store's pieces equal the plain reference's, they partition business
time ∩ week, and per window their lengths sum to the report engine's figures.
Hand examples from its worked examples follow.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine import compute_report
from monitor.engine.report import stores_without_polls_since
from monitor.engine.timeline import (
    Spans,
    Timeline,
    local_instant,
    report_row,
    store_timeline,
    switch_ticks,
    utc_instant,
)
from monitor.engine.units import TICKS_PER_HOUR, TICKS_PER_MINUTE, US_PER_HOUR
from tests.engine.bridge import engine_inputs, figures_of
from tests.engine.reference import (
    HoursRow,
    Poll,
    StoreData,
    business_intervals,
    reference_report,
    store_pieces,
    to_ticks,
)
from tests.engine.test_properties import PROPERTY_SETTINGS, scenarios

NOW = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)  # the worked examples' now


@PROPERTY_SETTINGS
@given(scenarios())
def test_pieces_match_the_reference_and_add_up_to_the_report(
    scenario: tuple[list[StoreData], datetime],
) -> None:
    stores, as_of = scenario
    inputs = engine_inputs(stores, as_of)
    report = {row.store_id: row for row in figures_of(compute_report(inputs))}
    assert report == {row.store_id: row for row in reference_report(stores, as_of)}
    for index, store in enumerate(stores):
        timeline = store_timeline(inputs, index)
        pieces = list(
            zip(
                timeline.pieces.start.tolist(),
                timeline.pieces.end.tolist(),
                timeline.pieces.active.tolist(),
                strict=True,
            )
        )
        assert pieces == store_pieces(store, as_of)
        if store.store_id not in report:  # no poll at or before now: not reported
            assert pieces == []
            assert len(report_row(timeline, store.store_id)) == 0
            continue
        row = report[store.store_id]
        assert timeline.totals() == list(zip(row.uptime, row.business, strict=True))
        assert figures_of(report_row(timeline, store.store_id)) == [row]
        downtime_week = int(timeline.outages.lengths.sum())
        assert downtime_week == row.downtime[2]
        _assert_partition(timeline.pieces.start, timeline.pieces.end, timeline.business)


def _assert_partition(start: np.ndarray, end: np.ndarray, business: Spans) -> None:
    """Pieces are sorted, disjoint, and their union is exactly the business time."""
    assert (end > start).all()
    assert (start[1:] >= end[:-1]).all()
    gaps = start[1:] != end[:-1]  # where business time is interrupted
    runs = np.split(np.arange(len(start)), np.flatnonzero(gaps) + 1)
    covered = [(int(start[r[0]]), int(end[r[-1]])) for r in runs if len(r)]
    assert covered == list(zip(business.start.tolist(), business.end.tolist(), strict=True))


@PROPERTY_SETTINGS
@given(scenarios())
def test_business_spans_are_the_references_within_the_week(
    scenario: tuple[list[StoreData], datetime],
) -> None:
    stores, as_of = scenario
    inputs = engine_inputs(stores, as_of)
    now = to_ticks(as_of)
    week_start = now - 168 * TICKS_PER_HOUR
    for index, store in enumerate(stores):
        expected = [
            (max(to_ticks(a), week_start), min(to_ticks(b), now))
            for a, b in business_intervals(store, as_of)
        ]
        expected = [(a, b) for a, b in expected if a < b]
        business = store_timeline(inputs, index).business
        assert list(zip(business.start.tolist(), business.end.tolist(), strict=True)) == expected


# ---- hand examples (§7, §8) ---------------------------------------------------------------


def _timeline(store: StoreData, as_of: datetime = NOW) -> Timeline:
    return store_timeline(engine_inputs([store], as_of), 0)


def _ticks(instant: datetime) -> int:
    return to_ticks(instant)


def test_example_1_the_last_hours_outage_starts_at_the_midpoint() -> None:
    # No hours, no zone; 17:10 active, 17:40 inactive → inactive from 17:25 to now.
    store = StoreData(
        "example-1",
        polls=(
            Poll(NOW - timedelta(minutes=50), True),
            Poll(NOW - timedelta(minutes=20), False),
        ),
    )
    timeline = _timeline(store)

    outages = timeline.outages
    assert (outages.start.tolist(), outages.end.tolist()) == (
        [_ticks(NOW - timedelta(minutes=35))],
        [_ticks(NOW)],
    )
    hour = timeline.window(US_PER_HOUR)
    assert hour.totals() == (25 * TICKS_PER_MINUTE, 60 * TICKS_PER_MINUTE)
    # Open 24×7 in Chicago: one business interval, the whole week.
    assert len(timeline.business) == 1
    assert timeline.zone == "America/Chicago"


def test_example_3_overnight_shift_is_one_interval_in_local_time() -> None:
    # Kolkata, Wednesday 22:00–02:00; the other weekdays have no rows, so they are
    # open all day: the shift runs into Thursday's whole day.
    store = StoreData(
        "example-3",
        timezone="Asia/Kolkata",
        hours=(HoursRow(2, time(22), time(2)),),
        polls=(Poll(NOW - timedelta(hours=3), True),),
    )
    timeline = _timeline(store)

    last_day = timeline.window(24 * US_PER_HOUR)
    assert last_day.totals() == (2 * TICKS_PER_HOUR, 2 * TICKS_PER_HOUR)
    # The shift and Thursday overlap: one interval, from Wednesday 22:00 IST (16:30 UTC).
    last = int(timeline.business.start[-1])
    assert local_instant(last, timeline.zone).isoformat() == "2023-01-25T22:00:00+05:30"
    assert utc_instant(last) == datetime(2023, 1, 25, 16, 30, tzinfo=UTC)


def test_outage_boundary_at_half_a_microsecond_is_shown_truncated() -> None:
    # Polls 1 µs apart: the switch lies half-way between two microseconds.
    inactive_at = NOW - timedelta(minutes=30, microseconds=-1)
    store = StoreData(
        "half",
        polls=(Poll(NOW - timedelta(minutes=30), True), Poll(inactive_at, False)),
    )
    timeline = _timeline(store)

    (start,) = timeline.outages.start.tolist()
    assert start % 2 == 1  # a half microsecond
    assert utc_instant(start) == NOW - timedelta(minutes=30)  # shown truncated
    # while its length is exact: 30 minutes less half a microsecond
    assert int(timeline.outages.lengths[0]) == 30 * TICKS_PER_MINUTE - 1


def test_store_without_polls_has_business_time_but_no_pieces() -> None:
    store = StoreData("later", polls=(Poll(NOW + timedelta(hours=1), False),))
    timeline = _timeline(store)

    assert len(timeline.pieces) == 0
    assert len(timeline.business) == 1


def test_switches_are_the_midpoints_of_consecutive_polls() -> None:
    times = np.array([0, 10, 13], dtype=np.int64)
    assert switch_ticks(times).tolist() == [10, 23]  # 5 µs and 11.5 µs


@given(st.integers(0, 4 * 10**17))  # up to year 8307
def test_utc_instant_truncates_half_microseconds(ticks: int) -> None:
    assert to_ticks(utc_instant(ticks)) == ticks - ticks % 2


def test_example_4_dst_interval_shows_both_offsets() -> None:
    # Chicago, Sunday 2024-03-10 01:00–03:00 local: clocks jump 02:00 → 03:00, so one
    # hour of business time, from 01:00 CST (UTC−6) to 03:00 CDT (UTC−5).
    now = datetime(2024, 3, 10, 12, tzinfo=UTC)
    store = StoreData(
        "dst",
        timezone="America/Chicago",
        hours=(HoursRow(6, time(1), time(3)),),
        polls=(Poll(now - timedelta(hours=5, minutes=30), False),),
    )
    timeline = _timeline(store, now)

    (outage,) = (
        (start, end)
        for start, end in zip(
            timeline.outages.start.tolist(), timeline.outages.end.tolist(), strict=True
        )
        if utc_instant(start).date() == now.date()
    )
    assert local_instant(outage[0], timeline.zone).isoformat() == "2024-03-10T01:00:00-06:00"
    assert local_instant(outage[1], timeline.zone).isoformat() == "2024-03-10T03:00:00-05:00"
    assert outage[1] - outage[0] == TICKS_PER_HOUR


def test_reported_store_without_business_time_has_a_row_of_zeros() -> None:
    # A store with a poll is reported even if no business time fell in its week
    # (compute_report then prints zeros): the row follows the poll, not the pieces.
    store = StoreData("zero", polls=(Poll(NOW - timedelta(hours=1), True),))
    timeline = dataclasses.replace(
        _timeline(store),
        business=Spans(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)),
        pieces=Spans(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)),
    )

    (row,) = figures_of(report_row(timeline, "zero"))
    assert (row.uptime, row.business) == ((0, 0, 0), (0, 0, 0))


def test_stores_without_polls_since_counts_reported_stores_only() -> None:
    day = timedelta(hours=24)
    stores = [
        StoreData("fresh", polls=(Poll(NOW - day, False),)),  # exactly 24 h before: recent
        StoreData("stale", polls=(Poll(NOW - day - timedelta(microseconds=1), True),)),
        StoreData("later", polls=(Poll(NOW + timedelta(seconds=1), True),)),  # not reported
        StoreData("mixed", polls=(Poll(NOW - 3 * day, True), Poll(NOW, True))),
    ]
    inputs = engine_inputs(stores, NOW)

    assert stores_without_polls_since(inputs, inputs.as_of_us - 24 * US_PER_HOUR) == 1
