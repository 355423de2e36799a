"""Every statement specific to PostgreSQL: bulk loads through COPY, the reads
of a report through a binary COPY, snapshots and bounded lock waits.

Loads. Rows go through COPY, in batches, on the connection Django holds (the
import's transaction). A staging table is temporary, dropped at commit. The
poll table carries three indexes and a foreign key, and maintaining them row by
row is most of a big load's cost (three index entries and a deferred foreign
key check per row, many times the cost of building them afresh: `make bench`
measures it). So a load expected to at least double the table drops them
first and rebuilds them at the end, in the same transaction, as PostgreSQL's
"Populating a Database" advises; a crash still leaves the table exactly as it
was.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import IntegrityError, OperationalError, connection, transaction

from monitor.db import base
from monitor.db.base import (
    LoadCounts,
    LockWaitTimeoutError,
    PollRow,
    StoreKeys,
    earliest_poll_after,
    last_poll_pk,
    raw_connection,
)
from monitor.db.names import sql_names
from monitor.engine.hours import CLOSED

# Binary timestamps count µs from 2000-01-01.
_EPOCH_US = (
    int((datetime(2000, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    * 1_000_000
)
_COPY_HEADER_BYTES = 19  # signature (11), flags (4), header extension length (4)
# A poll as poll_arrays reads it: int8send, timestamptz_send and boolsend end to end.
_POLL_RECORD = np.dtype([("store", ">i8"), ("instant", ">i8"), ("active", "u1")])


def _binding_cursor() -> psycopg.Cursor[Any]:
    """A cursor that sends parameters apart from the statement (Django's quotes them
    into it), so that an array parameter can go in binary (%b)."""
    return psycopg.Cursor(raw_connection())


class PostgreSQL:
    def stage(
        self, table: str, columns: Sequence[base.StagingColumn], batches: Iterable[base.Batch]
    ) -> None:
        definitions = ", ".join(f"{column.name} {column.postgresql_type}" for column in columns)
        with raw_connection().cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definitions}) ON COMMIT DROP")
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)

    def poll_load(self, *, rebuild_indexes: bool) -> base.PollLoad:
        return _PostgreSQLPollsDirect() if rebuild_indexes else _PostgreSQLPollsStaged()

    def store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        names = sql_names()
        with _binding_cursor() as cursor:
            # One array parameter (%b: sent in binary, no quoting of each id in
            # Python): one short statement, whatever the number of ids.
            cursor.execute(
                f"SELECT {names.store_id}, {names.store_pk} FROM {names.stores} "
                f"WHERE {names.store_id} = ANY(%b)",
                [store_ids],
            )
            return cursor.fetchall()

    def lock_stores_named_in(self, staging: str) -> None:
        names = sql_names()
        with connection.cursor() as cursor:
            # Replacing a store's hours while another load replaces them too
            # would keep both sets (each DELETE misses the rows the other
            # inserts): the second waits for the first to commit. NO KEY: polls
            # being loaded for these stores meanwhile need not wait.
            cursor.execute(
                f"""
                SELECT FROM {names.stores} WHERE {names.store_id} IN (
                    SELECT store_id FROM {staging}
                ) ORDER BY {names.store_pk} FOR NO KEY UPDATE
                """
            )

    def lock_stores(self, keys: Sequence[int]) -> None:
        names = sql_names()
        with connection.cursor() as cursor:
            # NO KEY: a poll's foreign key check (FOR KEY SHARE) does not wait for it.
            cursor.execute(
                f"SELECT FROM {names.stores} WHERE "
                f"{names.store_pk} IN ({self.keys_sql('%(keys)s')}) "
                f"ORDER BY {names.store_pk} FOR NO KEY UPDATE",
                {"keys": self.keys_param(keys)},
            )

    def row_count_estimate(self, table: str) -> int:
        with connection.cursor() as cursor:
            # As the planner estimates: the rows per page the last VACUUM, ANALYZE
            # or CREATE INDEX counted (reltuples is -1 where none has run), times
            # the pages the table has now.
            cursor.execute(
                "SELECT CASE WHEN reltuples > 0 AND relpages > 0 THEN (reltuples / relpages"
                " * (pg_relation_size(oid) / current_setting('block_size')::int))::bigint"
                " ELSE 0 END FROM pg_class WHERE oid = %s::regclass",
                [table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def analyze(self, table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")

    def vacuum_inserted(self, table: str) -> bool:
        # Of an insert-only table VACUUM reads only the pages not yet all-visible
        # (the new ones), sets their bits in the visibility map and freezes what
        # it can; index-only scans then skip those pages. Without it, every
        # poll a report reads through the (store, instant) index is also looked
        # up in the heap until autovacuum gets to the table.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {table}")
        return True

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """A REPEATABLE READ, READ ONLY transaction: its snapshot is taken at the
        first read, and readers take no lock that blocks an insert."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def poll_arrays(self, query: str, params: base.SqlParams) -> base.PollArrays:
        # PostgreSQL sends COPY data one message per row, and a message per poll
        # costs Python far more than the query. So the polls come as one value:
        # each poll's binary fields (store, instant, status: 17 bytes) end to
        # end, which NumPy reads in place. Array aggregates would send a length
        # with every element (29 bytes a poll) and take the server longer.
        copy_query = (
            "COPY (SELECT string_agg(int8send(store) || timestamptz_send(instant)"
            f" || boolsend(active), ''::bytea) FROM ({query}) AS window_polls)"
            " TO STDOUT (FORMAT BINARY)"
        )
        data = _copy_out(copy_query, params)
        polls = _binary_records(data, _POLL_RECORD)
        return (
            polls["store"].astype(np.int64),
            polls["instant"].astype(np.int64) + _EPOCH_US,
            polls["active"].astype(bool),
        )

    def hours_arrays(self, query: str, params: base.SqlParams) -> base.HoursArrays:
        # As the polls: one row of binary arrays, a time of day being its µs since midnight.
        # A closed row's NULL times come as CLOSED: an array of NULLs has no value to read.
        copy_query = (
            "COPY (SELECT array_agg(store), array_agg(day),"
            f" array_agg(COALESCE(start, '00:00')), array_agg(COALESCE(\"end\", '00:00')),"
            f" array_agg(start IS NULL) FROM ({query}) AS hours) TO STDOUT (FORMAT BINARY)"
        )
        data = _copy_out(copy_query, params)
        arrays = _binary_arrays(data, [">i8", ">i2", ">i8", ">i8", "?"])
        store, day, start_us, end_us = (array.astype(np.int64) for array in arrays[:4])
        closed = arrays[4].astype(bool)
        start_us[closed] = end_us[closed] = CLOSED
        return store, day, start_us, end_us

    def rows_per_store_sql(
        self, columns: str, table: str, store_column: str, conditions: list[str], where: str
    ) -> str:
        n = sql_names()
        match = " AND ".join([f"t.{store_column} = s.{n.store_pk}", *conditions])
        # LATERAL, and OFFSET 0 to keep it from being flattened into a join:
        # for a range of a good share of the stores, the planner would hash
        # join the whole table (or the whole window) instead.
        return f"""
            SELECT s.{n.store_pk} AS store, per_store.* FROM {n.stores} AS s CROSS JOIN LATERAL (
                SELECT {columns} FROM {table} AS t WHERE {match} OFFSET 0
            ) AS per_store{where}
        """

    def last_polls_sql(self, where: str) -> str:
        n = sql_names()
        # LATERAL: per store, one walk backwards of the unique (store,
        # timestamp_utc) index, which carries the status too (INCLUDE active):
        # both columns come from the index.
        return f"""
            SELECT s.{n.store_pk}, last.instant, last.active
            FROM {n.stores} AS s CROSS JOIN LATERAL (
                SELECT before.{n.poll_time} AS instant, before.{n.poll_active} AS active
                FROM {n.polls} AS before
                WHERE before.{n.poll_store} = s.{n.store_pk} AND before.{n.poll_time} < %(start)s
                AND before.{n.poll_time} >= %(earliest)s
                ORDER BY before.{n.poll_time} DESC LIMIT 1
            ) AS last{where}
        """

    def keys_sql(self, placeholder: str) -> str:
        return f"SELECT unnest(CAST({placeholder} AS bigint[]))"

    def keys_param(self, keys: Iterable[int]) -> str:
        return "{" + ",".join(str(int(key)) for key in keys) + "}"

    def code_point_comparisons(self) -> tuple[str, str]:
        # The text_pattern_ops operators compare bytes, whatever the collation:
        # UTF-8's byte order is code-point order; store_id's text_pattern_ops
        # index (Django's "…_like", from unique=True) serves them.
        return "~>=~", "~<~"

    def code_point_order(self) -> str:
        return "USING ~<~"

    def epoch_us_sql(self, column: str) -> str:
        return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"

    def epoch_us(self, values: Sequence[Any]) -> npt.NDArray[np.int64]:
        return np.array(values, dtype=np.int64)

    def check_deferred_constraints(self) -> None:
        with connection.cursor() as cursor:
            _check_deferred_constraints(cursor)

    @contextmanager
    def lock_wait_at_most(self, seconds: float) -> Iterator[None]:
        """PostgreSQL makes a statement wait for a row or table lock as long as
        its holder's transaction lasts (an import can last minutes): this bounds
        that wait for the statements inside."""
        try:
            # A savepoint (or a transaction): the timeout undoes only what ran inside.
            with transaction.atomic():
                _set_lock_timeout(f"{int(seconds * 1000)}ms")
                yield
                # The rest of the caller's transaction waits as it would have.
                _set_lock_timeout("0")
        except OperationalError as error:
            # Only the lock timeout: a database that is down is not "busy".
            if isinstance(error.__cause__, psycopg.errors.LockNotAvailable):
                raise LockWaitTimeoutError(str(error)) from error
            raise

    def lock_until_commit(self, name: str) -> None:
        """A transaction-level advisory lock on the name's 64-bit hash (two names
        that hash alike only take turns). Read Committed: the statements after
        it see what the previous holder committed."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])

    def is_missing_database(self, error: OperationalError) -> bool:
        return "does not exist" in str(error)


def _check_deferred_constraints(cursor: Any) -> None:
    """Run every deferred check pending in this transaction, as Django's
    connection.check_constraints() does, in one round trip."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


