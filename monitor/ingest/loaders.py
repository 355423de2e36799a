"""The five sources: their columns, how a row is parsed, and how the rows are saved.

Every loader streams the file's valid rows to the database in batches and
saves them with set-based statements (see monitor.db), never one ORM object per
row. It runs in the caller's transaction: the services wrap each file in one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
from django.db import connection, transaction

from monitor import db
from monitor.db.base import Batch, LoadCounts, PollRow, StagingColumn, text_to_us
from monitor.db.names import Table, sql_names
from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError
from monitor.ingest.reader import (
    BatchParser,
    Column,
    FileProgress,
    RowErrors,
    RowInput,
    RowParser,
)

# Bytes of a poll line with a 19-digit id and 6 fraction digits, rounded up:
# a file's size over this is a low estimate of its polls.
POLL_LINE_BYTES = 64
# Below this many polls a load never rebuilds the indexes: little to gain, and
# the rebuild's exclusive lock would make every report, and every other load
# (an HTTP request of a few polls), wait for it.
REBUILD_MIN_POLLS = 100_000


# (parsed batches, the load's errors) → the batches without the rows it rejected.
# Every source's rows are (line, store_id, …).
RowFilter = Callable[[Iterable[Batch], RowErrors], Iterable[Batch]]


@dataclass(frozen=True)
class Source:
    name: str  # the source's name in metrics: polls, business_hours, timezones
    columns: tuple[Column, ...]
    save: Callable[[Iterable[Batch], RowInput], LoadCounts]
    # A hand-tuned row parser, for the columns' field indexes; None: the columns' rules.
    parser: Callable[[Mapping[str, int]], RowParser] | None = None
    # Its loads only add polls (and their stores), and say the earliest
    # (LoadCounts.polls_from); other loads may change any report.
    adds_polls_only: bool = False
    # Parses a batch a column at a time, for the inputs that hold columns (see reader).
    batch_parser: BatchParser | None = None
    # The rows a load wrote to each table, whose statistics a big load brings
    # up to date (services.load_upkeep).
    written: Callable[[LoadCounts], dict[Table, int]] = lambda _: {}

    def row_parser(self, positions: Mapping[str, int]) -> RowParser:
        """Parses a row into (line, *values), values in the columns' order."""
        if self.parser is not None:
            return self.parser(positions)
        return columns_parser(self.columns, positions)

    def load(
        self,
        rows: RowInput,
        errors: RowErrors,
        on_progress: FileProgress | None,
        within: RowFilter | None = None,
    ) -> LoadCounts:
        """Save the valid rows; `within` rejects (into `errors`) those of stores the
        writer may not change (monitor.scope.Scope.rows_within)."""
        parse = self.row_parser(rows.positions)
        batches: Iterable[Batch] = rows.parsed_batches(
            parse, errors, on_progress, self.batch_parser
        )
        if within is not None:
            batches = within(batches, errors)
        return self.save(batches, rows)


def columns_parser(columns: Sequence[Column], positions: Mapping[str, int]) -> RowParser:
    """Each column's rule applied to its trimmed field; a column that may be empty
    (Column.empty_with, Column.optional) gives None, or "" when optional, for an empty
    field, and an optional column the header lacks gives ""."""
    if all(c.empty_with is None and c.after is None and not c.optional for c in columns):
        steps = [(positions[column.name], column.rule) for column in columns]

        def parse(line: int, fields: list[str]) -> tuple[Any, ...]:
            return (line, *[rule(fields[index].strip()) for index, rule in steps])

        return parse
    return _lenient_columns_parser(columns, positions)


