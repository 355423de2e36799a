"""Database → arrays: everything a report reads, in the engine's columnar form.

Reads only what the report needs: the polls of the week window, plus each
store's last poll before it (its status reaches into the window up to the
midpoint with the next poll), the business hours, the zones, and the
calendar (special hours and exclusions) near the week. Rows go
straight from the cursor into NumPy, never through ORM objects (how, for
each database: monitor.db).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Max,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr

from monitor import db
from monitor.db.base import HoursArrays, PollArrays, SqlParams
from monitor.db.names import sql_names
from monitor.engine import ReportInputs
from monitor.engine.hours import CLOSED, EVERY_STORE
from monitor.engine.render import header_line
from monitor.engine.units import TICKS_PER_US, WINDOW_LENGTHS_US
from monitor.ingest import rules
from monitor.models import (
    REPORT_ID_MAX_LENGTH,
    Exclusion,
    Incident,
    Report,
    ReportPart,
    SpecialHours,
    StatusPoll,
    Store,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoreRange:
    """The stores whose store_id s has first <= s < end, None being unbounded.

    Ids compare in code-point order: the report's row order (Python's str
    order), which is PostgreSQL's byte order of UTF-8 text and SQLite's BINARY
    collation (Database.code_point_comparisons). So the reports of
    consecutive ranges concatenate in order.
    """

    first: str | None = None
    end: str | None = None
    # Only the stores of this organization (monitor.scope); None: of every one.
    organization_id: int | None = None
    # Only the stores with these keys (the incidents' evaluation); None: any.
    store_pks: tuple[int, ...] | None = None

    def __contains__(self, store_id: str) -> bool:
        """Whether the id lies in the range (the organization is not checked)."""
        return (self.first is None or self.first <= store_id) and (
            self.end is None or store_id < self.end
        )


ALL_STORES = StoreRange()


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


def polls_in_range() -> QuerySet[StatusPoll]:
    """The polls stored within amendment 5's range, from the epoch to a day after now.

    Polls stored before that rule may lie outside it (prune_polls
    --outside-range removes them): no report, page or answer reads those, so
    neither a clock gone wrong nor year 1 reaches the engine or a date.
    """
    return StatusPoll.objects.filter(
        timestamp_utc__gte=rules.EARLIEST_INSTANT,
        timestamp_utc__lte=rules.latest_poll_instant(datetime.now(UTC)),
    )


def latest_poll_time(*, at_or_before: datetime | None = None) -> datetime | None:
    """The latest poll stored (the default as-of instant, docs/report-semantics.md §2),
    or the latest at or before an instant; served by the timestamp index. Polls
    outside amendment 5's range are left out (polls_in_range)."""
    polls = polls_in_range()
    if at_or_before is not None:
        polls = polls.filter(timestamp_utc__lte=at_or_before)
    latest: datetime | None = polls.aggregate(latest=Max("timestamp_utc"))["latest"]
    return latest


def report_inputs(as_of: datetime, stores: StoreRange = ALL_STORES) -> ReportInputs:
    """The engine's inputs for a report as of `as_of` (an aware datetime), of the
    stores in `stores` only: their polls, hours and zones."""
    inputs, _ = report_inputs_keyed(as_of, stores)
    return inputs


def report_inputs_keyed(
    as_of: datetime, stores: StoreRange = ALL_STORES
) -> tuple[ReportInputs, npt.NDArray[np.int64]]:
    """report_inputs, and the key (Store pk) of each of its stores, by store index."""
    as_of_us = to_epoch_us(as_of)
    # Stores last: every poll's and every hours row's store is there even when
    # the reads are not in one snapshot (read_snapshot), as stores are never
    # deleted and a store_id never changes.
    poll_store_pk, poll_time_us, poll_active = _polls(
        as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1]), as_of, stores
    )
    hours_store_pk, hours_day, hours_start_us, hours_end_us = _business_hours(stores=stores)
    calendar = _calendar(as_of, store_pks=stores.store_pks)
    store_pk, store_ids, timezones = _stores(stores)
    inputs = ReportInputs(
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
        **calendar.arrays(store_pk),
    )
    return inputs, store_pk