def _copy_out(copy_query: str, params: base.SqlParams) -> bytes:
    """Everything a COPY … TO STDOUT sends, as one bytes value."""
    with raw_connection().cursor() as cursor, cursor.copy(copy_query, params) as copy:
        return b"".join(copy)


def _set_lock_timeout(value: str) -> None:
    with connection.cursor() as cursor:
        # set_config(…, true) is SET LOCAL: until the transaction ends.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])


def _binary_records(data: bytes, record: np.dtype[np.void]) -> npt.NDArray[np.void]:
    """The records of fixed size packed into the one bytea field of a one-row binary
    COPY (its length: −1 for NULL, as string_agg of no rows)."""
    offset = _COPY_HEADER_BYTES + 2  # past the row's field count
    (length,) = struct.unpack_from(">i", data, offset)
    count = max(length, 0) // record.itemsize
    return np.frombuffer(data, dtype=record, count=count, offset=offset + 4)


def _binary_arrays(data: bytes, element_types: list[str]) -> list[npt.NDArray[np.generic]]:
    """The one-dimensional array fields of a one-row binary COPY, as NumPy arrays.

    Each field is its length (−1 for NULL, as array_agg of no rows) and the
    array: dimensions, null flag, element type, then per dimension its size
    and lower bound, then each element as its length and big-endian value.
    """
    arrays = []
    offset = _COPY_HEADER_BYTES + 2  # past the row's field count
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