def _lenient_columns_parser(columns: Sequence[Column], positions: Mapping[str, int]) -> RowParser:
    order = {column.name: place for place, column in enumerate(columns)}
    pairs = [
        (place, order[column.empty_with])
        for place, column in enumerate(columns)
        if column.empty_with is not None
    ]
    after = [
        (place, order[column.after])
        for place, column in enumerate(columns)
        if column.after is not None
    ]

    def value(column: Column, fields: list[str]) -> Any:
        index = positions.get(column.name)
        text = "" if index is None else fields[index].strip()
        if text or not (column.optional or column.empty_with is not None):
            return column.rule(text)
        return "" if column.optional else None

    def parse(line: int, fields: list[str]) -> tuple[Any, ...]:
        values = [value(column, fields) for column in columns]
        for place, partner in pairs:
            if (values[place] is None) != (values[partner] is None):
                raise RowRejectedError
        for place, earlier in after:
            if not values[place] > values[earlier]:
                raise RowRejectedError
        return (line, *values)

    return parse


def _staged_source(
    name: str,
    staging_table: str,
    columns: tuple[tuple[Column, str], ...],
    merge: Callable[[str], LoadCounts],
    table: Table,
) -> Source:
    """A source saved by staging its rows in the temporary `staging_table`, then running
    `merge` on it, which writes to `table`. The staging table has the line, then a
    column per Column, named by its preferred name, of the PostgreSQL type paired
    with it."""
    staging = (
        StagingColumn("line", "bigint"),
        *(StagingColumn(column.name, sql_type) for column, sql_type in columns),
    )

    def save(batches: Iterable[Batch], rows: RowInput) -> LoadCounts:
        db.current().stage(staging_table, staging, batches)
        loaded = merge(staging_table)._replace(stores=_stores_named_in(staging_table))
        with connection.cursor() as cursor:
            # Also dropped at commit; dropping now lets one transaction load
            # several files (import_data), or the same source twice.
            cursor.execute(f"DROP TABLE {staging_table}")
        return loaded

    return Source(
        name=name,
        columns=tuple(column for column, _ in columns),
        save=save,
        written=lambda counts: {table: counts.loaded},
    )


def _stores_named_in(staging: str) -> frozenset[int] | None:
    """The keys of the stores the staged rows name; None when one names every store (`*`)."""
    names = sql_names()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {staging} WHERE store_id = %s LIMIT 1", [rules.EVERY_STORE])
        if cursor.fetchone() is not None:
            return None
        cursor.execute(
            f"SELECT s.{names.store_pk} FROM {names.stores} AS s "
            f"WHERE s.{names.store_id} IN (SELECT store_id FROM {staging})"
        )
        return frozenset(pk for (pk,) in cursor.fetchall())


def _create_stores(staging: str) -> None:
    """A Store row (with no zone) for every store_id staged that has none yet (not for
    `*`, every store, which only exclusions stage)."""
    # The condition is also what keeps SQLite from reading ON CONFLICT as a join's ON.
    # ORDER BY: concurrent loads lock new stores in one order, never deadlocking.
    _insert_stores(
        f"SELECT DISTINCT store_id, '' FROM {staging} WHERE store_id <> '{rules.EVERY_STORE}' "
        "ORDER BY store_id",
        "DO NOTHING",
    )


def _insert_stores(select: str, on_conflict: str, *, with_organization: bool = False) -> int:
    """INSERT the (store_id, zone[, organization]) rows of `select` into the
    stores; how many it wrote."""
    names = sql_names()
    columns = f"{names.store_id}, {names.timezone}"
    if with_organization:
        columns += f", {names.store_organization}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {names.stores} ({columns}) {select} "
            f"ON CONFLICT ({names.store_id}) {on_conflict}"
        )
        inserted: int = cursor.rowcount
    return inserted


# ---- polls ----------------------------------------------------------------------


def _poll_parser(at: Mapping[str, int]) -> RowParser:
    """POLLS' columns parsed, hand-unrolled: the hot loop of the biggest file. A
    profile of a full-size polls file showed columns_parser costs a noticeable
    share of the whole import, so polls keep this copy (and its row order)."""
    store, status, instant = at["store_id"], at["status"], at["timestamp_utc"]
    store_id, poll_timestamp, is_active = rules.store_id, rules.poll_timestamp, rules.is_active
    latest = rules.latest_poll_text()  # once a load, not once a row

    def parse(line: int, fields: list[str]) -> PollRow:
        return (
            line,
            store_id(fields[store].strip()),
            poll_timestamp(fields[instant].strip(), latest),
            is_active(fields[status].strip()),
        )

    return parse