@dataclass(frozen=True)
class _Calendar:
    """The special hours rows and exclusions near a report's week, of every store, as
    read: store pk (None: every store), then the values in the engine's units."""

    special: list[tuple[int, int, int, int]]  # store pk, local date (days), start, end µs
    exclusions: list[tuple[int | None, int, int]]  # store pk, start and end µs

    def arrays(self, store_pk: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.int64]]:
        """ReportInputs' calendar columns for the stores `store_pk` (sorted) only."""
        special = np.array(self.special, dtype=np.int64).reshape(-1, 4)
        special = special[np.isin(special[:, 0], store_pk)]
        every = [(EVERY_STORE, start, end) for pk, start, end in self.exclusions if pk is None]
        own = np.array(
            [row for row in self.exclusions if row[0] is not None], dtype=np.int64
        ).reshape(-1, 3)
        own = own[np.isin(own[:, 0], store_pk)]
        own[:, 0] = _store_index(store_pk, own[:, 0])
        excluded = np.concatenate([own, np.array(every, dtype=np.int64).reshape(-1, 3)])
        return {
            "special_store": _store_index(store_pk, special[:, 0]),
            "special_date": special[:, 1].copy(),
            "special_start_us": special[:, 2].copy(),
            "special_end_us": special[:, 3].copy(),
            "exclusion_store": excluded[:, 0].copy(),
            "exclusion_start_us": excluded[:, 1].copy(),
            "exclusion_end_us": excluded[:, 2].copy(),
        }


def _calendar(
    as_of: datetime, store_pk: int | None = None, store_pks: tuple[int, ...] | None = None
) -> _Calendar:
    """The special hours and exclusions that may reach the week before `as_of`, of
    every store, of one or of some (and those of every store). Few rows (a store's
    holidays, a fleet's maintenance): read through the ORM."""
    week_start = as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    # Local dates are at most a day off UTC ones, and overnight rows reach into the next.
    first, last = week_start.date() - timedelta(days=3), as_of.date() + timedelta(days=2)
    special = SpecialHours.objects.filter(date__range=(first, last))
    # One starting at as_of too: the incidents ask whether as_of itself is business time.
    exclusions = Exclusion.objects.filter(end_utc__gt=week_start, start_utc__lte=as_of)
    if store_pk is not None:
        special = special.filter(store=store_pk)
        exclusions = exclusions.filter(Q(store=store_pk) | Q(store__isnull=True))
    if store_pks is not None:
        # The SQL is a constant of monitor.db; the keys go as a parameter.
        keys = RawSQL(db.current().keys_sql("%s"), [db.current().keys_param(store_pks)])  # noqa: S611
        special = special.filter(store__in=keys)
        exclusions = exclusions.filter(Q(store__in=keys) | Q(store__isnull=True))
    return _Calendar(
        special=[
            (pk, (day - _EPOCH.date()).days, _time_us(start), _time_us(end))
            for pk, day, start, end in special.values_list(
                "store_id", "date", "start_time_local", "end_time_local"
            )
        ],
        exclusions=[
            (pk, to_epoch_us(start), to_epoch_us(end))
            for pk, start, end in exclusions.values_list("store_id", "start_utc", "end_utc")
        ],
    )


def _time_us(wall: time | None) -> int:
    """µs since midnight of a local time; CLOSED for a closed row's None."""
    if wall is None:
        return CLOSED
    return ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1_000_000 + wall.microsecond