def _copy_text(rows: list[PollRow], keys: StoreKeys, *, with_line: bool) -> str:
    """COPY's text format, store ids replaced by keys: all digits and punctuation,
    nothing to escape. "+00": the instants are UTC, whatever the session's zone."""
    if with_line:
        return "".join(
            [f"{line}\t{keys[store]}\t{at}+00\t{active:d}\n" for line, store, at, active in rows]
        )
    return "".join([f"{keys[store]}\t{at}+00\t{active:d}\n" for _, store, at, active in rows])


def _array_literals(rows: list[PollRow], keys: StoreKeys) -> list[str]:
    """The rows' store keys, instants and statuses as three array literals ('{…}').

    Written by joins over whole columns: psycopg would dump a list element by
    element in Python. Nothing needs quoting but the instants' spaces.
    """
    _, stores, instants, active = zip(*rows, strict=True)
    quoted_instants = '","'.join(instants)
    return [
        f"{{{','.join(map(str, map(keys.__getitem__, stores)))}}}",
        f'{{"{quoted_instants}"}}',
        f"{{{','.join(map(str, active))}}}",
    ]


class _CopyStream:
    """A COPY … FROM STDIN kept open across batches, so that the server stores
    one batch while Python parses the next; ended when other statements must run."""

    def __init__(self, statement: str) -> None:
        self.statement = statement
        self._open: tuple[ExitStack, Any] | None = None

    def write(self, text: str) -> None:
        if self._open is None:
            stack = ExitStack()
            cursor = stack.enter_context(raw_connection().cursor())
            self._open = stack, stack.enter_context(cursor.copy(self.statement))
        self._open[1].write(text)

    def end(self, *exc_info: Any) -> None:
        """Complete the COPY; given an exception, abort it instead (and the transaction)."""
        if self._open is not None:
            stack, _ = self._open
            self._open = None
            stack.__exit__(*(exc_info or (None, None, None)))


