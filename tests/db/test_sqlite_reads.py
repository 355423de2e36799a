"""monitor.db.sqlite's reads of a report's polls: joined into one value a column and
parsed whole by NumPy, they say what one row at a time said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from monitor.db import sqlite
from monitor.db.base import text_to_us
from monitor.db.names import sql_names
from monitor.models import StatusPoll, Store

EDGES = [
    "2023-01-22 12:09:39.388884",
    "2023-01-22 12:09:39",
    "2024-02-29 23:59:59.000001",  # a leap day
    "2100-03-01 00:00:00",  # no leap day in 2100
    "2000-02-29 12:00:00.5",  # a fraction Django would not write: 1 to 6 digits read alike
    "1969-12-31 23:59:59.999999",  # before the epoch
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59.999999",
]


def test_edge_instants_read_as_numpy_reads_them() -> None:
    joined = ",".join(EDGES)
    assert sqlite._instants_us(joined).tolist() == text_to_us(np.array(EDGES)).tolist()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@given(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1))
def test_any_instant_django_writes_reads_back(instants: list[datetime]) -> None:
    # As Django's SQLite adapter writes a UTC instant: naive, a space, 0 or 6 digits.
    texts = [str(instant.replace(tzinfo=None)) for instant in instants]
    expected = [(instant - EPOCH) // MICROSECOND for instant in instants]
    assert sqlite._instants_us(",".join(texts)).tolist() == expected


@pytest.mark.parametrize(
    "odd",
    [
        "2023-01-22T12:00:00",
        "2023-01-22 12:00:00.1234567",
        "2023-01-22 12:00",
        "2023-01-2x 12:00:00",
    ],
)
def test_an_instant_of_another_shape_is_read_one_by_one(odd: str) -> None:
    values = [EDGES[0], odd]
    joined = ",".join(values)
    if odd.endswith("x 12:00:00"):
        with pytest.raises(ValueError, match="Error parsing datetime"):
            sqlite._instants_us(joined)
    else:
        assert sqlite._instants_us(joined).tolist() == text_to_us(np.array(values)).tolist()


@pytest.mark.django_db
def test_poll_arrays_hold_every_poll_in_the_query_order() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's read")
    stores = [Store.objects.create(store_id=f"s{n}", timezone_str="UTC") for n in range(3)]
    start = datetime(2023, 1, 20, tzinfo=UTC)
    polls = [
        StatusPoll(
            store=stores[n % 3],
            timestamp_utc=start + timedelta(minutes=37 * n, microseconds=n * 1001 % 7),
            active=n % 4 != 0,
        )
        for n in range(200)
    ]
    StatusPoll.objects.bulk_create(polls)
    n = sql_names()
    query = (
        f"SELECT {n.poll_store} AS store, {n.poll_time} AS instant, {n.poll_active} AS active "
        f"FROM {n.polls} ORDER BY {n.poll_store}, {n.poll_time}"
    )
    store, instant_us, active = sqlite.SQLite().poll_arrays(query, {})
    expected = sorted(polls, key=lambda poll: (poll.store_id, poll.timestamp_utc))
    assert store.tolist() == [poll.store_id for poll in expected]
    assert instant_us.tolist() == [(poll.timestamp_utc - EPOCH) // MICROSECOND for poll in expected]
    assert active.tolist() == [poll.active for poll in expected]


@pytest.mark.django_db
def test_no_polls_read_as_empty_arrays() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's read")
    n = sql_names()
    query = (
        f"SELECT {n.poll_store} AS store, {n.poll_time} AS instant, {n.poll_active} AS active "
        f"FROM {n.polls}"
    )
    arrays = sqlite.SQLite().poll_arrays(query, {})
    assert [array.tolist() for array in arrays] == [[], [], []]
