"""Outages as incidents see them (docs/report-semantics.md §11): the engine's against the
plain reference's outages (§8, with §10's calendar), cut at the first poll, the one
containing T open, the threshold applied; and against the timeline engine's.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine.incidents import NO_POLL, IncidentState, incident_state
from monitor.engine.timeline import store_timeline
from monitor.engine.units import TICKS_PER_MINUTE
from tests.engine.bridge import engine_inputs
from tests.engine.reference import (
    Excluded,
    HoursRow,
    Poll,
    StoreData,
    business_intervals,
    status_at,
    store_pieces,
    to_ticks,
)
from tests.engine.test_calendar import calendar_scenarios
from tests.engine.test_properties import PROPERTY_SETTINGS, scenarios

NOW = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)
Outage = tuple[int, int, bool]  # start, end (T when open), open


def reference_outages(store: StoreData, as_of: datetime, threshold: int) -> list[Outage]:
    """From the reference alone: §8's outages of the week before `as_of`, none before
    the first poll; the one containing T open (§11), ending at T; the threshold's."""
    polls = [poll for poll in store.polls if poll.at <= as_of]
    if not polls:
        return []
    first = min(to_ticks(poll.at) for poll in polls)
    now = to_ticks(as_of)
    in_business = any(to_ticks(a) <= now < to_ticks(b) for a, b in business_intervals(store, as_of))
    down_now = in_business and not status_at(polls, now)
    outages = []
    for start, end, active in store_pieces(store, as_of):
        start = max(start, first)
        if active or end <= start:
            continue
        outages.append((start, end, down_now and end == now))
    if down_now and not any(is_open for _, _, is_open in outages):
        outages.append((now, now, True))  # down at T from T itself: it has lasted 0
    return [(s, e, o) for s, e, o in outages if e - s >= threshold]


def engine_outages(state: IncidentState, index: int) -> list[Outage]:
    mine = state.outages.of(index)
    return list(zip(mine.start.tolist(), mine.end.tolist(), mine.open.tolist(), strict=True))


def _state(
    stores: list[StoreData],
    as_of: datetime,
    every_store: tuple[Excluded, ...] = (),
    *,
    threshold: int = 0,
    silent_after: int = 180 * TICKS_PER_MINUTE,
) -> IncidentState:
    inputs = engine_inputs(stores, as_of, every_store)
    return incident_state(
        inputs,
        np.arange(len(stores), dtype=np.int64),
        threshold_ticks=threshold,
        silent_after_ticks=silent_after,
    )


@PROPERTY_SETTINGS
@given(scenarios(), st.sampled_from([0, 1, 10 * TICKS_PER_MINUTE, 3 * 60 * TICKS_PER_MINUTE]))
def test_outages_are_the_references(
    scenario: tuple[list[StoreData], datetime], threshold: int
) -> None:
    stores, as_of = scenario
    state = _state(stores, as_of, threshold=threshold)
    for index, store in enumerate(stores):
        assert engine_outages(state, index) == reference_outages(store, as_of, threshold)


@PROPERTY_SETTINGS
@given(calendar_scenarios())
def test_outages_are_the_references_with_a_calendar(
    scenario: tuple[list[StoreData], datetime, tuple[Excluded, ...]],
) -> None:
    stores, as_of, every_store = scenario
    state = _state(stores, as_of, every_store)
    for index, store in enumerate(stores):
        assert engine_outages(state, index) == reference_outages(store, as_of, 0)


@PROPERTY_SETTINGS
@given(calendar_scenarios())
def test_outages_are_the_timelines_from_the_first_poll(
    scenario: tuple[list[StoreData], datetime, tuple[Excluded, ...]],
) -> None:
    stores, as_of, every_store = scenario
    inputs = engine_inputs(stores, as_of, every_store)
    state = _state(stores, as_of, every_store)
    for index in range(len(stores)):
        timeline = store_timeline(inputs, index)
        mine = state.outages.of(index)
        if not timeline.reported:
            assert len(mine) == 0
            continue
        polled = inputs.poll_time_us[
            (inputs.poll_store == index) & (inputs.poll_time_us <= inputs.as_of_us)
        ]
        first = int(polled.min()) * 2
        expected = [
            (max(start, first), end)
            for start, end in zip(
                timeline.outages.start.tolist(), timeline.outages.end.tolist(), strict=True
            )
            if end > first
        ]
        got = [(s, e) for s, e, _ in engine_outages(state, index) if e > s]
        assert got == expected