class _PostgreSQLPollsCopy:
    """What both PostgreSQL poll loads do: COPY the rows as they come, with their
    line or not, and count them."""

    stream: _CopyStream
    copied: int
    with_line: bool

    def __exit__(self, *exc_info: Any) -> None:
        self.stream.end(*exc_info)

    def write(self, rows: list[PollRow], keys: StoreKeys) -> None:
        self.stream.write(_copy_text(rows, keys, with_line=self.with_line))
        self.copied += len(rows)

    def suspend(self) -> None:
        self.stream.end()


class _PostgreSQLPollsStaged(_PostgreSQLPollsCopy):
    """Into a staging table, then one INSERT of the polls not stored yet (_insert).

    A load of one batch (every HTTP request, small files) skips the table: its
    rows go as arrays in the INSERT itself. Creating and dropping a temporary
    table is a write to the system catalogs, a large part of a small load's
    cost, and one that many small loads at once would contend on.
    """

    with_line = True

    TABLE = "poll_staging"
    PLAIN_INSERT_MIN_ROWS = 1000  # see _insert

    def __enter__(self) -> _PostgreSQLPollsStaged:
        self.stream = _CopyStream(f"COPY {self.TABLE} FROM STDIN")
        self.copied = 0
        self.first: tuple[list[PollRow], StoreKeys] | None = None  # held back, not copied
        self.staging = False
        return self

    def write(self, rows: list[PollRow], keys: StoreKeys) -> None:
        if self.first is None and not self.staging:
            self.first = rows, keys
            return
        if not self.staging:
            self.suspend()  # nothing in flight: the table is created first
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self.TABLE} (line bigint, store bigint, "
                    "instant timestamptz, active boolean) ON COMMIT DROP"
                )
            self.staging = True
            assert self.first is not None
            super().write(*self.first)
            self.first = None
        super().write(rows, keys)

    def finish(self) -> LoadCounts:
        self.stream.end()
        if self.staging:
            inserted, polls_from = self._insert(f"FROM {self.TABLE}", [], self.copied)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {self.TABLE}")
            return LoadCounts(inserted, self.copied - inserted, polls_from)
        if self.first is None:
            return LoadCounts(0, 0)
        rows, keys = self.first
        inserted, polls_from = self._insert(
            # The arrays as a table, a row per index; its ordinality stands
            # for the line, the rows being in file order. The instants are
            # naive UTC: AT TIME ZONE 'UTC' reads them so, whatever the
            # session's zone.
            "FROM (SELECT store, instant AT TIME ZONE 'UTC' AS instant, active, line "
            "FROM unnest(%s::bigint[], %s::timestamp[], %s::boolean[]) WITH ORDINALITY "
            "AS arrays (store, instant, active, line)) AS staged",
            _array_literals(rows, keys),
            len(rows),
        )
        return LoadCounts(inserted, len(rows) - inserted, polls_from)

    def _insert(self, source: str, params: list[Any], rows: int) -> tuple[int, datetime | None]:
        """INSERT the `rows` staged rows (`FROM …` and its parameters); how many were
        new, and the earliest instant of those.

        ON CONFLICT looks each row up in the unique index before inserting it,
        and inserting it looks again: a large part of the INSERT's time. Polls
        are seldom sent twice, so many rows go first as a plain INSERT, in a
        savepoint, with the insertion's own check alone; only if one is stored
        already (the INSERT fails on the unique constraint, having waited for a
        concurrent load that inserted it to commit) do they go again with ON
        CONFLICT. A few rows are not worth the savepoint's round trips.
        """
        names = sql_names()

        def insert(on_conflict: str) -> str:
            # DISTINCT ON keeps each (store, instant)'s first row in the ORDER
            # BY, its earliest line; ON CONFLICT skips what is stored already,
            # even by a concurrent import that commits first. RETURNING: the
            # inserted rows' count and earliest instant, in the same statement.
            return f"""
                WITH inserted AS (
                    INSERT INTO {names.polls} ({names.poll_columns})
                    SELECT DISTINCT ON (store, instant) store, instant, active {source}
                    ORDER BY store, instant, line
                    {on_conflict}
                    RETURNING {names.poll_time} AS instant
                ) SELECT count(*), min(instant) FROM inserted
            """

        with _binding_cursor() as cursor:
            if self.staging:
                # The sort holds the whole file: let it run in memory, not on disk.
                cursor.execute("SELECT set_config('work_mem', '256MB', true)")
            if rows >= self.PLAIN_INSERT_MIN_ROWS:
                try:
                    with transaction.atomic():
                        cursor.execute(insert(""), params)
                        return _count_and_earliest(cursor)
                except psycopg.errors.UniqueViolation:
                    pass  # rolled back to the savepoint
            on_conflict = f"ON CONFLICT ({names.poll_store}, {names.poll_time}) DO NOTHING"
            cursor.execute(insert(on_conflict), params)
            return _count_and_earliest(cursor)


