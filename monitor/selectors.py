"""Database → arrays: everything a report reads, in the engine's columnar form.

Reads only what the report needs: the polls of the week window, plus each
store's last poll before it (its status reaches into the window up to the
midpoint with the next poll), the business hours and the zones. Rows go
straight from the cursor into NumPy, never through ORM objects: on
PostgreSQL through a binary COPY, on SQLite through one fetch.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Count, Max, OrderBy, OuterRef, Subquery
from django.db.models.functions import Coalesce, Substr

from monitor.engine import ReportInputs
from monitor.engine.units import WINDOW_LENGTHS_US
from monitor.models import StatusPoll, Store
from monitor.sql import sql_names

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# PostgreSQL's binary timestamps count µs from 2000-01-01.
_PG_EPOCH_US = int((datetime(2000, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * 1_000_000
_PG_COPY_HEADER_BYTES = 19  # signature (11), flags (4), header extension length (4)
# A poll as SQLite returns it: the instant as Django writes it, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
SqlParams = dict[str, str | None]  # the window's bounds, as the database takes them
_SQLITE_POLL_ROW = np.dtype([("store", np.int64), ("time", "U26"), ("active", np.int8)])


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Every read inside sees the database as of one instant: a report never sees half
    of a load that commits while it reads, and never holds up a load either.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (its snapshot is taken at
    the first read; readers take no lock that blocks an insert). SQLite: a
    deferred transaction, which in WAL mode reads one snapshot and lets writers
    commit meanwhile; Django's own BEGIN would be IMMEDIATE (settings), a write
    lock, so it is issued here. Inside a caller's transaction, that one decides.
    """
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        connection.ensure_connection()
        raw = connection.connection
        raw.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            raw.execute("COMMIT")  # nothing was written: a commit ends a read as well


def latest_poll_time(*, at_or_before: datetime | None = None) -> datetime | None:
    """The latest poll stored (the default as-of instant, docs/report-semantics.md §2),
    or the latest at or before an instant; served by the timestamp index."""
    polls = StatusPoll.objects.all()
    if at_or_before is not None:
        polls = polls.filter(timestamp_utc__lte=at_or_before)
    latest: datetime | None = polls.aggregate(latest=Max("timestamp_utc"))["latest"]
    return latest


def report_inputs(as_of: datetime) -> ReportInputs:
    """The engine's inputs for a report as of `as_of` (an aware datetime)."""
    as_of_us = to_epoch_us(as_of)
    # Stores last: every poll's and every hours row's store is there even when
    # the reads are not in one snapshot (read_snapshot), as stores are never deleted.
    poll_store_pk, poll_time_us, poll_active = _polls(
        as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1]), as_of
    )
    hours_store_pk, hours_day, hours_start_us, hours_end_us = _business_hours()
    store_pk, store_ids, timezones = _stores()
    return ReportInputs(
        store_ids=store_ids,
        timezones=timezones,
        poll_store=_store_index(store_pk, poll_store_pk),
        poll_time_us=poll_time_us,
        poll_active=poll_active,
        hours_store=_store_index(store_pk, hours_store_pk),
        hours_day=hours_day,
        hours_start_us=hours_start_us,
        hours_end_us=hours_end_us,
        as_of_us=as_of_us,
    )


def to_epoch_us(instant: datetime) -> int:
    # Subtracting aware datetimes is exact (integer µs), unlike timestamp().
    return (instant - _EPOCH) // timedelta(microseconds=1)


