"""monitor.formatting: exact, half-up printing, the same as the report CSV's."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine.render import figure_cells
from monitor.engine.report import ReportTable
from monitor.engine.units import TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_US
from monitor.formatting import (
    duration_text,
    gap_text,
    hours_and_minutes_text,
    hours_text,
    incident_duration_text,
    minutes_text,
    percent_text,
    seconds_text,
    ticks_of,
    two_decimals,
)

WEEK_TICKS = 7 * 24 * TICKS_PER_HOUR


def test_a_half_hundredth_rounds_up_where_a_float_rounds_to_even() -> None:
    # 0.125 is exact in binary, and `:.2f` rounds it half to even: the CSV says 0.13.
    assert f"{(TICKS_PER_HOUR // 8) / TICKS_PER_HOUR:.2f}" == "0.12"
    assert hours_text(TICKS_PER_HOUR // 8) == "0.13"
    assert minutes_text(TICKS_PER_MINUTE // 8) == "0.13"
    assert percent_text(1, 8) == "12.50"
    assert percent_text(1, 20_000) == "0.01"  # 0.005 %
    assert percent_text(1, 20_001) == "0.00"


def test_hours_and_minutes_carry_a_rounded_up_minute() -> None:
    assert hours_and_minutes_text(90 * TICKS_PER_MINUTE) == "1 h 30.00 min"
    assert hours_and_minutes_text(24 * TICKS_PER_HOUR) == "24 h 00.00 min"
    almost_an_hour = 60 * TICKS_PER_MINUTE - TICKS_PER_MINUTE // 200  # 59.995 min
    assert hours_and_minutes_text(almost_an_hour) == "1 h 00.00 min"
    assert hours_and_minutes_text(almost_an_hour - 1) == "0 h 59.99 min"
    assert hours_and_minutes_text(TICKS_PER_MINUTE // 8) == "0 h 00.13 min"


def test_ticks_of_a_timedelta_are_exact() -> None:
    assert ticks_of(timedelta(days=7, microseconds=1)) == WEEK_TICKS + TICKS_PER_US


@pytest.mark.parametrize(
    ("hundredths", "text"), [(0, "0.00"), (5, "0.05"), (50, "0.50"), (16_800, "168.00")]
)
def test_two_decimals(hundredths: int, text: str) -> None:
    assert two_decimals(hundredths) == text


@pytest.mark.parametrize(
    ("length", "text"),
    [
        (timedelta(hours=2, minutes=5, seconds=59), "2 h 05 min"),
        (timedelta(minutes=12, seconds=30, microseconds=999_999), "12 min 30 s"),
        (timedelta(seconds=45), "45 s"),
    ],
)
def test_duration_text(length: timedelta, text: str) -> None:
    assert duration_text(length) == text


@pytest.mark.parametrize(
    ("ticks", "text"),
    [
        (0, "0 s"),
        (2 * 59_999_999 + 1, "59 s"),  # rounded down, half a microsecond included
        (45 * TICKS_PER_MINUTE + 2 * 30_000_000, "45 min 30 s"),
        (23 * TICKS_PER_HOUR + 59 * TICKS_PER_MINUTE + 2 * 59_999_999, "23 h 59 min"),
        (24 * TICKS_PER_HOUR, "1 d 0 h 00 min"),
        (51 * TICKS_PER_HOUR + 5 * TICKS_PER_MINUTE, "2 d 3 h 05 min"),
    ],
)
def test_incident_duration_text(ticks: int, text: str) -> None:
    assert incident_duration_text(ticks) == text


def test_gap_text_and_seconds_text() -> None:
    assert gap_text(timedelta(hours=3, minutes=5, seconds=59)) == "3 h 5 min"
    assert gap_text(timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h 5 min"
    assert seconds_text(timedelta(seconds=2, milliseconds=449)) == "2.4 s"
    assert seconds_text(timedelta(seconds=2, milliseconds=450)) == "2.5 s"  # half up
    assert seconds_text(timedelta(seconds=61)) == "61.0 s"


@given(
    st.lists(
        st.tuples(st.integers(0, WEEK_TICKS), st.integers(0, WEEK_TICKS)), min_size=1, max_size=20
    )
)
def test_the_same_figures_as_the_csv(pairs: list[tuple[int, int]]) -> None:
    business = np.array([[max(a, b)] * 3 for a, b in pairs], dtype=np.int64)
    uptime = np.array([[min(a, b)] * 3 for a, b in pairs], dtype=np.int64)
    table = ReportTable(np.array([str(i) for i in range(len(pairs))]), uptime, business)
    for row, (a, b) in zip(figure_cells(table), pairs, strict=True):
        up, down = min(a, b), max(a, b) - min(a, b)
        assert row == [
            *(minutes_text(up), hours_text(up), hours_text(up)),
            *(minutes_text(down), hours_text(down), hours_text(down)),
        ]
    for row, (a, b) in zip(figure_cells(table, percent=True), pairs, strict=True):
        up, whole = min(a, b), max(a, b)
        if whole == 0:
            assert row == [""] * 6
        else:
            assert row == [percent_text(up, whole)] * 3 + [percent_text(whole - up, whole)] * 3
