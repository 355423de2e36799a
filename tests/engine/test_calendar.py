"""A store's real calendar (docs/report-semantics.md §10) in the engine.

Property tests: random stores with closed rows among open ones, special
hours (overnight, 24 hours, closed, on DST dates), own and overlapping
exclusions and exclusions of every store (`*`), stores without hours: the
engine's report and each store's timeline equal the plain reference's,
exactly. Then §10.4's worked examples, and removing a date or an exclusion
giving back the figures without it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from monitor.engine import compute_report, render_csv
from monitor.engine.timeline import store_timeline
from tests.engine.bridge import engine_inputs, figures_of
from tests.engine.reference import (
    DEFAULT_ZONE,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    Excluded,
    HoursRow,
    Poll,
    SpecialRow,
    StoreData,
    reference_csv,
    reference_report,
    store_pieces,
)
from tests.engine.test_properties import (
    PROPERTY_SETTINGS,
    US_PER_HOUR,
    as_of_instants,
    hours_rows,
    stores,
    times_of_day,
)

ONE_US = timedelta(microseconds=1)
NOW = datetime(2023, 1, 25, 18, tzinfo=UTC)  # §10.4's now


@st.composite
def closed_rows(draw: st.DrawFn) -> tuple[HoursRow, ...]:
    """Open rows with closed rows among them: a closed day alone, or beside open rows."""
    rows = draw(hours_rows())
    closed = draw(st.lists(st.integers(0, 6), max_size=4))
    return tuple(draw(st.permutations([*rows, *(HoursRow(day, None, None) for day in closed)])))


@st.composite
def special_rows(draw: st.DrawFn, around: date) -> tuple[SpecialRow, ...]:
    """Special rows on dates near the as-of date (±9 days): every kind of §10.2's rows."""
    dates = st.integers(-9, 2).map(lambda offset: around + timedelta(days=offset))
    row = st.one_of(
        st.builds(SpecialRow, dates, times_of_day, times_of_day),
        st.builds(lambda day, wall: SpecialRow(day, wall, wall), dates, times_of_day),  # 24 h
        st.builds(lambda day: SpecialRow(day, None, None), dates),  # closed
    )
    return tuple(draw(st.lists(row, max_size=6)))


@st.composite
def excluded_periods(draw: st.DrawFn, as_of: datetime) -> tuple[Excluded, ...]:
    """Periods around the week window, overlapping each other at times."""
    offset = st.integers(-9 * 24 * US_PER_HOUR, 2 * US_PER_HOUR)
    length = st.one_of(
        st.integers(1, 3 * US_PER_HOUR), st.integers(1, 3 * 24 * US_PER_HOUR), st.just(1)
    )
    return tuple(
        Excluded(as_of + start * ONE_US, as_of + (start + span) * ONE_US)
        for start, span in draw(st.lists(st.tuples(offset, length), max_size=4))
    )


@st.composite
def calendar_scenarios(
    draw: st.DrawFn,
) -> tuple[list[StoreData], datetime, tuple[Excluded, ...]]:
    as_of = draw(as_of_instants)
    every_store = draw(excluded_periods(as_of))
    count = draw(st.integers(1, 4))
    data = []
    for number in range(count):
        store = draw(stores(as_of))
        local_date = as_of.astimezone(ZoneInfo(store.timezone or DEFAULT_ZONE)).date()
        hours = draw(st.one_of(st.just(()), closed_rows()))
        data.append(
            dataclasses.replace(
                store,
                store_id=f"s{number}",
                hours=hours,
                special=draw(special_rows(local_date)),
                excluded=(*draw(excluded_periods(as_of)), *every_store),
            )
        )
    return data, as_of, every_store


@PROPERTY_SETTINGS
@given(calendar_scenarios())
def test_engine_and_timelines_match_the_reference(
    scenario: tuple[list[StoreData], datetime, tuple[Excluded, ...]],
) -> None:
    stores_, as_of, every_store = scenario
    expected = reference_report(stores_, as_of)
    inputs = engine_inputs(stores_, as_of, every_store)
    table = compute_report(inputs)
    assert figures_of(table) == expected
    assert render_csv(table, percent=True) == reference_csv(expected, percent=True)
    for index, store in enumerate(stores_):
        pieces = store_timeline(inputs, index).pieces
        got = list(
            zip(pieces.start.tolist(), pieces.end.tolist(), pieces.active.tolist(), strict=True)
        )
        assert got == store_pieces(store, as_of)


