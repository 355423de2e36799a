"""monitor.selectors: what a report reads from either database."""

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from monitor import selectors
from monitor.engine import ReportInputs
from monitor.models import BusinessHours, StatusPoll, Store

pytestmark = pytest.mark.django_db

AS_OF = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def poll(store: Store, instant: datetime, *, active: bool = True) -> StatusPoll:
    return StatusPoll.objects.create(store=store, timestamp_utc=instant, active=active)


def polls_read(inputs: ReportInputs) -> set[tuple[str, int, bool]]:
    return {
        (str(inputs.store_ids[s]), int(t), bool(a))
        for s, t, a in zip(inputs.poll_store, inputs.poll_time_us, inputs.poll_active, strict=True)
    }


def us(instant: datetime) -> int:
    return selectors.to_epoch_us(instant)


def test_reads_the_week_window_and_only_the_last_poll_before_it() -> None:
    store = Store.objects.create(store_id="s1")
    older = AS_OF - WEEK - timedelta(hours=5)
    last_before = AS_OF - WEEK - timedelta(microseconds=1)
    window_start = AS_OF - WEEK
    inside = AS_OF - timedelta(minutes=30, microseconds=-123457)
    poll(store, older)
    poll(store, last_before, active=False)
    poll(store, window_start)
    poll(store, inside, active=False)
    poll(store, AS_OF)
    poll(store, AS_OF + timedelta(microseconds=1))  # after now: does not exist for the report

    inputs = selectors.report_inputs(AS_OF)

    assert polls_read(inputs) == {
        ("s1", us(last_before), False),
        ("s1", us(window_start), True),
        ("s1", us(inside), False),
        ("s1", us(AS_OF), True),
    }
    assert inputs.as_of_us == us(AS_OF)


def test_a_store_polled_only_long_ago_keeps_its_last_poll() -> None:
    store = Store.objects.create(store_id="quiet")
    poll(store, AS_OF - timedelta(days=40), active=False)
    poll(store, AS_OF - timedelta(days=30))

    inputs = selectors.report_inputs(AS_OF)

    assert polls_read(inputs) == {("quiet", us(AS_OF - timedelta(days=30)), True)}


def test_stores_zones_and_business_hours_with_fractions() -> None:
    with_zone = Store.objects.create(store_id="007", timezone_str="Asia/Kolkata")
    Store.objects.create(store_id="0")
    BusinessHours.objects.create(
        store=with_zone,
        day_of_week=6,
        start_time_local=time(9, 30, 15, 250000),
        end_time_local=time(23, 59, 59),
    )

    inputs = selectors.report_inputs(AS_OF)

    assert sorted(zip(inputs.store_ids, inputs.timezones, strict=True)) == [
        ("0", ""),
        ("007", "Asia/Kolkata"),
    ]
    assert inputs.store_ids[inputs.hours_store].tolist() == ["007"]
    assert inputs.hours_day.tolist() == [6]
    assert inputs.hours_start_us.tolist() == [(9 * 3600 + 30 * 60 + 15) * 10**6 + 250000]
    assert inputs.hours_end_us.tolist() == [(23 * 3600 + 59 * 60 + 59) * 10**6]


def test_latest_poll_time_is_the_newest_poll() -> None:
    assert selectors.latest_poll_time() is None
    store = Store.objects.create(store_id="s")
    poll(store, AS_OF - timedelta(hours=1))
    poll(store, AS_OF + timedelta(microseconds=7))
    assert selectors.latest_poll_time() == AS_OF + timedelta(microseconds=7)


def test_empty_database_gives_empty_arrays() -> None:
    inputs = selectors.report_inputs(AS_OF)
    assert len(inputs.store_ids) == len(inputs.poll_store) == len(inputs.hours_store) == 0
    assert inputs.poll_time_us.dtype == np.int64


def test_as_of_before_every_poll_reads_no_poll() -> None:
    store = Store.objects.create(store_id="later")
    poll(store, AS_OF + timedelta(microseconds=1))

    inputs = selectors.report_inputs(AS_OF)

    assert polls_read(inputs) == set()
    assert inputs.store_ids.tolist() == ["later"]


def test_store_ids_of_any_length_are_read_verbatim() -> None:
    long_id = "x" * 100_000
    for store_id in ("007", long_id, " spaced "):
        poll(Store.objects.create(store_id=store_id), AS_OF)

    inputs = selectors.report_inputs(AS_OF)

    assert sorted(polls_read(inputs)) == sorted(
        (store_id, us(AS_OF), True) for store_id in ("007", long_id, " spaced ")
    )
    # Python strings: a fixed-width array would pad every id to 100,000 characters.
    assert inputs.store_ids.dtype == object