# ---- hand examples ---------------------------------------------------------------------------


def _every_day(start: time, end: time) -> tuple[HoursRow, ...]:
    return tuple(HoursRow(day, start, end) for day in range(7))


def _polls(*polls: tuple[datetime, bool]) -> tuple[Poll, ...]:
    return tuple(Poll(at, active) for at, active in polls)


def _at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2023, 1, day, hour, minute, tzinfo=UTC)


def test_an_outage_containing_now_is_open_from_the_midpoint() -> None:
    store = StoreData("s", "UTC", polls=_polls((_at(17, 10), True), (_at(17, 40), False)))
    state = _state([store], NOW)
    assert engine_outages(state, 0) == [(to_ticks(_at(17, 25)), to_ticks(NOW), True)]
    assert not state.silent[0]
    assert state.latest_poll[0] == to_ticks(_at(17, 40))


def test_an_outage_never_starts_before_the_first_poll() -> None:
    store = StoreData("s", "UTC", polls=_polls((_at(17, 40), False)))
    state = _state([store], NOW)
    assert engine_outages(state, 0) == [(to_ticks(_at(17, 40)), to_ticks(NOW), True)]


def test_closing_time_resolves_it_and_the_next_opening_is_a_new_outage() -> None:
    # Open 09:00–17:00 UTC; inactive since 16:00 on the 24th, and still.
    store = StoreData(
        "s",
        "UTC",
        hours=_every_day(time(9), time(17)),
        polls=_polls((_at(15, day=24), True), (_at(16, day=24), False)),
    )
    state = _state([store], NOW)
    assert engine_outages(state, 0) == [
        (to_ticks(_at(15, 30, day=24)), to_ticks(_at(17, day=24)), False),
        (to_ticks(_at(9)), to_ticks(_at(17)), False),
    ]
    # The store is silent (its poll is a day old): the engine says so; the
    # service opens nothing for it.
    assert state.silent[0]
    during = _state([store], _at(12), silent_after=10**15)
    assert engine_outages(during, 0)[-1] == (to_ticks(_at(9)), to_ticks(_at(12)), True)


def test_an_overnight_shift_is_one_outage_across_midnight() -> None:
    store = StoreData(
        "s",
        "UTC",
        hours=_every_day(time(20), time(2)),
        polls=_polls((_at(21, day=24), True), (_at(23, day=24), False)),
    )
    state = _state([store], _at(1), silent_after=10**15)
    assert engine_outages(state, 0)[-1] == (to_ticks(_at(22, day=24)), to_ticks(_at(1)), True)


def test_an_exclusion_cuts_the_outage_in_two() -> None:
    excluded = Excluded(_at(17, 0), _at(17, 30))
    store = StoreData("s", "UTC", polls=_polls((_at(16), False)), excluded=(excluded,))
    state = _state([store], NOW, (excluded,))
    assert engine_outages(state, 0) == [
        (to_ticks(_at(16)), to_ticks(_at(17)), False),
        (to_ticks(_at(17, 30)), to_ticks(NOW), True),
    ]


def test_the_threshold_keeps_only_outages_that_lasted() -> None:
    store = StoreData(
        "s",
        "UTC",
        polls=_polls((_at(16), False), (_at(16, 10), True), (_at(17, 50), False)),
    )
    ten_minutes = 10 * TICKS_PER_MINUTE
    state = _state([store], NOW, threshold=ten_minutes)
    # 16:00–16:05 is too short; the open one began at 17:00 (midpoint 16:10–17:50).
    assert engine_outages(state, 0) == [(to_ticks(_at(17)), to_ticks(NOW), True)]
    shortly = _state([store], _at(17, 5), threshold=ten_minutes)
    assert engine_outages(shortly, 0) == []


def test_silence_is_the_latest_polls_age() -> None:
    stores = [
        StoreData("old", "UTC", polls=_polls((NOW - timedelta(hours=3, microseconds=1), False))),
        StoreData("limit", "UTC", polls=_polls((NOW - timedelta(hours=3), False))),
        StoreData("none", "UTC"),
    ]
    state = _state(stores, NOW)
    assert state.silent.tolist() == [True, False, True]
    assert state.latest_poll[2] == NO_POLL
    assert engine_outages(state, 2) == []
