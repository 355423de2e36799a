"""monitor.selectors: what a report reads from either database."""

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import numpy as np
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import selectors
from monitor.engine import ReportInputs
from monitor.models import BusinessHours, StatusPoll, Store
from monitor.selectors import ALL_STORES, StoreRange

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


# ---- a range of stores (a report shard's read) ----------------------------------------------

# Ids whose code-point order differs from a locale's ("B" < "a" < "ä") and from
# UTF-16's ("\uff61" < "😀"); PostgreSQL text cannot hold NUL, UTF-8 no lone surrogate.
UNICODE_IDS = ["a", "B", "ä", "z", "Z", "10", "9", "\uff61", "😀", "e\u0301", "é", " ", ""]
store_ids = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4
) | st.sampled_from(UNICODE_IDS)


def hours_read(inputs: ReportInputs) -> set[tuple[str, int, int, int]]:
    return {
        (str(inputs.store_ids[s]), int(d), int(b), int(e))
        for s, d, b, e in zip(
            inputs.hours_store,
            inputs.hours_day,
            inputs.hours_start_us,
            inputs.hours_end_us,
            strict=True,
        )
    }


def stores_read(inputs: ReportInputs) -> set[tuple[str, str]]:
    return {(str(i), str(z)) for i, z in zip(inputs.store_ids, inputs.timezones, strict=True)}


def restricted(
    inputs: ReportInputs, stores: StoreRange
) -> tuple[set[tuple[str, str]], set[tuple[str, int, bool]], set[tuple[str, int, int, int]]]:
    """What the full read holds of the stores in range."""
    return (
        {row for row in stores_read(inputs) if row[0] in stores},
        {row for row in polls_read(inputs) if row[0] in stores},
        {row for row in hours_read(inputs) if row[0] in stores},
    )


def store_with_data(store_id: str, number: int) -> None:
    """A store with polls before, in and after the window, and hours on one day."""
    store = Store.objects.create(store_id=store_id, timezone_str=["", "Asia/Kolkata"][number % 2])
    for hours_before in (24 * 8 + number, 24 * 3 + number, number, -1):
        poll(store, AS_OF - timedelta(hours=hours_before), active=bool((hours_before + number) % 3))
    BusinessHours.objects.create(
        store=store, day_of_week=number % 7, start_time_local=time(9), end_time_local=time(17)
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(store_ids, max_size=12, unique=True),
    first=st.none() | store_ids,
    end=st.none() | store_ids,
    pick_bounds_from_ids=st.booleans(),
)
def test_a_range_reads_what_the_full_read_holds_of_its_stores(
    ids: list[str], first: str | None, end: str | None, pick_bounds_from_ids: bool
) -> None:
    if pick_bounds_from_ids and ids:  # bounds that are ids: both edges hit a store
        first, end = ids[0], ids[-1]
    stores = StoreRange(first, end)
    with transaction.atomic():
        for number, store_id in enumerate(ids):
            store_with_data(store_id, number)
        full = selectors.report_inputs(AS_OF)

        ranged = selectors.report_inputs(AS_OF, stores)

        assert (stores_read(ranged), polls_read(ranged), hours_read(ranged)) == restricted(
            full, stores
        )
        transaction.set_rollback(True)


def test_a_range_holds_its_first_id_and_not_its_end() -> None:
    for number, store_id in enumerate(["a", "b", "c"]):
        store_with_data(store_id, number)

    inputs = selectors.report_inputs(AS_OF, StoreRange("b", "c"))

    assert inputs.store_ids.tolist() == ["b"]
    assert {row[0] for row in polls_read(inputs)} == {"b"}
    assert {row[0] for row in hours_read(inputs)} == {"b"}
    # Between ids, a bound keeps what the code-point order puts on its side.
    assert selectors.report_inputs(AS_OF, StoreRange("a\x01", "bb")).store_ids.tolist() == ["b"]


@pytest.mark.parametrize("stores", [StoreRange("b", "b"), StoreRange("c", "a"), StoreRange("x")])
def test_an_empty_range_reads_nothing(stores: StoreRange) -> None:
    for number, store_id in enumerate(["a", "b", "c"]):
        store_with_data(store_id, number)

    inputs = selectors.report_inputs(AS_OF, stores)

    assert len(inputs.store_ids) == len(inputs.poll_store) == len(inputs.hours_store) == 0


def test_ranges_compare_ids_by_code_point() -> None:
    for number, store_id in enumerate(UNICODE_IDS):
        store_with_data(store_id, number)

    upper = selectors.report_inputs(AS_OF, StoreRange("A", "a"))  # "B", "Z": not "a", "ä", "z"
    astral = selectors.report_inputs(AS_OF, StoreRange("\uff61"))  # "😀" is above U+FF61

    assert sorted(upper.store_ids.tolist()) == ["B", "Z"]
    assert sorted(astral.store_ids.tolist()) == ["\uff61", "😀"]
    # The database sorts as Python does: one range per store, in sorted() order.
    assert [stores.first for stores in selectors.store_ranges(1)] == [
        None,
        *sorted(UNICODE_IDS)[1:],
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(store_ids, max_size=15, unique=True), shard_stores=st.integers(1, 6))
def test_store_ranges_cover_every_store_in_order_a_shard_at_a_time(
    ids: list[str], shard_stores: int
) -> None:
    with transaction.atomic():
        Store.objects.bulk_create(Store(store_id=store_id) for store_id in ids)

        ranges = selectors.store_ranges(shard_stores)

        assert ranges[0].first is None
        assert ranges[-1].end is None
        assert all(a.end == b.first for a, b in pairwise(ranges))
        shards = [[i for i in sorted(ids) if i in stores] for stores in ranges]
        assert [i for shard in shards for i in shard] == sorted(ids)  # code-point order
        assert all(0 < len(shard) <= shard_stores for shard in shards) or ids == []
        assert len(ranges) == max(1, -(-len(ids) // shard_stores))
        transaction.set_rollback(True)


def test_no_stores_make_one_range_of_everything() -> None:
    assert selectors.store_ranges(100) == [ALL_STORES]


def test_a_shard_holds_at_least_one_store() -> None:
    with pytest.raises(ValueError, match="at least one store"):
        selectors.store_ranges(0)