def _store_index(
    store_pk: npt.NDArray[np.int64], pks: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Positions of `pks` in the sorted `store_pk`; every pk must be there."""
    index = np.searchsorted(store_pk, pks)
    if not np.array_equal(store_pk[np.minimum(index, len(store_pk) - 1)], pks):
        raise RuntimeError("a poll or hours row names a store that was not read")
    return index


def _stores() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.str_]]:
    rows = list(Store.objects.order_by("pk").values_list("pk", "store_id", "timezone_str"))
    pk, store_id, timezone = zip(*rows, strict=True) if rows else ((), (), ())
    return (
        np.array(pk, dtype=np.int64),
        # Python strings, not a fixed-width NumPy array that pads every id to
        # the longest one (store ids have no length limit).
        np.array(store_id, dtype=object),
        np.array(timezone, dtype=str),
    )


def _polls_sql(time: str | None = None, active: str | None = None) -> str:
    """The window's polls and each store's last before it; `time` and `active`
    replace the selected columns (SQLite casts them)."""
    n = sql_names()
    # The window's polls come from a range scan of the covering timestamp
    # index. Each store's last poll before the window takes two probes of the
    # unique (store, timestamp_utc) index, whatever the length of the history:
    # correlated subqueries, as SQLite has no LATERAL, and no join on ids,
    # which PostgreSQL would plan as a hash join over every poll ever stored.
    return f"""
        SELECT store, {time or "instant"}, {active or "active"} FROM (
            SELECT {n.poll_store} AS store, {n.poll_time} AS instant, {n.poll_active} AS active
            FROM {n.polls}
            WHERE {n.poll_time} >= %(start)s AND {n.poll_time} <= %(end)s
            UNION ALL
            SELECT last.store, last.instant, (
                SELECT poll.{n.poll_active} FROM {n.polls} AS poll
                WHERE poll.{n.poll_store} = last.store AND poll.{n.poll_time} = last.instant
            ) FROM (
                SELECT s.{n.store_pk} AS store, (
                    SELECT MAX(before.{n.poll_time}) FROM {n.polls} AS before
                    WHERE before.{n.poll_store} = s.{n.store_pk}
                    AND before.{n.poll_time} < %(start)s
                ) AS instant
                FROM {n.stores} AS s
            ) AS last
            WHERE last.instant IS NOT NULL
        ) AS polls
    """


def _polls(
    start: datetime, end: datetime
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Store pk, instant (µs) and status of the polls in [start, end] and the last before start."""
    params: SqlParams = {
        "start": connection.ops.adapt_datetimefield_value(start),
        "end": connection.ops.adapt_datetimefield_value(end),
    }
    if connection.vendor == "postgresql":
        return _polls_postgresql(params)
    return _polls_sqlite(params)


def _polls_postgresql(
    params: SqlParams,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    # PostgreSQL sends COPY data one message per row, and a message per poll
    # costs Python far more than the query. Aggregated into three arrays, the polls
    # come as one row of binary arrays, which NumPy reads in place.
    query = (
        "COPY (SELECT array_agg(store), array_agg(instant), array_agg(active)"
        f" FROM ({_polls_sql()}) AS window_polls) TO STDOUT (FORMAT BINARY)"
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(query, params) as copy:
        data = b"".join(copy)
    store, time_us, active = _pg_binary_arrays(data, [">i8", ">i8", "u1"])
    return store.astype(np.int64), time_us.astype(np.int64) + _PG_EPOCH_US, active.astype(bool)


def _pg_binary_arrays(data: bytes, element_types: list[str]) -> list[npt.NDArray[np.generic]]:
    """The one-dimensional array fields of a one-row binary COPY, as NumPy arrays.

    Each field is its length (−1 for NULL, as array_agg of no rows) and the
    array: dimensions, null flag, element type, then per dimension its size
    and lower bound, then each element as its length and big-endian value.
    """
    arrays = []
    offset = _PG_COPY_HEADER_BYTES + 2  # past the row's field count
    for element_type in element_types:
        (length,) = struct.unpack_from(">i", data, offset)
        offset += 4
        if length <= 0:
            arrays.append(np.empty(0, dtype=element_type))
            continue
        dimensions, _, _, size = struct.unpack_from(">iiii", data, offset)
        elements = np.dtype([("length", ">i4"), ("value", element_type)])
        values = np.frombuffer(
            data, dtype=elements, count=size if dimensions else 0, offset=offset + 20
        )
        arrays.append(values["value"])
        offset += length
    return arrays


def _polls_sqlite(
    params: SqlParams,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    with connection.cursor() as cursor:
        # The casts hide the columns' declared types, so that Django's SQLite
        # converters don't build a datetime and a bool per row (many times slower).
        cursor.execute(_polls_sql("CAST(instant AS TEXT)", "CAST(active AS INTEGER)"), params)
        # Rows stream from the cursor straight into one array: no list of tuples.
        rows = np.fromiter(cursor, dtype=_SQLITE_POLL_ROW)
    # Copies: the engine runs faster on contiguous columns than on strided views.
    return rows["store"].copy(), _text_to_us(rows["time"]), rows["active"].astype(bool)


def _business_hours(
    *, store_pk: int | None = None
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Store pk, weekday and local start/end (µs since midnight) of every hours row
    (of one store's, through the foreign key's index)."""
    n = sql_names()
    where, params = ("", []) if store_pk is None else (f" WHERE {n.hours_store} = %s", [store_pk])
    with connection.cursor() as cursor:
        # Times as text ('HH:MM:SS[.ffffff]') read the same from both databases.
        cursor.execute(
            f"SELECT {n.hours_store}, {n.day}, CAST({n.start} AS TEXT),"
            f" CAST({n.end} AS TEXT) FROM {n.hours}{where}",
            params,
        )
        rows = cursor.fetchall()
    if not rows:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, empty
    store, day, start, end = zip(*rows, strict=True)
    return (
        np.array(store, dtype=np.int64),
        np.array(day, dtype=np.int64),
        _text_to_us(np.char.add("1970-01-01 ", np.array(start, dtype=str))),
        _text_to_us(np.char.add("1970-01-01 ", np.array(end, dtype=str))),
    )


def _text_to_us(texts: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC, as Django writes it to SQLite) → µs."""
    return np.array(texts, dtype="datetime64[us]").astype(np.int64)


# ---- one store (the store API and explain_store) ------------------------------------------


def store_get(store_id: str) -> Store | None:
    """The store with this id; served by the unique index on store_id."""
    if "\x00" in store_id:  # PostgreSQL text cannot hold NUL: no stored id has one
        return None
    # Not .first(): its ORDER BY id can make PostgreSQL walk the primary key instead.
    try:
        return Store.objects.get(store_id=store_id)
    except Store.DoesNotExist:
        return None


def store_report_inputs(store: Store, as_of: datetime) -> ReportInputs:
    """The engine's inputs for one store as of `as_of`: store index 0, its rows only.

    The polls of the week window and the last one before it, exactly what the
    report reads for this store, in one query whose two parts walk the unique
    (store, timestamp_utc) index; the hours come through the foreign key's index.
    """
    poll_time_us, poll_active = _store_polls(store.pk, as_of)
    _, hours_day, hours_start_us, hours_end_us = _business_hours(store_pk=store.pk)
    return ReportInputs(
        store_ids=np.array([store.store_id], dtype=object),
        timezones=np.array([store.timezone_str], dtype=str),
        poll_store=np.zeros(len(poll_time_us), dtype=np.int64),
        poll_time_us=poll_time_us,
        poll_active=poll_active,
        hours_store=np.zeros(len(hours_day), dtype=np.int64),
        hours_day=hours_day,
        hours_start_us=hours_start_us,
        hours_end_us=hours_end_us,
        as_of_us=to_epoch_us(as_of),
    )


def _store_polls(
    store_pk: int, as_of: datetime
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Instants (µs) and statuses of one store's polls in the week window and the last before."""
    n = sql_names()
    # Instants as integers (PostgreSQL) or text (SQLite): no datetime object per row.
    if connection.vendor == "postgresql":
        instant = f"(EXTRACT(EPOCH FROM {n.poll_time}) * 1000000)::bigint"
    else:
        instant = f"CAST({n.poll_time} AS TEXT)"
    query = f"""
        SELECT * FROM (
            SELECT {instant}, {n.poll_active} FROM {n.polls}
            WHERE {n.poll_store} = %(store)s AND {n.poll_time} < %(start)s
            ORDER BY {n.poll_time} DESC LIMIT 1
        ) AS before
        UNION ALL
        SELECT {instant}, {n.poll_active} FROM {n.polls}
        WHERE {n.poll_store} = %(store)s
        AND {n.poll_time} >= %(start)s AND {n.poll_time} <= %(end)s
    """
    start = as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    params = {
        "store": store_pk,
        "start": connection.ops.adapt_datetimefield_value(start),
        "end": connection.ops.adapt_datetimefield_value(as_of),
    }
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    instants = [instant for instant, _ in rows]
    active = np.array([bool(active) for _, active in rows], dtype=bool)
    if connection.vendor == "postgresql":
        return np.array(instants, dtype=np.int64), active
    return _text_to_us(np.array(instants, dtype=str)), active


def stores_page(
    *, search: str, order_by: list[OrderBy], limit: int, offset: int, polls_since: datetime
) -> tuple[int, list[tuple[str, str, datetime | None, bool | None, int]]]:
    """How many stores match `search` (an id prefix), and one page of them:
    (store_id, timezone, last poll instant, its status, polls since `polls_since`).

    The prefix is matched exactly on both databases: LIKE (served on
    PostgreSQL by store_id_prefix_idx) narrows, and a comparison of the
    prefix itself decides, as SQLite's LIKE ignores case. Each store's last
    poll walks the unique (store, timestamp_utc) index backwards, once per
    store to order by it (order=last_poll), and the page's statuses and counts
    are read for the page only.
    """
    stores = Store.objects.all()
    if search:
        stores = (
            stores.filter(store_id__startswith=search)
            .annotate(prefix=Substr("store_id", 1, len(search)))
            .filter(prefix=search)
        )
    latest = StatusPoll.objects.filter(store=OuterRef("pk")).order_by("-timestamp_utc")
    page_pks = list(
        stores.annotate(last_poll_at=Subquery(latest.values("timestamp_utc")[:1]))
        .order_by(*order_by)
        .values_list("pk", flat=True)[offset : offset + limit]
    )
    recent = (
        StatusPoll.objects.filter(store=OuterRef("pk"), timestamp_utc__gte=polls_since)
        .order_by()
        .values("store")
        .annotate(count=Count("*"))
        .values("count")
    )
    details = Store.objects.filter(pk__in=page_pks).annotate(
        last_poll_at=Subquery(latest.values("timestamp_utc")[:1]),
        last_poll_active=Subquery(latest.values("active")[:1]),
        polls_recent=Coalesce(Subquery(recent), 0),
    )
    by_pk = {
        row[0]: row[1:]
        for row in details.values_list(
            "pk", "store_id", "timezone_str", "last_poll_at", "last_poll_active", "polls_recent"
        )
    }
    rows = [by_pk[pk] for pk in page_pks]
    return stores.count(), rows
