"""What differs between PostgreSQL and SQLite in a bulk load.

Rows go to the database in batches through the connection Django holds, so
they share the import's transaction: PostgreSQL takes them through COPY,
SQLite through executemany, into a temporary staging table that set-based
statements then merge. Nothing builds an ORM object per row.

Polls get more care, being millions a file. Their store ids become Store keys
in Python as batches go by (new stores are created first), so staging carries
integers, not the ids' text. The poll table carries two indexes and a foreign
key, and maintaining them row by row is most of a big load's cost (on
PostgreSQL, three index entries and a deferred foreign key check per row, many
times the cost of building them afresh: `make bench` measures it). So a load expected
to at least double the table drops them first and rebuilds them at the end,
in the same transaction, as PostgreSQL's "Populating a Database" advises; a
crash still leaves the table exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction

from monitor.sql import sql_names

Batch = list[tuple[Any, ...]]
# A parsed poll: (line, store_id, UTC instant as 'YYYY-MM-DD HH:MM:SS[.ffffff]', active).
PollRow = tuple[int, str, str, bool]
StoreKeys = Mapping[str, int]  # store_id → Store primary key


@dataclass(frozen=True)
class StagingColumn:
    name: str
    postgresql_type: str  # SQLite keeps the values as given: text and integers


class LoadCounts(NamedTuple):
    """What a load saved: rows inserted (or, for zones, stores upserted), and
    polls skipped as duplicates (saved already, or earlier in the file)."""

    loaded: int
    duplicates: int


class PollLoad(Protocol):
    """Where a file's valid polls go, batch by batch, until finish() saves them.

    A context manager: leaving it on an exception ends what is in flight.
    """

    def __enter__(self) -> PollLoad: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def write(self, rows: list[PollRow], keys: StoreKeys) -> None: ...

    def suspend(self) -> None:
        """Let the connection run other statements before the next write."""
        ...

    def finish(self) -> LoadCounts: ...


class Backend(Protocol):
    def stage(self, table: str, columns: Sequence[StagingColumn], batches: Iterable[Batch]) -> None:
        """Create the temporary table `table` (line first) and fill it with the batches."""
        ...

    def poll_load(self, *, rebuild_indexes: bool) -> PollLoad: ...

    def store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """(store_id, Store key) of those of `store_ids` that are stored."""
        ...


def current_backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgreSQL()
    if connection.vendor == "sqlite":
        return SQLite()
    raise ImproperlyConfigured(f"imports support PostgreSQL and SQLite, not {connection.vendor}")


def _raw_connection() -> Any:
    """The driver's connection under Django's, in the transaction Django opened."""
    connection.ensure_connection()
    return connection.connection


# ---- PostgreSQL ----------------------------------------------------------------


def _binding_cursor() -> psycopg.Cursor[Any]:
    """A cursor that sends parameters apart from the statement (Django's quotes them
    into it), so that an array parameter can go in binary (%b)."""
    return psycopg.Cursor(_raw_connection())


class PostgreSQL:
    def stage(self, table: str, columns: Sequence[StagingColumn], batches: Iterable[Batch]) -> None:
        definitions = ", ".join(f"{column.name} {column.postgresql_type}" for column in columns)
        with _raw_connection().cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definitions}) ON COMMIT DROP")
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)

    def poll_load(self, *, rebuild_indexes: bool) -> PollLoad:
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


def _copy_text(rows: list[PollRow], keys: StoreKeys, *, with_line: bool) -> str:
    """COPY's text format, store ids replaced by keys: all digits and punctuation,
    nothing to escape. "+00": the instants are UTC, whatever the session's zone."""
    if with_line:
        return "".join(
            [f"{line}\t{keys[store]}\t{at}+00\t{active:d}\n" for line, store, at, active in rows]
        )
    return "".join([f"{keys[store]}\t{at}+00\t{active:d}\n" for _, store, at, active in rows])


