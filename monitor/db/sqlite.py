"""Every statement specific to SQLite: bulk loads through executemany, the
reads of a report in one fetch, snapshots.

Loads. Rows go through executemany, in batches, on the connection Django
holds (the import's transaction), into a temporary staging table that one
set-based statement then merges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import OperationalError, connection

from monitor.db import base
from monitor.db.base import (
    LoadCounts,
    PollRow,
    StoreKeys,
    earliest_poll_after,
    last_poll_pk,
    raw_connection,
    text_to_us,
)
from monitor.db.names import sql_names
from monitor.engine.hours import CLOSED

# An instant as Django writes it: 'YYYY-MM-DD HH:MM:SS' and '.' with 1 to 6
# fraction digits, or not. Read in the fixed layout of 'YYYY-MM-DD HH:MM:SS.ffffff',
# where its fields' digits and the separators between them sit.
_WHOLE_SECOND_LENGTH = 19
_INSTANT_LENGTH = 26
_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19), (20, 26))
_SEPARATORS = {4: "-", 7: "-", 10: " ", 13: ":", 16: ":", 19: "."}
_DIGIT_OFFSETS = [offset for first, end in _FIELDS for offset in range(first, end)]
# An hours row as read: times of day as 'HH:MM:SS[.ffffff]'.
_HOURS_ROW = np.dtype([("store", np.int64), ("day", np.int64), ("start", "U15"), ("end", "U15")])


class SQLite:
    STORE_LOOKUP_CHUNK = 1000  # ids a query (SQLite allows 32,766 parameters a statement)

    def stage(
        self, table: str, columns: Sequence[base.StagingColumn], batches: Iterable[base.Batch]
    ) -> None:
        line, *others = columns
        # The line as INTEGER PRIMARY KEY is the rowid: rows are stored in file order.
        definitions = ", ".join([f"{line.name} INTEGER PRIMARY KEY", *(c.name for c in others)])
        insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})"
        raw = raw_connection()
        raw.execute(f"CREATE TEMPORARY TABLE {table} ({definitions})")
        for batch in batches:
            raw.executemany(insert, batch)

    def poll_load(self, *, rebuild_indexes: bool) -> base.PollLoad:
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

    def lock_stores_named_in(self, staging: str) -> None:
        """Nothing to lock: the transaction's write lock already keeps other loads out."""

    def lock_stores(self, keys: Sequence[int]) -> None:
        """Nothing to lock: the transaction's write lock (IMMEDIATE) keeps others out."""

    # Rows ANALYZE samples of each index: the statistics of a big table come in
    # a fraction of the time a full pass takes, and serve the planner as well.
    ANALYSIS_LIMIT = 1000

    def row_count_estimate(self, table: str) -> int:
        """The count itself: SQLite keeps no figure, and counting walks its smallest index."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            (count,) = cursor.fetchone()
        return int(count)

    def analyze(self, table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA analysis_limit = {self.ANALYSIS_LIMIT}")
            cursor.execute(f"ANALYZE {table}")
            # What else the planner would gain from: SQLite's own judgement.
            cursor.execute("PRAGMA optimize")

    def vacuum_inserted(self, table: str) -> bool:
        """Nothing to do: SQLite has no visibility map (its VACUUM rewrites the whole file)."""
        return False

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """A deferred transaction, which in WAL mode reads one snapshot and lets
        writers commit meanwhile; Django's own BEGIN would be IMMEDIATE
        (settings), a write lock, so it is issued here. Inside a transaction
        Django does not know of (an enclosing snapshot), that one decides."""
        raw = raw_connection()
        if raw.in_transaction:
            yield
            return
        raw.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            raw.execute("COMMIT")  # nothing was written: a commit ends a read as well

    def poll_arrays(self, query: str, params: base.SqlParams) -> base.PollArrays:
        # A row per poll costs Python far more than SQLite takes to read it (a
        # tuple, a string, a conversion each). So, as on PostgreSQL, the polls
        # come as one value a column, both aggregates reading the rows in one
        # order: each poll's store key and status as one integer (key * 2 +
        # status, one aggregate fewer than a column each), and the instants,
        # each joined by commas. NumPy then parses them whole. The cast and the
        # arithmetic hide the columns' declared types from Django's converters.
        aggregates = (
            "SELECT group_concat(store * 2 + active, ','), group_concat(CAST(instant AS TEXT), ',')"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"{aggregates} FROM ({query}) AS window_polls", params)
            keys, instants = cursor.fetchone()
        if keys is None:  # no rows
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool)
        # fromstring stops at the first value that is no integer: none here,
        # and the count against the instants' says so.
        key = np.fromstring(keys, dtype=np.int64, sep=",")
        instant = _instants_us(instants)
        if len(key) != len(instant):
            raise ValueError(f"store keys misread: {len(key)} of {len(instant)}")
        return key >> 1, instant, (key & 1).astype(bool)

    def hours_arrays(self, query: str, params: base.SqlParams) -> base.HoursArrays:
        # Times as text ('HH:MM:SS[.ffffff]'): no time object per row.
        # A closed row's NULL times come as CLOSED.
        select = (
            "SELECT store, day, COALESCE(CAST(start AS TEXT), ''),"
            " COALESCE(CAST(\"end\" AS TEXT), '')"
        )
        rows = _rows(f"{select} FROM ({query}) AS hours", params, _HOURS_ROW)
        closed = rows["start"] == ""
        start, end = (
            np.char.add("1970-01-01 ", np.where(closed, "00:00:00", rows[column]))
            for column in ("start", "end")
        )
        start_us, end_us = text_to_us(start), text_to_us(end)
        start_us[closed] = end_us[closed] = CLOSED
        return rows["store"].copy(), rows["day"].copy(), start_us, end_us

    def rows_per_store_sql(
        self, columns: str, table: str, store_column: str, conditions: list[str], where: str
    ) -> str:
        n = sql_names()
        match = " AND ".join([f"t.{store_column} = s.{n.store_pk}", *conditions])
        # Stores first: without statistics SQLite might rather scan the whole
        # table (or the window by time), but it keeps a CROSS JOIN's order.
        filters = f"{where} AND {match}" if where else f" WHERE {match}"
        return f"""
            SELECT s.{n.store_pk} AS store, {columns}
            FROM {n.stores} AS s CROSS JOIN {table} AS t{filters}
        """

    def last_polls_sql(self, where: str) -> str:
        n = sql_names()
        # No LATERAL: correlated subqueries, the instant, then its status.
        return f"""
            SELECT last.store, last.instant, (
                SELECT poll.{n.poll_active} FROM {n.polls} AS poll
                WHERE poll.{n.poll_store} = last.store AND poll.{n.poll_time} = last.instant
            ) FROM (
                SELECT s.{n.store_pk} AS store, (
                    SELECT MAX(before.{n.poll_time}) FROM {n.polls} AS before
                    WHERE before.{n.poll_store} = s.{n.store_pk}
                    AND before.{n.poll_time} < %(start)s
                    AND before.{n.poll_time} >= %(earliest)s
                ) AS instant
                FROM {n.stores} AS s{where}
            ) AS last
            WHERE last.instant IS NOT NULL
        """

    def keys_sql(self, placeholder: str) -> str:
        # One JSON array: SQLite limits the number of parameters of a statement.
        return f"SELECT value FROM json_each({placeholder})"

    def keys_param(self, keys: Iterable[int]) -> str:
        return "[" + ",".join(str(int(key)) for key in keys) + "]"

    def code_point_comparisons(self) -> tuple[str, str]:
        return ">=", "<"  # the BINARY collation, the columns' default: code-point order

    def code_point_order(self) -> str:
        return ""  # BINARY

    def epoch_us_sql(self, column: str) -> str:
        return f"CAST({column} AS TEXT)"

    def epoch_us(self, values: Sequence[Any]) -> npt.NDArray[np.int64]:
        return text_to_us(np.array(values, dtype=str))

    def check_deferred_constraints(self) -> None:
        """Nothing to gain: SQLite counts the violations as rows go in, and its
        transaction holds the one write lock whatever it runs before commit."""

    @contextmanager
    def lock_wait_at_most(self, seconds: float) -> Iterator[None]:
        """No bound needed: a reader never waits (WAL), and a writing transaction
        takes its one lock when it begins, within the connection's busy timeout."""
        yield

    def lock_until_commit(self, name: str) -> None:
        """Nothing to take: a transaction holds the database's one write lock
        from its BEGIN IMMEDIATE to its end, so transactions take turns already."""

    def is_missing_database(self, error: OperationalError) -> bool:
        """Never: connecting creates the file."""
        return False