def _count_and_earliest(cursor: psycopg.Cursor[Any]) -> tuple[int, datetime | None]:
    row = cursor.fetchone()
    assert row is not None
    return row[0], row[1]


class _PostgreSQLPollsDirect(_PostgreSQLPollsCopy):
    """Straight into the poll table, its unique and foreign key constraints and its
    secondary indexes dropped, all rebuilt by finish().

    COPY into the table itself also inserts a page of rows at a time, where
    INSERT … SELECT writes one row (and its WAL record) at a time.
    """

    with_line = False

    def __enter__(self) -> _PostgreSQLPollsDirect:
        names = sql_names()
        self.table = names.polls
        self.stream = _CopyStream(f"COPY {self.table} ({names.poll_columns}) FROM STDIN")
        self.copied = 0
        with connection.cursor() as cursor:
            # Readers wait until the load commits rather than read without
            # indexes; other imports wait too, which the duplicate handling of
            # finish() relies on.
            cursor.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY conname",
                [self.table],
            )
            self.constraints: list[tuple[str, str, str]] = cursor.fetchall()
            # Plain indexes: not the primary key's, not a constraint's.
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisunique "
                "FROM pg_index AS i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT FROM pg_constraint AS c "
                "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY 1",
                [self.table],
            )
            # The unique (store, instant) one is an index, not a constraint,
            # where it carries the status (INCLUDE: monitor.models).
            self.indexes: list[tuple[str, str, bool]] = cursor.fetchall()
            # Rows written earlier in this transaction have their deferred
            # checks pending (a poll's store, a store's organization), and a
            # table with pending checks cannot be altered: dropping the polls'
            # foreign key alters the stores' table too. Run them all now.
            _check_deferred_constraints(cursor)
            for name, _, _ in self.constraints:
                cursor.execute(f"ALTER TABLE {self.table} DROP CONSTRAINT {_quote(name)}")
            for name, _, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
        self.before = last_poll_pk()  # the load's polls are keyed above
        return self

    def finish(self) -> LoadCounts:
        self.stream.end()
        duplicates = 0
        with connection.cursor() as cursor:
            # Index builds sort in maintenance_work_mem: a big one avoids spilling.
            cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
            for name, kind, definition in self.constraints:
                if kind == "u":
                    add = f"ALTER TABLE {self.table} ADD CONSTRAINT {_quote(name)} {definition}"
                    duplicates += self._add_unique(cursor, add)
            for _, definition, unique in self.indexes:
                if unique:
                    duplicates += self._add_unique(cursor, definition)
                else:
                    cursor.execute(definition)
            # One join checks every row, instead of one lookup per inserted row.
            for name, kind, definition in self.constraints:
                if kind == "f":
                    cursor.execute(
                        f"ALTER TABLE {self.table} ADD CONSTRAINT {_quote(name)} {definition}"
                    )
        inserted = self.copied - duplicates
        polls_from = earliest_poll_after(self.before) if inserted else None
        return LoadCounts(inserted, duplicates, polls_from)

    def _add_unique(self, cursor: Any, add: str) -> int:
        """Restore the (store, instant) constraint or unique index (the statement
        `add`); how many later duplicates it took deleting.

        Files seldom repeat a poll, so first try as is: building the index is
        the cheapest way to learn there is no duplicate.
        """
        try:
            with transaction.atomic():
                cursor.execute(add)
            return 0
        except IntegrityError:
            pass
        names = sql_names()
        # Ids grow in COPY order, file order, and every row stored before has
        # a smaller one: keeping the smallest keeps the first occurrence.
        cursor.execute(
            f"""
            DELETE FROM {names.polls} AS later USING {names.polls} AS earlier
            WHERE later.{names.poll_store} = earlier.{names.poll_store}
            AND later.{names.poll_time} = earlier.{names.poll_time}
            AND later.{names.poll_pk} > earlier.{names.poll_pk}
            """
        )
        deleted: int = cursor.rowcount
        cursor.execute(add)
        return deleted


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