class _CopyStream:
    """A COPY … FROM STDIN kept open across batches, so that the server stores
    one batch while Python parses the next; ended when other statements must run."""

    def __init__(self, statement: str) -> None:
        self.statement = statement
        self._open: tuple[ExitStack, Any] | None = None

    def write(self, text: str) -> None:
        if self._open is None:
            stack = ExitStack()
            cursor = stack.enter_context(_raw_connection().cursor())
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
    """Into a staging table, then one INSERT … ON CONFLICT DO NOTHING.

    A load of one batch (every HTTP request, small files) skips the table: its
    rows go as arrays in the INSERT itself. Creating and dropping a temporary
    table is a write to the system catalogs, a large part of a small load's
    cost, and one that many small loads at once would contend on.
    """

    with_line = True

    TABLE = "poll_staging"

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
            inserted = self._insert(f"FROM {self.TABLE}", [])
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {self.TABLE}")
            return LoadCounts(inserted, self.copied - inserted)
        rows, keys = self.first or ([], {})
        arrays = [
            [line for line, _, _, _ in rows],
            [keys[store] for _, store, _, _ in rows],
            [f"{at}+00" for _, _, at, _ in rows],  # "+00": UTC, whatever the session's zone
            [active for _, _, _, active in rows],
        ]
        # unnest: the arrays as a table, one row per index; %b: each array sent
        # in binary, not quoted value by value in Python.
        inserted = self._insert(
            "FROM unnest(%b::bigint[], %b::bigint[], %b::text[]::timestamptz[], %b::boolean[]) "
            "AS staged (line, store, instant, active)",
            arrays,
        )
        return LoadCounts(inserted, len(rows) - inserted)

    def _insert(self, source: str, params: list[Any]) -> int:
        """INSERT the staged rows (`FROM …` and its parameters); how many were new."""
        names = sql_names()
        with _binding_cursor() as cursor:
            if self.staging:
                # The sort holds the whole file: let it run in memory, not on disk.
                cursor.execute("SELECT set_config('work_mem', '256MB', true)")
            # DISTINCT ON keeps each (store, instant)'s first row in the ORDER
            # BY, its earliest line; ON CONFLICT skips what is stored already,
            # even by a concurrent import that commits first.
            cursor.execute(
                f"""
                INSERT INTO {names.polls} ({names.poll_columns})
                SELECT DISTINCT ON (store, instant) store, instant, active {source}
                ORDER BY store, instant, line
                ON CONFLICT ({names.poll_store}, {names.poll_time}) DO NOTHING
                """,
                params,
            )
            inserted: int = cursor.rowcount
        return inserted


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
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index AS i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT FROM pg_constraint AS c "
                "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY 1",
                [self.table],
            )
            self.indexes: list[tuple[str, str]] = cursor.fetchall()
            foreign_keys = [_quote(name) for name, kind, _ in self.constraints if kind == "f"]
            if foreign_keys:
                # Polls inserted earlier in this transaction have their deferred
                # checks pending, and a table with pending checks cannot be
                # altered: run them now.
                cursor.execute(f"SET CONSTRAINTS {', '.join(foreign_keys)} IMMEDIATE")
            for name, _, _ in self.constraints:
                cursor.execute(f"ALTER TABLE {self.table} DROP CONSTRAINT {_quote(name)}")
            for name, _ in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
        return self

    def finish(self) -> LoadCounts:
        self.stream.end()
        duplicates = 0
        with connection.cursor() as cursor:
            # Index builds sort in maintenance_work_mem: a big one avoids spilling.
            cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
            for name, kind, definition in self.constraints:
                if kind == "u":
                    duplicates += self._add_unique(cursor, name, definition)
            for _, definition in self.indexes:
                cursor.execute(definition)
            # One join checks every row, instead of one lookup per inserted row.
            for name, kind, definition in self.constraints:
                if kind == "f":
                    cursor.execute(
                        f"ALTER TABLE {self.table} ADD CONSTRAINT {_quote(name)} {definition}"
                    )
        return LoadCounts(self.copied - duplicates, duplicates)

    def _add_unique(self, cursor: Any, name: str, definition: str) -> int:
        """Restore the (store, instant) constraint; how many later duplicates it took deleting.

        Files seldom repeat a poll, so first try as is: building the index is
        the cheapest way to learn there is no duplicate.
        """
        add = f"ALTER TABLE {self.table} ADD CONSTRAINT {_quote(name)} {definition}"
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


# ---- SQLite ----------------------------------------------------------------------