def _parse_poll_batch(lines: Sequence[int], values: list[list[Any]]) -> list[PollRow] | None:
    """POLLS' columns parsed a column at a time (rules.store_ids and the others), as
    _poll_parser would parse each row; None when some value needs its row's rule."""
    store_ids, statuses, instants = values  # in POLLS' column order
    stores = rules.store_ids(store_ids)
    if stores is None:
        return None
    active = rules.statuses(statuses)
    if active is None:
        return None
    at = rules.poll_timestamps(instants)
    if at is None:
        return None
    return list(zip(lines, stores, at, active, strict=True))


def _save_polls(
    batches: Iterable[Batch], rows: RowInput, rebuild_indexes: bool | None = None
) -> LoadCounts:
    """New polls in; one saved already, or earlier in the file, is a duplicate.

    A load of at least REBUILD_MIN_POLLS expected to at least double the poll
    table rebuilds its indexes (see monitor.db), unless `rebuild_indexes` says
    which path to take.
    """
    if rebuild_indexes is None:
        expected = rows.size // POLL_LINE_BYTES
        rebuild_indexes = expected >= REBUILD_MIN_POLLS and _stored_polls_fewer_than(expected)
    keys: dict[str, int] = {}  # store_id → Store key, of the stores seen so far
    # What the incidents' evaluation after the load needs: the stores with an
    # inactive poll, and each store's earliest poll (the texts compare as instants).
    down: set[str] = set()
    earliest: dict[str, str] = {}
    new_stores = 0
    with db.current().poll_load(rebuild_indexes=rebuild_indexes) as load:
        for batch in batches:
            new = set(map(itemgetter(1), batch)).difference(keys)
            if new:
                # Past the first batches of a file, few batches bring new stores.
                load.suspend()
                new_stores += _add_store_keys(keys, new)
            for _, store_id, instant, active in batch:
                if not active:
                    down.add(store_id)
                if instant < earliest.get(store_id, _AFTER_EVERY_INSTANT):
                    earliest[store_id] = instant
            load.write(batch, keys)
        counts = load.finish()
    instants = text_to_us(np.array(list(earliest.values()), dtype=str)).tolist()
    return counts._replace(
        new_stores=new_stores,
        stores=frozenset(keys.values()),
        stores_changed=frozenset(keys[store_id] for store_id in down),
        stores_from=dict(zip((keys[store_id] for store_id in earliest), instants, strict=True)),
    )


_AFTER_EVERY_INSTANT = "~"  # sorts after every UTC text ("9999-…")


def _stored_polls_fewer_than(limit: int) -> bool:
    """Whether fewer than `limit` polls are stored (counting at most `limit`)."""
    polls = sql_names().polls
    # In a savepoint rolled back at once, which releases the table lock the
    # count takes: two loads that then both go for the direct load's exclusive
    # lock would otherwise each wait for the other's (a deadlock).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {polls} LIMIT %s) AS t", [limit])
        (stored,) = cursor.fetchone()
        transaction.set_rollback(True)
    return bool(stored < limit)


def _add_store_keys(keys: dict[str, int], store_ids: set[str]) -> int:
    """Add the Store keys of `store_ids` to `keys`, creating the stores that have none;
    how many had none."""
    wanted = sorted(store_ids)  # sorted: the same file creates the same keys
    keys.update(db.current().store_keys(wanted))
    # Stores are created once; an HTTP batch mostly names known ones: look them
    # up first, and insert only what is missing (one statement a row).
    new = [store_id for store_id in wanted if store_id not in keys]
    if not new:
        return 0
    names = sql_names()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {names.stores} ({names.store_id}, {names.timezone}) "
            f"VALUES (%s, '') ON CONFLICT ({names.store_id}) DO NOTHING",
            [(store_id,) for store_id in new],
        )
    keys.update(db.current().store_keys(new))
    return len(new)


