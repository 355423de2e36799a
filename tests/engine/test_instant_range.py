"""The engine's date arithmetic at both ends of the instants a report accepts.

A report's as-of instant lies from 1970-01-01T00:00:00Z to a day after now,
and so do the polls it reads (amendment 5; services.reports, selectors). The
engine is held to more, so that the range never has to shrink as the years
pass: any as-of instant in the years 1970 to 2199, polls anywhere from 1970 up
to it, any zone (local mean times with offsets in seconds, far-future DST
rules), any hours rows. The report, the store's timeline and every instant a
story shows (UTC and local) must come out without an overflow, and the
timeline must add up to the report's row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.engine import ReportInputs, compute_report
from monitor.engine.timeline import (
    local_instant,
    report_row,
    store_polls,
    store_timeline,
    switch_ticks,
    utc_instant,
)
from monitor.engine.units import TICKS_PER_US, US_PER_DAY
from monitor.ingest import rules

EARLIEST = rules.EARLIEST_INSTANT
LATEST = datetime(rules.CALENDAR_YEARS[-1], 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
ZONES = sorted(available_timezones() - rules.PLACELESS_ZONES)


def _us(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // ONE_US


EARLIEST_US, LATEST_US = _us(EARLIEST), _us(LATEST)
# Both ends closely (their first and last ten days), and anywhere between.
as_of_us = st.one_of(
    st.integers(EARLIEST_US, EARLIEST_US + 10 * US_PER_DAY),
    st.integers(LATEST_US - 10 * US_PER_DAY, LATEST_US),
    st.integers(EARLIEST_US, LATEST_US),
    st.sampled_from([EARLIEST_US, LATEST_US, _us(datetime.now(UTC) + timedelta(hours=24))]),
)
times_of_day_us = st.one_of(st.integers(0, US_PER_DAY - 1), st.sampled_from([0, US_PER_DAY - 1]))


@st.composite
def inputs_at(draw: st.DrawFn, as_of: int) -> ReportInputs:
    """One store, in any zone, with hours rows and polls from the epoch up to as_of."""
    polls = draw(
        st.lists(
            st.one_of(
                st.integers(EARLIEST_US, as_of),  # anywhere, mostly long before the week
                st.integers(max(EARLIEST_US, as_of - 9 * US_PER_DAY), as_of),
                st.sampled_from([EARLIEST_US, as_of]),
            ),
            max_size=12,
            unique=True,
        )
    )
    hours = draw(st.lists(st.tuples(st.integers(0, 6), times_of_day_us, times_of_day_us)))
    return ReportInputs(
        store_ids=np.array(["s"], dtype=object),
        timezones=np.array([draw(st.sampled_from(["", *ZONES]))], dtype=str),
        poll_store=np.zeros(len(polls), dtype=np.int64),
        poll_time_us=np.array(polls, dtype=np.int64),
        poll_active=np.array(
            draw(st.lists(st.booleans(), min_size=len(polls), max_size=len(polls))), dtype=bool
        ),
        hours_store=np.zeros(len(hours), dtype=np.int64),
        hours_day=np.array([day for day, _, _ in hours], dtype=np.int64),
        hours_start_us=np.array([start for _, start, _ in hours], dtype=np.int64),
        hours_end_us=np.array([end for _, _, end in hours], dtype=np.int64),
        as_of_us=as_of,
    )


@st.composite
def report_inputs(draw: st.DrawFn) -> ReportInputs:
    return draw(inputs_at(draw(as_of_us)))


@settings(max_examples=300, deadline=None)
@given(report_inputs())
def test_no_accepted_instant_overflows_the_report_or_the_store_story(
    inputs: ReportInputs,
) -> None:
    table = compute_report(inputs)
    timeline = store_timeline(inputs, 0)
    row = report_row(timeline, "s")

    assert np.array_equal(row.uptime, table.uptime)
    assert np.array_equal(row.business, table.business)
    # Every instant a story shows, in UTC and in the store's local time.
    times, _ = store_polls(inputs, 0)
    ticks = [
        *timeline.business.start.tolist(),
        *timeline.business.end.tolist(),
        *timeline.pieces.start.tolist(),
        *timeline.pieces.end.tolist(),
        *switch_ticks(times).tolist(),
        *(times * TICKS_PER_US).tolist(),
        timeline.now,
    ]
    for tick in ticks:
        assert utc_instant(tick).year >= 1969
        local_instant(tick, timeline.zone)
