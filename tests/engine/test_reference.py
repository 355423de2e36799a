"""The reference's own parts against hand-computed values, so it is not trusted blindly.

(Every case of test_spec_examples.py also runs against the reference as a whole.)
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from tests.engine.reference import (
    HoursRow,
    Poll,
    StoreData,
    business_intervals,
    half_up_2,
    local_to_utc,
    status_at,
    to_ticks,
    union,
)

CHICAGO = ZoneInfo("America/Chicago")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def intervals_within(
    store: StoreData, as_of: datetime, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    return [(a, b) for a, b in business_intervals(store, as_of) if start <= a and b <= end]


@pytest.mark.parametrize(
    ("day", "wall", "expected"),
    [
        (datetime(2024, 3, 10), time(1), utc(2024, 3, 10, 7)),  # CST
        (datetime(2024, 3, 10), time(2, 15), utc(2024, 3, 10, 8, 15)),  # gap: CST kept
        (datetime(2024, 3, 10), time(3), utc(2024, 3, 10, 8)),  # CDT
        (datetime(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 6, 30)),  # repeat: first, CDT
        (datetime(2024, 11, 3), time(2), utc(2024, 11, 3, 8)),  # CST
    ],
)
def test_local_to_utc_is_fold_0(day: datetime, wall: time, expected: datetime) -> None:
    assert local_to_utc(day.date(), wall, CHICAGO) == expected


def test_union_merges_overlapping_and_touching_intervals() -> None:
    a, b, c, d, e = (utc(2024, 1, 1, hour) for hour in (1, 2, 3, 4, 5))
    assert union([(c, d), (a, b), (b, c), (a, c), (e, e + timedelta(hours=1))]) == [
        (a, d),
        (e, e + timedelta(hours=1)),
    ]


def test_example_3_intervals() -> None:
    store = StoreData("s", timezone="Asia/Kolkata", hours=(HoursRow(2, time(22), time(2)),))
    got = business_intervals(store, utc(2023, 1, 25, 18))

    # Wednesday 18 22:00 IST (16:30 UTC) runs into the whole days Thursday … Tuesday, to
    # Wednesday 25 00:00 IST; Wednesday 25 is closed until 22:00 IST, then the overnight row
    # runs into Thursday 26's whole day, and so on.
    stretch = (utc(2023, 1, 18, 16, 30), utc(2023, 1, 24, 18, 30))
    assert stretch in got
    assert got[got.index(stretch) + 1][0] == utc(2023, 1, 25, 16, 30)


def test_example_4_and_the_gap_rows() -> None:
    rows = (
        HoursRow(6, time(1), time(3)),  # example 4
        HoursRow(6, time(2, 15), time(2, 45)),  # inside it
        HoursRow(6, time(12), time(13)),
        *(HoursRow(day, time(12), time(13)) for day in range(6)),
    )
    vanishing = (HoursRow(6, time(2, 30), time(3)), HoursRow(6, time(12), time(13)))
    now = utc(2024, 3, 10, 12)
    sunday = (utc(2024, 3, 10), utc(2024, 3, 11))

    assert intervals_within(StoreData("s", "America/Chicago", rows), now, *sunday) == [
        (utc(2024, 3, 10, 7), utc(2024, 3, 10, 8)),
        (utc(2024, 3, 10, 8, 15), utc(2024, 3, 10, 8, 45)),
        (utc(2024, 3, 10, 17), utc(2024, 3, 10, 18)),
    ]
    assert intervals_within(StoreData("s", "America/Chicago", vanishing), now, *sunday) == [
        (utc(2024, 3, 10, 17), utc(2024, 3, 10, 18)),
    ]


def test_missing_weekday_is_its_whole_local_day_and_no_zone_is_chicago() -> None:
    store = StoreData("s", hours=tuple(HoursRow(day, time(12), time(13)) for day in range(6)))
    got = intervals_within(store, utc(2024, 3, 12), utc(2024, 3, 9, 19), utc(2024, 3, 11, 12))

    assert got == [(utc(2024, 3, 10, 6), utc(2024, 3, 11, 5))]  # 23 h: the spring-forward day


def test_no_rows_means_always_open() -> None:
    now = utc(2024, 11, 3, 12)
    got = business_intervals(StoreData("s", "Australia/Lord_Howe"), now)

    assert len(got) == 1
    start, end = got[0]
    assert start <= now - timedelta(days=8)
    assert now + timedelta(days=1) <= end


def test_status_switches_at_the_exact_midpoint() -> None:
    t0 = utc(2023, 1, 25, 17, 10)
    polls = [Poll(t0 + timedelta(microseconds=3), True), Poll(t0, False)]  # any order
    base = to_ticks(t0)

    assert [status_at(polls, base + k) for k in (-(10**9), 0, 2, 3, 6, 10**9)] == [
        False,  # the first poll holds before it
        False,
        False,  # 1 µs: before the 1.5 µs midpoint
        True,  # the midpoint belongs to the later poll
        True,
        True,  # the last poll holds after it
    ]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Fraction(0), "0.00"),
        (Fraction(5, 1000), "0.01"),
        (Fraction(4999, 1_000_000), "0.00"),
        (Fraction(1, 8), "0.13"),
        (Fraction(2345, 1000), "2.35"),
        (Fraction(59995, 1000), "60.00"),
        (Fraction(168), "168.00"),
        (Fraction(100, 3), "33.33"),
        (Fraction(200, 3), "66.67"),
    ],
)
def test_half_up_2(value: Fraction, written: str) -> None:
    assert half_up_2(value) == written