POLLS = Source(
    name="polls",
    columns=(
        Column(("store_id",), rules.store_id),
        Column(("status",), rules.is_active),
        Column(("timestamp_utc",), rules.poll_timestamp),
    ),
    parser=_poll_parser,
    batch_parser=_parse_poll_batch,
    save=_save_polls,
    adds_polls_only=True,
    written=lambda counts: {Table.POLLS: counts.loaded, Table.STORES: counts.new_stores},
)


def polls_source(*, rebuild_indexes: bool | None) -> Source:
    """POLLS, its load path chosen (None: by the file's size, as POLLS does)."""
    return replace(POLLS, save=partial(_save_polls, rebuild_indexes=rebuild_indexes))


# ---- business hours ----------------------------------------------------------------


def _merge_hours(staging: str) -> LoadCounts:
    """Every store named by a valid row gets exactly the file's rows as its hours,
    each distinct row once (in the order of its first line); the repeats are
    counted as duplicates."""
    _create_stores(staging)
    db.current().lock_stores_named_in(staging)
    names = sql_names()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {names.hours} WHERE {names.hours_store} IN (
                SELECT s.{names.store_pk} FROM {names.stores} AS s
                WHERE s.{names.store_id} IN (SELECT store_id FROM {staging})
            )
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {names.hours}
                ({names.hours_store}, {names.day}, {names.start}, {names.end})
            SELECT s.{names.store_pk}, h.day, h.start_time_local, h.end_time_local
            FROM {staging} AS h
            JOIN {names.stores} AS s ON s.{names.store_id} = h.store_id
            GROUP BY s.{names.store_pk}, h.day, h.start_time_local, h.end_time_local
            ORDER BY min(h.line)
            """
        )
        stored = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {staging}")
        (staged,) = cursor.fetchone()
        return LoadCounts(stored, staged - stored)


# A row's local times: both empty is a closed row (§10.1, §10.2), exactly one is rejected.
_TIMES = (
    (Column(("start_time_local",), rules.local_time, empty_with="end_time_local"), "time"),
    (Column(("end_time_local",), rules.local_time, empty_with="start_time_local"), "time"),
)

HOURS = _staged_source(
    "business_hours",
    "hours_staging",
    (
        (Column(("store_id",), rules.store_id), "text"),
        # §1's order of preference when a header has several.
        (Column(("day", "dayOfWeek", "day_of_week"), rules.day_of_week), "smallint"),
        *_TIMES,
    ),
    _merge_hours,
    Table.HOURS,
)


# ---- time zones --------------------------------------------------------------------


def _merge_zones(staging: str) -> LoadCounts:
    """Upsert each store's zone from its last valid row; counts the stores upserted."""
    timezone = sql_names().timezone
    upserted = _insert_stores(
        f"SELECT store_id, timezone_str FROM {staging} "
        f"WHERE line IN (SELECT max(line) FROM {staging} GROUP BY store_id) "
        # ORDER BY: concurrent loads lock the stores in one order, never deadlocking.
        "ORDER BY store_id",
        f"DO UPDATE SET {timezone} = excluded.{timezone}",
    )
    return LoadCounts(upserted, 0)


ZONES = _staged_source(
    "timezones",
    "zone_staging",
    (
        (Column(("store_id",), rules.store_id), "text"),
        (Column(("timezone_str",), rules.timezone_name), "text"),
    ),
    _merge_zones,
    Table.STORES,
)


# ---- special hours (§10.2) ---------------------------------------------------------------