def _rows(query: str, params: base.SqlParams, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """The rows of `query`, streamed from the driver's cursor straight into one
    structured array: no list of tuples, and not Django's cursor wrapper, whose
    iteration is a Python generator step per row."""
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(query, params)
        return np.fromiter(cursor.cursor, dtype=dtype)


def _instants_us(joined: str) -> npt.NDArray[np.int64]:
    """µs since the epoch of comma-joined instants as Django writes them, parsed
    whole: each padded to the full layout (a whole second gets '.000000', a
    short fraction its zeros), so that each field's digits are a column."""
    text = np.frombuffer(joined.encode("ascii") + b",", dtype=np.uint8)
    ends = np.flatnonzero(text == ord(","))
    lengths = np.diff(ends, prepend=-1) - 1
    whole = lengths == _WHOLE_SECOND_LENGTH
    if (whole | ((lengths > _WHOLE_SECOND_LENGTH + 1) & (lengths <= _INSTANT_LENGTH))).all():
        rows = _padded(text, ends, _INSTANT_LENGTH - lengths, whole)
        rows = rows.reshape(len(ends), _INSTANT_LENGTH + 1)
        # Each field's digits, a column each, gathered once into rows of their own.
        digits = np.ascontiguousarray(rows[:, _DIGIT_OFFSETS].T)
        digits -= ord("0")  # a byte below "0" wraps round to above 9 too
        if _separators_in_place(rows) and bool((digits <= 9).all()):
            return _parsed_instants(digits)
    # Never written by Django, but a database may be edited by hand: each
    # instant parsed on its own.
    return text_to_us(np.array(joined.split(","), dtype=str))


def _padded(
    text: npt.NDArray[np.uint8],
    ends: npt.NDArray[np.int64],
    pad: npt.NDArray[np.int64],
    whole: npt.NDArray[np.bool_],
) -> npt.NDArray[np.uint8]:
    """`text` with `pad` bytes inserted before each instant's end: '.000000' for
    a whole second, zeros after a short fraction."""
    short = pad > 0
    if not short.any():
        return text
    counts = pad[short]
    fill = np.full(int(counts.sum()), ord("0"), dtype=np.uint8)
    fill[(np.cumsum(counts) - counts)[whole[short]]] = ord(".")
    return np.insert(text, np.repeat(ends[short], counts), fill)


def _separators_in_place(rows: npt.NDArray[np.uint8]) -> bool:
    return all((rows[:, at] == ord(char)).all() for at, char in _SEPARATORS.items())


def _parsed_instants(digits: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """µs since the epoch of instants given as their digits' values, a row per digit."""
    row = {offset: digits[index] for index, offset in enumerate(_DIGIT_OFFSETS)}

    def number(first: int, end: int) -> npt.NDArray[np.int64]:
        value: npt.NDArray[np.int64] = row[first].astype(np.int64)
        for offset in range(first + 1, end):
            value *= 10
            value += row[offset]
        return value

    year, month, day, hour, minute, second, fraction = (number(*field) for field in _FIELDS)
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    # days_from_civil): years begin in March, so that February's length is
    # the last day of the year.
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
    result: npt.NDArray[np.int64] = seconds * 1_000_000 + fraction
    return result


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
        raw_connection().executemany(
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
            before = last_poll_pk()
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
            polls_from = earliest_poll_after(before) if inserted else None
        return LoadCounts(inserted, self.staged - inserted, polls_from)

    @staticmethod
    def _drop_indexes(cursor: Any) -> list[tuple[str, str]]:
        """Drop the poll table's plain indexes; their names and SQL, to rebuild them.

        The unique (store, instant) index stays: INSERT OR IGNORE needs it to
        skip duplicates (and one that is part of the table's definition has no
        SQL of its own, and cannot be dropped).
        """
        cursor.execute(
            "SELECT m.name, m.sql FROM sqlite_master AS m "
            "JOIN pragma_index_list(m.tbl_name) AS l ON l.name = m.name "
            "WHERE m.type = 'index' AND m.tbl_name = %s AND m.sql IS NOT NULL "
            'AND NOT l."unique" ORDER BY m.name',
            [sql_names().polls_unquoted],
        )
        indexes: list[tuple[str, str]] = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
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