@PROPERTY_SETTINGS
@given(calendar_scenarios(), st.data())
def test_removing_a_date_or_an_exclusion_gives_back_the_figures_without_it(
    scenario: tuple[list[StoreData], datetime, tuple[Excluded, ...]], data: st.DataObject
) -> None:
    stores_, as_of, every_store = scenario
    first = stores_[0]
    dates = sorted({row.date for row in first.special})
    own = [period for period in first.excluded if period not in every_store]
    removed_date = data.draw(st.sampled_from(dates)) if dates else None
    without = dataclasses.replace(
        first,
        special=tuple(row for row in first.special if row.date != removed_date),
        excluded=tuple(period for period in first.excluded if period not in own[:1]),
    )
    changed = [without, *stores_[1:]]
    got = figures_of(compute_report(engine_inputs(changed, as_of, every_store)))
    assert got == reference_report(changed, as_of)
    # And with nothing of the calendar, the figures of §4 alone.
    plain = [
        dataclasses.replace(store, hours=_open(store.hours), special=(), excluded=())
        for store in stores_
    ]
    got = figures_of(compute_report(engine_inputs(plain, as_of)))
    assert got == reference_report(plain, as_of)


def _open(hours: tuple[HoursRow, ...]) -> tuple[HoursRow, ...]:
    return tuple(row for row in hours if row.start is not None)


# ---- §10.4's worked examples (now 2023-01-25 18:00 UTC, zone UTC) -----------------------


def _every_day(start: time, end: time) -> tuple[HoursRow, ...]:
    return tuple(HoursRow(day, start, end) for day in range(7))


def _polls(active: bool) -> tuple[Poll, ...]:
    return tuple(Poll(NOW - timedelta(minutes=30 * n), active) for n in range(24 * 2 * 8))


def test_example_1_a_closed_special_date_holds_no_business_time() -> None:
    store = StoreData(
        "s",
        "UTC",
        _every_day(time(9), time(17)),
        _polls(False),
        special=(SpecialRow(date(2023, 1, 25), None, None),),
    )
    (row,) = figures_of(compute_report(engine_inputs([store], NOW)))
    assert row.business[1] == 0
    assert row.downtime[1] == 0
    cells = render_csv(compute_report(engine_inputs([store], NOW)), percent=True).split("\n")[1]
    assert cells.split(",")[2] == cells.split(",")[5] == ""  # the day's uptime and downtime


def test_example_2_special_rows_replace_the_dates_shift_not_the_one_begun_before() -> None:
    store = StoreData(
        "s",
        "UTC",
        _every_day(time(20), time(2)),
        _polls(True),
        special=(SpecialRow(date(2023, 1, 24), time(12), time(14)),),
    )
    (row,) = figures_of(compute_report(engine_inputs([store], NOW)))
    assert row.uptime[2] == 38 * TICKS_PER_HOUR
    (plain,) = figures_of(
        compute_report(engine_inputs([dataclasses.replace(store, special=())], NOW))
    )
    assert plain.uptime[2] == 42 * TICKS_PER_HOUR


def test_example_3_an_exclusion_of_every_store() -> None:
    everyone = Excluded(
        datetime(2023, 1, 25, 17, tzinfo=UTC), datetime(2023, 1, 25, 17, 30, tzinfo=UTC)
    )
    store = StoreData(
        "s",
        "UTC",
        polls=(Poll(datetime(2023, 1, 25, 16, tzinfo=UTC), False),),
        excluded=(everyone,),
    )
    (row,) = figures_of(compute_report(engine_inputs([store], NOW, [everyone])))
    assert row.business[0] == 30 * TICKS_PER_MINUTE
    assert (row.uptime[0], row.downtime[0]) == (0, 30 * TICKS_PER_MINUTE)


def test_example_4_a_closed_row_beside_an_open_one_and_alone() -> None:
    wednesday = date(2023, 1, 25)
    polls = (Poll(datetime(2023, 1, 25, 11, tzinfo=UTC), True),)
    both = StoreData("s", "UTC", (HoursRow(2, None, None), HoursRow(2, time(10), time(12))), polls)
    alone = StoreData("s", "UTC", (HoursRow(2, None, None),), polls)
    (row,) = figures_of(compute_report(engine_inputs([both], NOW)))
    # The last day: Tuesday from 18:00 to midnight (open whole: no rows), then
    # Wednesday 10:00–12:00 only.
    assert row.business[1] == (6 + 2) * TICKS_PER_HOUR
    (row,) = figures_of(compute_report(engine_inputs([alone], NOW)))
    # The last day: Tuesday's 6 hours, and none of Wednesday.
    assert row.business[1] == 6 * TICKS_PER_HOUR
    assert wednesday.weekday() == 2


def test_a_store_whose_every_weekday_is_closed_is_never_open() -> None:
    store = StoreData(
        "s", "UTC", tuple(HoursRow(day, None, None) for day in range(7)), _polls(True)
    )
    (row,) = figures_of(compute_report(engine_inputs([store], NOW)))
    assert row.business == (0, 0, 0)