def _merge_special_hours(staging: str) -> LoadCounts:
    """Every (store, date) named by a valid row gets exactly the input's rows for that
    date; the store's other dates are kept."""
    _create_stores(staging)
    db.current().lock_stores_named_in(staging)
    names = sql_names()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {names.special} WHERE EXISTS (
                SELECT 1 FROM {staging} AS x
                JOIN {names.stores} AS s ON s.{names.store_id} = x.store_id
                WHERE s.{names.store_pk} = {names.special}.{names.special_store}
                AND x.date = {names.special}.{names.special_date}
            )
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {names.special} ({names.special_store}, {names.special_date},
                {names.special_start}, {names.special_end})
            SELECT s.{names.store_pk}, x.date, x.start_time_local, x.end_time_local
            FROM {staging} AS x
            JOIN {names.stores} AS s ON s.{names.store_id} = x.store_id
            ORDER BY x.line
            """
        )
        return LoadCounts(cursor.rowcount, 0)


SPECIAL_HOURS = _staged_source(
    "special_hours",
    "special_hours_staging",
    (
        (Column(("store_id",), rules.store_id), "text"),
        (Column(("date",), rules.local_date), "date"),
        *_TIMES,
    ),
    _merge_special_hours,
    Table.SPECIAL_HOURS,
)


# ---- exclusions (§10.3) ------------------------------------------------------------------


def _merge_exclusions(staging: str) -> LoadCounts:
    """A new exclusion for each valid row; one equal to a stored one, or to an earlier
    row, is a duplicate. `*` is every store (a NULL store)."""
    _create_stores(staging)
    names = sql_names()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {staging}")
        (staged,) = cursor.fetchone()
        # The unique constraint on (store, start, end) decides what is a duplicate,
        # within the input and against what is stored, even for concurrent loads.
        cursor.execute(
            f"""
            INSERT INTO {names.exclusions} ({names.exclusion_store}, {names.exclusion_start},
                {names.exclusion_end}, {names.exclusion_reason})
            SELECT s.{names.store_pk}, x.start_utc, x.end_utc, x.reason
            FROM {staging} AS x
            LEFT JOIN {names.stores} AS s ON s.{names.store_id} = x.store_id
            WHERE true ORDER BY x.line
            ON CONFLICT DO NOTHING
            """
        )
        inserted = cursor.rowcount
    return LoadCounts(inserted, staged - inserted)


EXCLUSIONS = _staged_source(
    "exclusions",
    "exclusion_staging",
    (
        (Column(("store_id",), rules.exclusion_store_id), "text"),
        (Column(("start_utc",), rules.calendar_instant), "timestamptz"),
        (Column(("end_utc",), rules.calendar_instant, after="start_utc"), "timestamptz"),
        (Column(("reason",), rules.reason, optional=True), "text"),
    ),
    _merge_exclusions,
    Table.EXCLUSIONS,
)


# ---- store ownership ---------------------------------------------------------------


def _merge_ownership(staging: str) -> LoadCounts:
    """Give each store named the organization of its last valid row (creating
    the unknown ones, as business hours do); counts the stores upserted."""
    organization = sql_names().store_organization
    upserted = _insert_stores(
        f"SELECT store_id, '', organization FROM {staging} "
        f"WHERE line IN (SELECT max(line) FROM {staging} GROUP BY store_id) "
        # ORDER BY: concurrent loads lock the stores in one order, never deadlocking.
        "ORDER BY store_id",
        f"DO UPDATE SET {organization} = excluded.{organization}",
        with_organization=True,
    )
    return LoadCounts(upserted, 0)


def ownership_source(organization_keys: Mapping[str, int]) -> Source:
    """Store ownership rows (store_id, organization: a slug of `organization_keys`,
    slug → Organization key); an unknown slug rejects the row."""

    def organization(slug: str) -> int:
        if not slug:
            raise RowRejectedError("is empty")
        key = organization_keys.get(slug)
        if key is None:
            raise RowRejectedError(
                f"{slug!r} is no organization's slug (create_organization makes one)"
            )
        return key

    return _staged_source(
        "store_organizations",
        "ownership_staging",
        (
            (Column(("store_id",), rules.store_id), "text"),
            (Column(("organization",), organization), "bigint"),
        ),
        _merge_ownership,
        Table.STORES,
    )