def store_ranges(shard_stores: int, stores: StoreRange = ALL_STORES) -> list[StoreRange]:
    """Consecutive ranges of at most `shard_stores` stores each, in code-point
    order of store_id, that together cover every store of `stores`' organization
    (or every store; the first range's `first` and the last's `end` are
    unbounded, so a store added later falls in one of them). One range when
    there are no more stores than that.

    Only the boundaries leave the database: every shard_stores-th id of a walk
    in order (on PostgreSQL, of store_id's text_pattern_ops index, or of an
    organization's stores through store_organization_idx).
    """
    if shard_stores < 1:
        raise ValueError(f"a shard holds at least one store, not {shard_stores}")
    n = sql_names()
    in_organization, params = _in_range(StoreRange(organization_id=stores.organization_id))
    query = f"""
        SELECT {n.store_id} FROM (
            SELECT s.{n.store_id}, ROW_NUMBER() OVER (
                ORDER BY s.{n.store_id} {db.current().code_point_order()}
            ) AS position FROM {n.stores} AS s{_where(in_organization)}
        ) AS numbered
        WHERE position > 1 AND (position - 1) %% %(size)s = 0
        ORDER BY position
    """
    with connection.cursor() as cursor:
        cursor.execute(query, {**params, "size": shard_stores})
        boundaries: list[str | None] = [row[0] for row in cursor.fetchall()]
    return [
        StoreRange(first, end, stores.organization_id)
        for first, end in pairwise([None, *boundaries, None])
    ]


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


def _stores(
    stores: StoreRange,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.str_]]:
    n = sql_names()
    in_range, params = _in_range(stores)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.{n.store_pk}, s.{n.store_id}, s.{n.timezone} FROM {n.stores} AS s"
            f"{_where(in_range)} ORDER BY s.{n.store_pk}",
            params,
        )
        rows = cursor.fetchall()
    pk, store_id, timezone = zip(*rows, strict=True) if rows else ((), (), ())
    return (
        np.array(pk, dtype=np.int64),
        # Python strings, not a fixed-width NumPy array that pads every id to
        # the longest one (store ids have no length limit).
        np.array(store_id, dtype=object),
        np.array(timezone, dtype=str),
    )


def _in_range(stores: StoreRange) -> tuple[list[str], SqlParams]:
    """SQL conditions keeping the stores (aliased s) of `stores`, and their parameters."""
    store_id = f"s.{sql_names().store_id}"
    at_least, below = db.current().code_point_comparisons()
    conditions: list[str] = []
    params: SqlParams = {}
    if stores.first is not None:
        conditions.append(f"{store_id} {at_least} %(store_first)s")
        params["store_first"] = stores.first
    if stores.end is not None:
        conditions.append(f"{store_id} {below} %(store_end)s")
        params["store_end"] = stores.end
    if stores.organization_id is not None:
        conditions.append(f"s.{sql_names().store_organization} = %(organization)s")
        params["organization"] = stores.organization_id
    if stores.store_pks is not None:
        keys = db.current().keys_sql("%(store_pks)s")
        conditions.append(f"s.{sql_names().store_pk} IN ({keys})")
        params["store_pks"] = db.current().keys_param(stores.store_pks)
    return conditions, params


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _polls_sql(stores: StoreRange) -> tuple[str, SqlParams]:
    """The window's polls of the stores in range and each one's last before the
    window, as (store, instant, active) rows; the query and the range's parameters.

    The window's polls: of all stores, a range scan of the covering timestamp
    index (status_poll_window_idx); of a range of stores, a walk of each
    store's entries in the unique (store, timestamp_utc) index, which carries
    the status too (status_poll_unique_store_instant). Never a join over every
    poll ever stored.
    """
    n = sql_names()
    database = db.current()
    in_range, params = _in_range(stores)
    where = _where(in_range)
    if in_range:
        window = database.rows_per_store_sql(
            f"t.{n.poll_time} AS instant, t.{n.poll_active} AS active",
            n.polls,
            n.poll_store,
            [f"t.{n.poll_time} >= %(start)s", f"t.{n.poll_time} <= %(end)s"],
            where,
        )
    else:
        window = f"""
            SELECT {n.poll_store} AS store, {n.poll_time} AS instant, {n.poll_active} AS active
            FROM {n.polls}
            WHERE {n.poll_time} >= %(start)s AND {n.poll_time} <= %(end)s
        """
    return f"{window} UNION ALL {database.last_polls_sql(where)}", params


