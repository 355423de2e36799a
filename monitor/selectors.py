"""Database → arrays: everything a report reads, in the engine's columnar form.

Reads only what the report needs: the polls of the week window, plus each
store's last poll before it (its status reaches into the window up to the
midpoint with the next poll), the business hours and the zones. Rows go
straight from the cursor into NumPy, never through ORM objects (how, for
each database: monitor.db).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Count, Max, OrderBy, OuterRef, Subquery
from django.db.models.functions import Coalesce, Substr

from monitor import db
from monitor.db.base import PollArrays, SqlParams, text_to_us
from monitor.db.names import sql_names
from monitor.engine import ReportInputs
from monitor.engine.units import WINDOW_LENGTHS_US
from monitor.models import StatusPoll, Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Every read inside sees the database as of one instant: a report never sees half
    of a load that commits while it reads, and never holds up a load either
    (how, for each database: Database.read_snapshot). Inside a caller's
    transaction, that one decides.
    """
    if connection.in_atomic_block:
        yield
    else:
        with db.current().read_snapshot():
            yield


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


def _polls_sql() -> str:
    """The window's polls and each store's last before it: (store, instant, active)."""
    n = sql_names()
    # The window's polls come from a range scan of the covering timestamp
    # index. Each store's last poll before the window takes two probes of the
    # unique (store, timestamp_utc) index, whatever the length of the history:
    # correlated subqueries, as SQLite has no LATERAL, and no join on ids,
    # which PostgreSQL would plan as a hash join over every poll ever stored.
    return f"""
        SELECT store, instant, active FROM (
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


def _polls(start: datetime, end: datetime) -> PollArrays:
    """Store pk, instant (µs) and status of the polls in [start, end] and the last before start."""
    params: SqlParams = {
        "start": connection.ops.adapt_datetimefield_value(start),
        "end": connection.ops.adapt_datetimefield_value(end),
    }
    return db.current().poll_arrays(_polls_sql(), params)


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
        text_to_us(np.char.add("1970-01-01 ", np.array(start, dtype=str))),
        text_to_us(np.char.add("1970-01-01 ", np.array(end, dtype=str))),
    )


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
    database = db.current()
    instant = database.epoch_us_sql(n.poll_time)  # no datetime object per row
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
    instants = database.epoch_us([instant for instant, _ in rows])
    return instants, np.array([bool(active) for _, active in rows], dtype=bool)


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
