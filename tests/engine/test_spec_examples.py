"""Worked examples (§7) of docs/report-semantics.md, one hand-computed case per rule of §2–§6.

Every case runs twice: against the engine and against the reference
(tests/engine/reference.py), so the hand-computed figures check both, and the
reference that the property tests trust is itself held to the same numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta

import pytest

from monitor.engine import compute_report
from tests.engine.bridge import engine_csv, engine_inputs, engine_render, engine_report
from tests.engine.reference import (
    ONE_US,
    PERCENT_HEADER,
    PLAIN_HEADER,
    TICKS_PER_US,
    HoursRow,
    Poll,
    StoreData,
    StoreFigures,
    Windows,
    reference_csv,
    reference_report,
)

Report = Callable[[Sequence[StoreData], datetime], list[StoreFigures]]
CsvReport = Callable[..., str]
Render = Callable[..., str]

NOW = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)  # §7's default `now`, a Wednesday
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
PLAIN_HEADER_LINE = ",".join(PLAIN_HEADER)
PERCENT_HEADER_LINE = ",".join(PERCENT_HEADER)
WEEK = 168  # hours


def ticks(**duration: float) -> int:
    """A duration in half-microsecond ticks, the unit of every exact figure."""
    return timedelta(**duration) // ONE_US * TICKS_PER_US


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def every_day_but(day: int, start: time, end: time) -> tuple[HoursRow, ...]:
    """Rows for the six other weekdays, so that only `day` is under test."""
    return tuple(HoursRow(other, start, end) for other in range(7) if other != day)


def reference_csv_report(stores: Sequence[StoreData], as_of: datetime, **options: bool) -> str:
    return reference_csv(reference_report(stores, as_of), **options)


@pytest.fixture(params=["engine", "reference"])
def report(request: pytest.FixtureRequest) -> Report:
    reports: dict[str, Report] = {"engine": engine_report, "reference": reference_report}
    return reports[request.param]


@pytest.fixture(params=["engine", "reference"])
def csv_report(request: pytest.FixtureRequest) -> CsvReport:
    reports: dict[str, CsvReport] = {"engine": engine_csv, "reference": reference_csv_report}
    return reports[request.param]


@pytest.fixture(params=["engine", "reference"])
def render(request: pytest.FixtureRequest) -> Render:
    return {"engine": engine_render, "reference": reference_csv}[request.param]


def only_row(report: Report, store: StoreData, as_of: datetime) -> StoreFigures:
    rows = report([store], as_of)
    assert [row.store_id for row in rows] == [store.store_id]
    return rows[0]


# ---- §7 worked examples --------------------------------------------------------------------

EXAMPLE_1 = StoreData(
    "example-1",
    polls=(Poll(utc(2023, 1, 25, 17, 10), True), Poll(utc(2023, 1, 25, 17, 40), False)),
)
EXAMPLE_2 = StoreData(
    "example-2",
    timezone="America/New_York",
    hours=tuple(HoursRow(day, time(9), time(17)) for day in range(7)),
    polls=(Poll(utc(2023, 1, 25, 15), True),),
)
EXAMPLE_3 = StoreData(
    "example-3",
    timezone="Asia/Kolkata",
    hours=(HoursRow(WED, time(22), time(2)),),
    polls=(Poll(utc(2023, 1, 25, 17), True),),
)
EXAMPLE_4_NOW = utc(2024, 3, 10, 12)
EXAMPLE_4 = StoreData(
    "example-4",
    timezone="America/Chicago",
    # Sunday 2024-03-10 is the spring-forward day; the other days get a 01:00–02:00 row
    # so that the Sunday stands alone in the last day.
    hours=(HoursRow(SUN, time(1), time(3)), *every_day_but(SUN, time(1), time(2))),
    polls=(Poll(EXAMPLE_4_NOW, True),),
)


def test_example_1_midpoint_and_first_poll_before_it(report: Report) -> None:
    row = only_row(report, EXAMPLE_1, NOW)

    # Open 24×7; active until the 17:25 midpoint (the first poll holds before 17:10).
    assert row.uptime == (
        ticks(minutes=25),
        ticks(hours=23, minutes=25),
        ticks(hours=167, minutes=25),
    )
    assert row.business == (ticks(hours=1), ticks(hours=24), ticks(hours=WEEK))
    assert row.downtime == (ticks(minutes=35), ticks(minutes=35), ticks(minutes=35))


def test_example_2_new_york_hours(report: Report) -> None:
    row = only_row(report, EXAMPLE_2, NOW)

    # Last week: Jan 18 18–22 UTC (4 h) + six whole 14–22 days (48 h) + Jan 25 14–18 (4 h).
    assert row.business == (ticks(hours=1), ticks(hours=8), ticks(hours=56))
    assert row.uptime == row.business


def test_example_3_overnight_in_kolkata_and_missing_weekdays(report: Report) -> None:
    row = only_row(report, EXAMPLE_3, NOW)

    # Last day: Tue (no rows, whole day) until Jan 24 18:30 UTC = 0.5 h, plus Wed 22:00 IST
    # = 16:30 UTC until now = 1.5 h. Last week: Wed Jan 18 23:30 IST (window start) to
    # Jan 25 00:00 IST is one stretch (Wed's overnight row joins Thursday's whole day): 144.5 h,
    # plus the 1.5 h of Jan 25. Last hour lies in the 16:30–20:30 UTC interval.
    assert row.business == (ticks(hours=1), ticks(hours=2), ticks(hours=146))
    assert row.uptime == row.business


def test_example_4_chicago_spring_forward(report: Report) -> None:
    row = only_row(report, EXAMPLE_4, EXAMPLE_4_NOW)

    # 01:00 CST = 07:00 UTC to 03:00 CDT = 08:00 UTC: one hour on the Sunday; the last week
    # adds Mon 4 – Sat 9 March, 01:00–02:00 CST = 07:00–08:00 UTC each.
    assert row.business == (0, ticks(hours=1), ticks(hours=7))
    assert row.uptime == row.business


def test_examples_csv(csv_report: CsvReport) -> None:
    assert csv_report([EXAMPLE_3, EXAMPLE_2, EXAMPLE_1], NOW) == (
        f"{PLAIN_HEADER_LINE}\n"
        "example-1,25.00,23.42,167.42,35.00,0.58,0.58\n"
        "example-2,60.00,8.00,56.00,0.00,0.00,0.00\n"
        "example-3,60.00,2.00,146.00,0.00,0.00,0.00\n"
    )


# ---- §2, §3: the instant, half-open windows, which stores ----------------------------------


def test_poll_exactly_at_now_counts(report: Report) -> None:
    store = StoreData(
        "s", timezone="UTC", polls=(Poll(NOW - timedelta(minutes=30), False), Poll(NOW, True))
    )
    row = only_row(report, store, NOW)

    # The poll at `now` exists and reigns from the midpoint, now − 15 min.
    assert row.uptime == (ticks(minutes=15),) * 3


def test_only_poll_at_now_reports_the_store(report: Report) -> None:
    store = StoreData("s", polls=(Poll(NOW, True),))
    assert only_row(report, store, NOW).uptime == (
        ticks(hours=1),
        ticks(hours=24),
        ticks(hours=WEEK),
    )


def test_polls_after_now_do_not_exist(report: Report) -> None:
    store = StoreData(
        "s",
        polls=(
            Poll(NOW - timedelta(minutes=30), True),
            Poll(NOW + timedelta(minutes=1), False),
            Poll(NOW + timedelta(microseconds=1), False),
        ),
    )
    row = only_row(report, store, NOW)

    assert row.uptime == (ticks(hours=1), ticks(hours=24), ticks(hours=WEEK))


def test_stores_without_a_poll_until_now_are_not_reported(report: Report) -> None:
    stores = [
        StoreData("polled", polls=(Poll(NOW - timedelta(days=30), True),)),
        StoreData("only-later", polls=(Poll(NOW + timedelta(microseconds=1), True),)),
        StoreData("never", timezone="Asia/Kolkata", hours=(HoursRow(MON, time(9), time(17)),)),
    ]
    assert [row.store_id for row in report(stores, NOW)] == ["polled"]


def test_no_store_reported_gives_the_header_alone(csv_report: CsvReport) -> None:
    stores = [StoreData("later", polls=(Poll(NOW + timedelta(hours=1), True),))]
    assert csv_report(stores, NOW) == f"{PLAIN_HEADER_LINE}\n"


def test_window_start_is_inclusive_and_end_exclusive(report: Report) -> None:
    store = StoreData(
        "s",
        timezone="UTC",
        hours=(
            HoursRow(WED, time(17), time(18)),
            HoursRow(WED, time(18), time(19)),
            *every_day_but(WED, time(17), time(17, 0, 0, 1)),
        ),
        polls=(Poll(NOW - timedelta(hours=2), True),),
    )
    row = only_row(report, store, NOW)

    # Wed 25 17–18 ends at now: all in; 18–19 starts at now: out. The week [Wed 18 18:00, …)
    # takes Wed 18 18–19 (starts at the window's start) but not Wed 18 17–18 (ends there),
    # plus 1 µs on each of Thu 19 … Tue 24.
    assert row.business == (
        ticks(hours=1),
        ticks(hours=1),
        ticks(hours=2) + 6 * ticks(microseconds=1),
    )


# ---- §5: status between polls ---------------------------------------------------------------


def test_first_poll_holds_before_it_and_last_after_it(report: Report) -> None:
    store = StoreData(
        "s",
        polls=(Poll(NOW - timedelta(minutes=50), True), Poll(NOW - timedelta(minutes=40), False)),
    )
    row = only_row(report, store, NOW)

    # Active from long before the first poll up to the midpoint now − 45 min, inactive after.
    assert row.uptime == (
        ticks(minutes=15),
        ticks(hours=23, minutes=15),
        ticks(hours=167, minutes=15),
    )


@pytest.mark.parametrize("active", [True, False])
def test_single_poll_status_holds_everywhere(report: Report, active: bool) -> None:
    store = StoreData("s", timezone="UTC", polls=(Poll(NOW - timedelta(minutes=10), active),))
    row = only_row(report, store, NOW)

    assert row.business == (ticks(hours=1), ticks(hours=24), ticks(hours=WEEK))
    assert row.uptime == (row.business if active else (0, 0, 0))


def test_polls_before_the_window_count(report: Report) -> None:
    store = StoreData(
        "s",
        polls=(Poll(NOW - timedelta(minutes=61), False), Poll(NOW - timedelta(minutes=40), True)),
    )
    row = only_row(report, store, NOW)

    # Midpoint now − 50.5 min: the poll before the window owns its first 9.5 minutes.
    assert row.uptime[0] == ticks(minutes=50, seconds=30)


def test_half_microsecond_midpoint(report: Report) -> None:
    start = NOW - timedelta(hours=1)
    store = StoreData(
        "s", polls=(Poll(start, False), Poll(start + timedelta(microseconds=3), True))
    )
    row = only_row(report, store, NOW)

    # The switch is at start + 1.5 µs: three ticks of downtime in the last hour.
    assert row.downtime == (3, ticks(hours=23) + 3, ticks(hours=WEEK - 1) + 3)


def test_half_microsecond_midpoint_decides_the_rounding(csv_report: CsvReport) -> None:
    start = NOW - timedelta(hours=1)
    # Downtime in the last hour: exactly 0.3 s = 0.005 min, or half a microsecond less.
    exact = StoreData(
        "exact", polls=(Poll(start, False), Poll(start + timedelta(seconds=0.6), True))
    )
    below = StoreData(
        "below",
        polls=(
            Poll(start, False),
            Poll(start + timedelta(seconds=0.6) - timedelta(microseconds=1), True),
        ),
    )
    assert csv_report([exact, below], NOW).splitlines()[1:] == [
        "below,60.00,1.00,1.00,0.00,23.00,167.00",
        "exact,60.00,1.00,1.00,0.01,23.00,167.00",
    ]


# ---- §4: business hours --------------------------------------------------------------------


def test_overnight_rows(report: Report) -> None:
    as_of = utc(2023, 1, 25, 1)  # Wednesday 01:00 UTC
    store = StoreData(
        "s",
        timezone="UTC",
        hours=(HoursRow(TUE, time(22), time(2)), *every_day_but(TUE, time(10), time(10, 30))),
        polls=(Poll(as_of, True),),
    )
    row = only_row(report, store, as_of)

    # Hour: Tuesday's row runs on to Wednesday 02:00. Day [Tue 01:00, Wed 01:00): Tue 22:00
    # on (3 h). Week [Wed 18 01:00, …): Tue 17's row until Wed 18 02:00 (1 h), Wed 18 to
    # Mon 23 10:00–10:30 (3 h), Tue 24 22:00 on (3 h).
    assert row.business == (ticks(hours=1), ticks(hours=3), ticks(hours=7))


def test_start_equal_to_end_is_open_24_hours(report: Report) -> None:
    store = StoreData(
        "s",
        timezone="UTC",
        hours=(HoursRow(MON, time(9), time(9)), *every_day_but(MON, time(20), time(20, 30))),
        polls=(Poll(NOW - timedelta(days=7), True),),
    )
    row = only_row(report, store, utc(2023, 1, 24, 10))  # Tuesday 10:00

    # Open Monday 23 09:00 to Tuesday 24 09:00: nothing in the last hour [Tue 09:00, 10:00),
    # 23 h of the last day [Mon 10:00, …), all 24 h of the week [Tue 17 10:00, …), which
    # also has Tue 17 – Sun 22 20:00–20:30 (3 h) but not Mon 16 09:00 – Tue 17 09:00.
    assert row.business == (0, ticks(hours=23), ticks(hours=27))


def test_midnight_to_midnight_row_is_the_whole_day(report: Report) -> None:
    rest = every_day_but(WED, time(12), time(13))
    polls = (Poll(NOW, False),)
    whole = StoreData(
        "whole", timezone="UTC", hours=(HoursRow(WED, time(0), time(0)), *rest), polls=polls
    )
    missing = StoreData("missing", timezone="UTC", hours=rest, polls=polls)
    by_id = {row.store_id: row for row in report([whole, missing], NOW)}

    # Day: Wed 00:00–18:00. Week: Wed 18 18:00–24:00, Thu–Tue 12–13, Wed 25 00:00–18:00.
    for row in by_id.values():
        assert row.business == (ticks(hours=1), ticks(hours=18), ticks(hours=30))
        assert row.uptime == (0, 0, 0)


def test_overlapping_and_repeated_rows_count_once(report: Report) -> None:
    store = StoreData(
        "s",
        timezone="UTC",
        hours=(
            HoursRow(WED, time(9), time(12)),
            HoursRow(WED, time(9), time(12)),
            HoursRow(WED, time(10), time(11)),
            HoursRow(WED, time(11), time(14)),
            HoursRow(TUE, time(22), time(10)),
            *every_day_but(WED, time(23), time(23, 30)),  # Tuesday's is inside 22:00–10:00
        ),
        polls=(Poll(NOW, True),),
    )
    row = only_row(report, store, NOW)

    # Day [Tue 24 18:00, Wed 25 18:00): one stretch Tue 22:00 → Wed 14:00 (16 h).
    # Week [Wed 18 18:00, …): Thu 19 – Mon 23 23:00–23:30 (2.5 h) plus that stretch.
    assert row.business == (0, ticks(hours=16), ticks(hours=18, minutes=30))


def test_missing_weekday_vs_weekday_whose_rows_vanish(report: Report) -> None:
    weekdays = every_day_but(SUN, time(12), time(12, 30))
    polls = (Poll(utc(2024, 3, 1), True),)
    missing = StoreData("missing", timezone="America/Chicago", hours=weekdays, polls=polls)
    # 02:30 is in the 2024-03-10 jump: 02:30 CST = 08:30 UTC, after 03:00 CDT = 08:00 UTC,
    # so that day's only Sunday row is dropped, and Sunday is still not "missing".
    vanished = StoreData(
        "vanished",
        timezone="America/Chicago",
        hours=(HoursRow(SUN, time(2, 30), time(3)), *weekdays),
        polls=polls,
    )
    as_of = utc(2024, 3, 11, 12)  # Monday 07:00 CDT
    by_id = {row.store_id: row for row in report([missing, vanished], as_of)}

    # The missing Sunday is open its whole 23-hour local day: Mar 10 06:00 – Mar 11 05:00 UTC.
    # The week [Mar 4 12:00 UTC, …) adds Mon 4 – Sat 9 12:00–12:30 CST (3 h) to both.
    assert by_id["missing"].business == (0, ticks(hours=17), ticks(hours=26))
    assert by_id["vanished"].business == (0, 0, ticks(hours=3))


def test_the_vanishing_row_counts_on_an_ordinary_sunday(report: Report) -> None:
    store = StoreData(
        "s",
        timezone="America/Chicago",
        hours=(HoursRow(SUN, time(2, 30), time(3)), *every_day_but(SUN, time(12), time(12, 30))),
        polls=(Poll(utc(2024, 3, 1), True),),
    )
    row = only_row(report, store, utc(2024, 3, 3, 9))  # Sunday 03:00 CST

    # Sunday Mar 3 02:30–03:00 CST = 08:30–09:00 UTC. The day adds Saturday 18:00–18:30 UTC;
    # the week [Feb 25 09:00 UTC, …) adds Mon 26 Feb – Sat 2 Mar (3 h), but not Sunday
    # Feb 25 08:30–09:00 UTC, which ends where the window starts.
    assert row.business == (ticks(minutes=30), ticks(hours=1), ticks(hours=3, minutes=30))


def test_spring_forward_gap_uses_the_offset_before_the_jump(report: Report) -> None:
    store = StoreData(
        "s",
        timezone="America/Chicago",
        hours=(
            HoursRow(SUN, time(2, 15), time(2, 45)),
            *every_day_but(SUN, time(12), time(12, 30)),
        ),
        polls=(Poll(utc(2024, 3, 10, 8), True), Poll(utc(2024, 3, 10, 8, 40), False)),
    )
    row = only_row(report, store, utc(2024, 3, 10, 9))

    # 02:15–02:45 → 08:15–08:45 UTC (§4), active until the 08:20 midpoint. The day adds
    # Saturday 12:00–12:30 CST = 18:00–18:30 UTC, active (the first poll holds before it);
    # the week adds Mon 4 – Fri 8 as well, and not Sunday Mar 3 (08:15–08:45 UTC, before it).
    assert row.business == (ticks(minutes=30), ticks(hours=1), ticks(hours=3, minutes=30))
    assert row.uptime == (ticks(minutes=5), ticks(minutes=35), ticks(hours=3, minutes=5))


def test_fall_back_repeat_uses_the_first_occurrence(report: Report) -> None:
    rest = every_day_but(SUN, time(12), time(12, 30))
    polls = (Poll(utc(2024, 11, 1), True),)
    inside = StoreData(
        "inside",
        timezone="America/Chicago",
        hours=(HoursRow(SUN, time(1, 15), time(1, 45)), *rest),
        polls=polls,
    )
    across = StoreData(
        "across",
        timezone="America/Chicago",
        hours=(HoursRow(SUN, time(1, 30), time(2)), *rest),
        polls=polls,
    )
    as_of = utc(2024, 11, 3, 8)  # Sunday 2024-11-03 02:00 CST
    by_id = {row.store_id: row for row in report([inside, across], as_of)}

    # inside: 01:15–01:45 CDT = 06:15–06:45 UTC, not the repeat 07:15–07:45 (the last hour).
    # across: 01:30 CDT = 06:30 UTC to 02:00 CST = 08:00 UTC, 1 h of it in the last hour.
    # Both: the day adds Saturday 12:00–12:30 CDT = 17:00–17:30 UTC; the week
    # [Oct 27 08:00 UTC, …) adds Mon 28 Oct – Sat 2 Nov (3 h); Sunday Oct 27's rows end by
    # 07:00 UTC, before it.
    assert by_id["inside"].business == (0, ticks(hours=1), ticks(hours=3, minutes=30))
    assert by_id["across"].business == (
        ticks(hours=1),
        ticks(hours=2),
        ticks(hours=4, minutes=30),
    )


def test_week_across_a_dst_jump_is_168_hours(report: Report) -> None:
    store = StoreData("s", timezone="America/Chicago", polls=(Poll(utc(2024, 3, 12), True),))
    row = only_row(report, store, utc(2024, 3, 12, 12))

    # Open 24×7, though its Sunday Mar 10 lasted 23 hours: windows are UTC durations.
    assert row.business == (ticks(hours=1), ticks(hours=24), ticks(hours=WEEK))


def test_store_without_zone_uses_chicago(report: Report) -> None:
    hours = (HoursRow(WED, time(9), time(17)), *every_day_but(WED, time(3), time(4)))
    polls = (Poll(NOW, True),)
    stores = [
        StoreData("no-zone", hours=hours, polls=polls),
        StoreData("chicago", timezone="America/Chicago", hours=hours, polls=polls),
        StoreData("utc", timezone="UTC", hours=hours, polls=polls),
    ]
    by_id = {row.store_id: row for row in report(stores, NOW)}

    # now = 12:00 CST. Chicago: last hour 11–12; day Wed 09–12 (Tue 03–04 is before it);
    # week Wed 18 12:00–17:00, Thu–Tue 03–04, Wed 25 09–12. UTC: closed since 17:00.
    chicago = (ticks(hours=1), ticks(hours=3), ticks(hours=14))
    assert by_id["no-zone"].business == chicago
    assert by_id["chicago"].business == chicago
    assert by_id["utc"].business == (0, ticks(hours=8), ticks(hours=14))


# ---- §3, §6: rows and numbers ---------------------------------------------------------------


def test_rows_sorted_by_store_id_as_plain_strings(report: Report) -> None:
    ids = [
        "10",
        "9",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "007",
        "Zürich",
        "1234567890123456789",
        "abc",
        "0b7e3c1a-1f2d-4e5b-9a8c-7d6e5f4a3b2c",
        "Zz",
        "Abc",
    ]
    stores = [StoreData(store_id, polls=(Poll(NOW, True),)) for store_id in ids]

    assert [row.store_id for row in report(stores, NOW)] == [
        "007",
        "0b7e3c1a-1f2d-4e5b-9a8c-7d6e5f4a3b2c",
        "10",
        "1234567890123456789",
        "9",
        "Abc",
        "Zz",
        "Zürich",
        "abc",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    ]


def test_store_ids_are_written_verbatim(csv_report: CsvReport) -> None:
    stores = [StoreData(store_id, polls=(Poll(NOW, True),)) for store_id in ("007", 'a,"b"')]
    rows = list(csv.reader(io.StringIO(csv_report(stores, NOW))))

    assert [row[0] for row in rows] == ["store_id", "007", 'a,"b"']
    assert all(len(row) == 7 for row in rows)


def test_engine_table_columns_against_hand_figures() -> None:
    # The table's own arrays, not the bridge's rows: business and downtime
    # (uptime's complement within business time) against the figures worked
    # out by hand in the tests of examples 1-3 above.
    table = compute_report(engine_inputs([EXAMPLE_1, EXAMPLE_2, EXAMPLE_3], NOW))

    assert table.business.tolist() == [
        [ticks(hours=1), ticks(hours=24), ticks(hours=WEEK)],
        [ticks(hours=1), ticks(hours=8), ticks(hours=56)],
        [ticks(hours=1), ticks(hours=2), ticks(hours=146)],
    ]
    assert table.downtime.tolist() == [[ticks(minutes=35)] * 3, [0, 0, 0], [0, 0, 0]]


# ---- §6: rendering -------------------------------------------------------------------------

FULL = (ticks(hours=1), ticks(hours=24), ticks(hours=WEEK))


@pytest.mark.parametrize(
    ("uptime", "business", "cells"),
    [
        # 0.005 min and 0.005 h exactly: half up; downtime 59.995 min, 23.995 h, 167.995 h.
        ((600_000, 36_000_000, 36_000_000), FULL, "0.01,0.01,0.01,60.00,24.00,168.00"),
        # Half a microsecond less: below the half.
        ((599_999, 35_999_999, 35_999_999), FULL, "0.00,0.00,0.00,60.00,24.00,168.00"),
        # 0.125 (half-even would give 0.12) and 2.345 h (a float is just below 2.345).
        (
            (ticks(seconds=7.5), ticks(seconds=450), ticks(seconds=8442)),
            FULL,
            "0.13,0.13,2.35,59.88,23.88,165.66",
        ),
        # 2.345 min, 1.005 h (a float is just below 1.005), nothing of the week.
        (
            (ticks(seconds=140.7), ticks(seconds=3618), 0),
            FULL,
            "2.35,1.01,0.00,57.66,23.00,168.00",
        ),
        ((0, 0, 0), (0, 0, 0), "0.00,0.00,0.00,0.00,0.00,0.00"),
    ],
)
def test_plain_rounding_half_up_two_decimals(
    render: Render, uptime: Windows, business: Windows, cells: str
) -> None:
    rows = [StoreFigures("r", uptime, business)]
    assert render(rows) == f"{PLAIN_HEADER_LINE}\nr,{cells}\n"


@pytest.mark.parametrize(
    ("uptime", "business", "cells"),
    [
        # 0.125 %, one third, 1.005 % (a float is just below it).
        (
            (ticks(seconds=4.5), ticks(hours=8), FULL[2] * 1005 // 100_000),
            FULL,
            "0.13,33.33,1.01,99.88,66.67,99.00",
        ),
        (
            (0, ticks(hours=24), 0),
            (0, ticks(hours=24), ticks(hours=24)),
            ",100.00,0.00,,0.00,100.00",
        ),
        ((0, 0, 0), (0, 0, 0), ",,,,,"),
    ],
)
def test_percent_rounding_and_empty_cells(
    render: Render, uptime: Windows, business: Windows, cells: str
) -> None:
    rows = [StoreFigures("r", uptime, business)]
    assert render(rows, percent=True) == f"{PERCENT_HEADER_LINE}\nr,{cells}\n"


@pytest.mark.parametrize(
    ("percent", "header"), [(False, PLAIN_HEADER_LINE), (True, PERCENT_HEADER_LINE)]
)
def test_empty_table_is_the_header_alone(render: Render, percent: bool, header: str) -> None:
    assert render([], percent=percent) == f"{header}\n"


def test_percent_form_of_the_examples(csv_report: CsvReport) -> None:
    # Example 1: 25/60, 23 h 25/24 h, 167 h 25/168 h. Example 4: no business in the last hour.
    assert csv_report([EXAMPLE_1], NOW, percent=True) == (
        f"{PERCENT_HEADER_LINE}\nexample-1,41.67,97.57,99.65,58.33,2.43,0.35\n"
    )
    assert csv_report([EXAMPLE_4], EXAMPLE_4_NOW, percent=True) == (
        f"{PERCENT_HEADER_LINE}\nexample-4,,100.00,100.00,,0.00,0.00\n"
    )