def polls_between(start: datetime, end: datetime) -> PollArrays:
    """Store pk, instant (µs) and status of every poll in [start, end] (a range scan
    of the covering timestamp index: the incidents' look at which stores are live)."""
    n = sql_names()
    query = f"""
        SELECT {n.poll_store} AS store, {n.poll_time} AS instant, {n.poll_active} AS active
        FROM {n.polls} WHERE {n.poll_time} >= %(start)s AND {n.poll_time} <= %(end)s
    """
    return db.current().poll_arrays(query, _window_params(start, end))


def _polls(start: datetime, end: datetime, stores: StoreRange) -> PollArrays:
    """Store pk, instant (µs) and status of the polls in [start, end] and the last
    before start, of the stores in range; none before the epoch (polls_in_range:
    `end`, an as-of instant, is never later than a day after now)."""
    query, params = _polls_sql(stores)
    params.update(_window_params(start, end))
    return db.current().poll_arrays(query, params)


def _window_params(start: datetime, end: datetime) -> SqlParams:
    """%(start)s, %(end)s and %(earliest)s of the poll queries: a window [start, end]
    that begins no earlier than the epoch, and the epoch."""
    adapt = connection.ops.adapt_datetimefield_value
    return {
        "start": adapt(max(start, rules.EARLIEST_INSTANT)),
        "end": adapt(end),
        "earliest": adapt(rules.EARLIEST_INSTANT),
    }


def _business_hours(*, store_pk: int | None = None, stores: StoreRange = ALL_STORES) -> HoursArrays:
    """Store pk, weekday and local start/end (µs since midnight) of the hours rows
    of the stores in range, or of one store (both through the foreign key's index)."""
    n = sql_names()
    columns = f"t.{n.day} AS day, t.{n.start} AS start, t.{n.end} AS end"
    in_range, params = _in_range(stores)
    if store_pk is not None:
        query = f"SELECT t.{n.hours_store} AS store, {columns} FROM {n.hours} AS t"
        query += f" WHERE t.{n.hours_store} = %(store_pk)s"
        params["store_pk"] = store_pk
    elif in_range:
        query = db.current().rows_per_store_sql(
            columns, n.hours, n.hours_store, [], _where(in_range)
        )
    else:
        query = f"SELECT t.{n.hours_store} AS store, {columns} FROM {n.hours} AS t"
    return db.current().hours_arrays(query, params)


# ---- one store (the store API and explain_store) ------------------------------------------
# A store is found through its reader's scope (monitor.scope.Scope.store).