class SQLite:
    STORE_LOOKUP_CHUNK = 1000  # ids a query (SQLite allows 32,766 parameters a statement)

    def stage(self, table: str, columns: Sequence[StagingColumn], batches: Iterable[Batch]) -> None:
        line, *others = columns
        # The line as INTEGER PRIMARY KEY is the rowid: rows are stored in file order.
        definitions = ", ".join([f"{line.name} INTEGER PRIMARY KEY", *(c.name for c in others)])
        insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})"
        raw = _raw_connection()
        raw.execute(f"CREATE TEMPORARY TABLE {table} ({definitions})")
        for batch in batches:
            raw.executemany(insert, batch)

    def poll_load(self, *, rebuild_indexes: bool) -> PollLoad:
        return _SQLitePolls(rebuild_indexes=rebuild_indexes)

    def store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        names = sql_names()
        found = []
        with connection.cursor() as cursor:
            for start in range(0, len(store_ids), self.STORE_LOOKUP_CHUNK):
                chunk = store_ids[start : start + self.STORE_LOOKUP_CHUNK]
                cursor.execute(
                    f"SELECT {names.store_id}, {names.store_pk} FROM {names.stores} "
                    f"WHERE {names.store_id} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                found += cursor.fetchall()
        return found


class _SQLitePolls:
    """Into a staging table, then one INSERT OR IGNORE … SELECT in index order."""

    TABLE = "poll_staging"
    # The page cache while merging, in KiB (SQLite's convention for a negative
    # cache_size). Django's connections keep SQLite's small default, and
    # inserting into an index much bigger than the cache is several times
    # slower; a bigger cache than this was no faster and took more memory.
    CACHE_KIB = 65_536
    # The ORDER BY below and the index rebuild sort every poll of the file,
    # faster with a second thread. Each sorting thread holds up to a cache's
    # worth of rows, so memory stays bounded whatever the file's size
    # (`make bench` reports the peak RSS).
    SORT_THREADS = 2

    def __init__(self, *, rebuild_indexes: bool) -> None:
        self.rebuild_indexes = rebuild_indexes

    def __enter__(self) -> _SQLitePolls:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.TABLE} "
                "(line INTEGER PRIMARY KEY, store INTEGER, instant TEXT, active INTEGER)"
            )
        self.staged = 0
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Nothing in flight: executemany returns once the rows are in."""

    def write(self, rows: list[PollRow], keys: StoreKeys) -> None:
        _raw_connection().executemany(
            f"INSERT INTO {self.TABLE} VALUES (?, ?, ?, ?)",
            [(line, keys[store], at, active) for line, store, at, active in rows],
        )
        self.staged += len(rows)

    def suspend(self) -> None:
        """Nothing in flight (see __exit__)."""

    def finish(self) -> LoadCounts:
        names = sql_names()
        with connection.cursor() as cursor, self._merge_settings(cursor):
            indexes = self._drop_indexes(cursor) if self.rebuild_indexes else []
            # OR IGNORE skips a poll whose (store, instant) is stored already,
            # including by an earlier row of this statement: the ORDER BY puts
            # the earliest line first, and follows the unique index's order so
            # that its insertions are sequential.
            cursor.execute(
                f"""
                INSERT OR IGNORE INTO {names.polls} ({names.poll_columns})
                SELECT store, instant, active FROM {self.TABLE} ORDER BY store, instant, line
                """
            )
            inserted = cursor.rowcount
            for _, definition in indexes:
                cursor.execute(definition)
            cursor.execute(f"DROP TABLE {self.TABLE}")
        return LoadCounts(inserted, self.staged - inserted)

    @staticmethod
    def _drop_indexes(cursor: Any) -> list[tuple[str, str]]:
        """Drop the poll table's own indexes; their names and SQL, to rebuild them.

        The unique (store, instant) index is part of the table's definition on
        SQLite (it has no SQL of its own) and cannot be dropped: it stays.
        """
        cursor.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
            [sql_names().polls_unquoted],
        )
        indexes: list[tuple[str, str]] = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quote(name)}")
        return indexes

    @contextmanager
    def _merge_settings(self, cursor: Any) -> Iterator[None]:
        """A bigger page cache, and helper threads for the sorts, while merging."""
        saved = {}
        for pragma, value in [("cache_size", -self.CACHE_KIB), ("threads", self.SORT_THREADS)]:
            cursor.execute(f"PRAGMA {pragma}")
            (saved[pragma],) = cursor.fetchone()
            cursor.execute(f"PRAGMA {pragma} = {value}")
        try:
            yield
        finally:
            # Django keeps the connection: give the memory back.
            for pragma, value in saved.items():
                cursor.execute(f"PRAGMA {pragma} = {int(value)}")
            cursor.execute("PRAGMA shrink_memory")