def store_report_inputs(store: Store, as_of: datetime) -> ReportInputs:
    """The engine's inputs for one store as of `as_of`: store index 0, its rows only.

    The polls of the week window and the last one before it, exactly what the
    report reads for this store, in one query whose two parts walk the unique
    (store, timestamp_utc) index; the hours come through the foreign key's index.
    """
    poll_time_us, poll_active = _store_polls(store.pk, as_of)
    _, hours_day, hours_start_us, hours_end_us = _business_hours(store_pk=store.pk)
    calendar = _calendar(as_of, store.pk).arrays(np.array([store.pk], dtype=np.int64))
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
        **calendar,
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
            WHERE {n.poll_store} = %(store)s
            AND {n.poll_time} < %(start)s AND {n.poll_time} >= %(earliest)s
            ORDER BY {n.poll_time} DESC LIMIT 1
        ) AS before
        UNION ALL
        SELECT {instant}, {n.poll_active} FROM {n.polls}
        WHERE {n.poll_store} = %(store)s
        AND {n.poll_time} >= %(start)s AND {n.poll_time} <= %(end)s
    """
    start = as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    params = {"store": store_pk, **_window_params(start, as_of)}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    instants = database.epoch_us([instant for instant, _ in rows])
    return instants, np.array([bool(active) for _, active in rows], dtype=bool)


def store_exclusions(
    store: Store, start: datetime, end: datetime
) -> list[tuple[int, bool, datetime, datetime, str]]:
    """The store's exclusions (its own and every store's) that reach [start, end), oldest
    first: id, of every store, start, end, reason."""
    reaching = Exclusion.objects.filter(end_utc__gt=start, start_utc__lt=end).filter(
        Q(store=store) | Q(store__isnull=True)
    )
    return [
        (pk, store_pk is None, first, last, reason)
        for pk, store_pk, first, last, reason in reaching.order_by("start_utc", "id").values_list(
            "id", "store_id", "start_utc", "end_utc", "reason"
        )
    ]


def stores_page(
    stores: QuerySet[Store],
    *,
    search: str,
    order_by: list[OrderBy],
    limit: int,
    offset: int,
    polls_since: datetime,
) -> tuple[int, list[tuple[str, str, datetime | None, bool | None, int]]]:
    """How many stores match `search` (an id prefix), and one page of them:
    (store_id, timezone, last poll instant, its status, polls since `polls_since`).

    The prefix is matched exactly on both databases: LIKE (served on
    PostgreSQL by store_id's text_pattern_ops index) narrows, and a comparison of the
    prefix itself decides, as SQLite's LIKE ignores case. Each store's last
    poll walks the unique (store, timestamp_utc) index backwards, once per
    store to order by it (order=last_poll), and the page's statuses and counts
    are read for the page only. `stores`: those the reader may see (its scope's).
    """
    if search:
        stores = (
            stores.filter(store_id__startswith=search)
            .annotate(prefix=Substr("store_id", 1, len(search)))
            .filter(prefix=search)
        )
    latest = polls_in_range().filter(store=OuterRef("pk")).order_by("-timestamp_utc")
    page_pks = list(
        stores.annotate(last_poll_at=Subquery(latest.values("timestamp_utc")[:1]))
        .order_by(*order_by)
        .values_list("pk", flat=True)[offset : offset + limit]
    )
    recent = (
        polls_in_range()
        .filter(store=OuterRef("pk"), timestamp_utc__gte=polls_since)
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


# ---- incidents (docs/report-semantics.md §11): the read side ---------------------------------
# The writes: monitor.services.incidents. `incidents` is always the reader's (Scope.incidents).


def incidents_matching(
    incidents: QuerySet[Incident],
    *,
    store: Store | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Incident]:
    """Those of `incidents` of one store and of one status (None: any), open first,
    then the latest start first (ties by id, newest first), each with its store.

    The window [since, until) keeps the incidents that overlap it: begun before
    `until`, and not ended by `since` (an open one has not ended). That is §11's
    "incidents of a store over a window": its outages over it, whether or not
    they began inside it. The comparisons are in exact ticks, as a midpoint
    may fall on a half microsecond.
    """
    if store is not None:
        incidents = incidents.filter(store=store)
    if status is not None:
        incidents = incidents.filter(status=status)
    if since is not None:
        since_tick = to_epoch_us(since) * TICKS_PER_US
        incidents = incidents.filter(Q(end_tick__gt=since_tick) | Q(end_tick__isnull=True))
    if until is not None:
        incidents = incidents.filter(start_tick__lt=to_epoch_us(until) * TICKS_PER_US)
    open_first = Case(When(status=Incident.Status.OPEN, then=Value(0)), default=Value(1))
    return incidents.select_related("store").order_by(open_first, "-start_tick", "-pk")


def open_incident_count(incidents: QuerySet[Incident]) -> int:
    """How many of `incidents` are open (served by the (status, store) index)."""
    return incidents.filter(status=Incident.Status.OPEN).count()


# ---- reports: the read side of report jobs (the writes: monitor.services.report_*) ------------
# Plain reads: the services' report_get_failing_lost and reports_recent_failing_lost
# first fail a report whose job is lost (services.report_staleness).

REPORT_ID_PATTERN = rf"[A-Za-z0-9_-]{{1,{REPORT_ID_MAX_LENGTH}}}"
_REPORT_ID = re.compile(REPORT_ID_PATTERN, re.ASCII)
_CSV_COLUMNS = {False: "result_csv", True: "result_percent_csv"}
_CSV_SIZES = {False: "result_bytes", True: "result_percent_bytes"}


class ReportPartsMissingError(RuntimeError):
    """A Complete report's parts are gone (retention deleted the report meanwhile)."""


def is_possible_report_id(report_id: str) -> bool:
    """Report ids are URL-safe base64 (models.new_report_id), at most the column's length.

    Checking this first keeps odd input (a NUL, which PostgreSQL cannot even
    compare, or 10,000 characters) away from the database.
    """
    return _REPORT_ID.fullmatch(report_id) is not None


def report_get(report_id: str, reports: QuerySet[Report]) -> Report | None:
    """The report among `reports` (the reader's: monitor.scope.Scope.reports),
    without its CSV (report_csv_chunks reads it); an id that no report can have
    (is_possible_report_id) is not looked up."""
    if not is_possible_report_id(report_id):
        return None
    return reports.filter(pk=report_id).first()


def reports_recent(reports: QuerySet[Report], *, limit: int) -> list[Report]:
    """The `limit` latest of `reports` (the reader's), newest first, without their CSVs."""
    # Served by the report_created_idx index (ORDER BY created_at DESC LIMIT n).
    return list(reports.select_related("organization").order_by("-created_at")[:limit])


def report_latest_complete(reports: QuerySet[Report]) -> Report | None:
    """The newest Complete report of `reports` (the reader's own: Scope.own_reports)."""
    complete = reports.filter(status=Report.Status.COMPLETE)
    return complete.order_by("-created_at").first()


def report_csv_chunks(report: Report, *, percent: bool = False) -> Iterator[str]:
    """The Complete report's CSV: the header, then each part's rows in order,
    one part in memory at a time (only that form's column is read).

    Parts already gone raise ReportPartsMissingError here, before the first
    chunk, so that a download answers an error rather than a cut CSV.
    """
    parts = ReportPart.objects.filter(report_id=report.report_id)
    part_ids = list(parts.order_by("index").values_list("pk", flat=True))
    if len(part_ids) != report.part_count:
        raise ReportPartsMissingError(report.report_id)
    return _csv_chunks(report.report_id, part_ids, percent=percent)


def _csv_chunks(report_id: str, part_ids: list[int], *, percent: bool) -> Iterator[str]:
    yield header_line(percent=percent)
    for part_id in part_ids:
        rows: str | None = (
            ReportPart.objects.filter(pk=part_id)
            .values_list(_CSV_COLUMNS[percent], flat=True)
            .first()
        )
        if rows is None:  # deleted meanwhile: never a CSV cut short without an error
            raise ReportPartsMissingError(report_id)
        yield rows


def report_csv(report: Report, *, percent: bool = False) -> str:
    """The Complete report's whole CSV text."""
    return "".join(report_csv_chunks(report, percent=percent))


def report_csv_bytes(report: Report, *, percent: bool = False) -> int:
    """The size of the Complete report's CSV in UTF-8 bytes, without reading it."""
    sizes = ReportPart.objects.filter(report_id=report.report_id).aggregate(
        total=Sum(_CSV_SIZES[percent])
    )
    return len(header_line(percent=percent).encode()) + (sizes["total"] or 0)
