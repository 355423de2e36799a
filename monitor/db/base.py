"""What each database module (monitor.db.postgresql, monitor.db.sqlite) provides,
and the types and helpers they share with their callers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from django.db import OperationalError, connection
from django.db.models import Max, Min

from monitor.models import StatusPoll

Batch = list[tuple[Any, ...]]
# A parsed poll: (line, store_id, UTC instant as 'YYYY-MM-DD HH:MM:SS[.ffffff]', active).
PollRow = tuple[int, str, str, bool]
StoreKeys = Mapping[str, int]  # store_id → Store primary key
# A query's parameters as the database takes them: a window's bounds, a range's ids.
SqlParams = dict[str, str | int | None]
# Store pk, instant (µs since the epoch) and status of each poll read.
PollArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]
# Store pk, weekday, and local start and end (µs since midnight) of each hours row read.
HoursArrays = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]


@dataclass(frozen=True)
class StagingColumn:
    name: str
    postgresql_type: str  # SQLite keeps the values as given: text and integers


class LoadCounts(NamedTuple):
    """What a load saved: rows inserted (or, for zones, stores upserted), and
    rows skipped as duplicates: polls saved already or earlier in the file,
    business hours rows repeated in the file."""

    loaded: int
    duplicates: int
    # Of a poll load, the earliest instant of the polls inserted (None: none);
    # what a report in parts needs to know of it (services.data_version).
    polls_from: datetime | None = None
    # Of a poll load, the stores it named that were not stored yet (created).
    new_stores: int = 0
    # The keys of the stores it named (None: possibly every store, an exclusion
    # of `*`), and of those the ones whose data may hold a new outage: of a poll
    # load, those it brought an inactive poll; None: all it named. What the
    # incidents' evaluation after the load looks at (services.incidents).
    stores: frozenset[int] | None = frozenset()
    stores_changed: frozenset[int] | None = None
    # Of a poll load, each store's earliest poll in it (µs since the epoch): a
    # poll older than the store's latest (a late one) may move its past incidents.
    stores_from: Mapping[int, int] | None = None


class LockWaitTimeoutError(Exception):
    """A lock stayed taken longer than the bound; the caller's transaction goes on."""


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


class Database(Protocol):
    """Every statement that differs between the databases, on Django's default connection."""

    # ---- loads (monitor.ingest) ----

    def stage(self, table: str, columns: Sequence[StagingColumn], batches: Iterable[Batch]) -> None:
        """Create the temporary table `table` (line first) and fill it with the batches."""
        ...

    def poll_load(self, *, rebuild_indexes: bool) -> PollLoad: ...

    def store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """(store_id, Store key) of those of `store_ids` that are stored."""
        ...

    def lock_stores_named_in(self, staging: str) -> None:
        """Before replacing their hours: lock the stores the staged rows name."""
        ...

    def lock_stores(self, keys: Sequence[int]) -> None:
        """Lock these stores (sorted keys) until the transaction ends: one evaluation
        of their incidents at a time. Loading polls for them meanwhile need not wait."""
        ...

    # ---- after a load (services.load_upkeep) ----

    def row_count_estimate(self, table: str) -> int:
        """About how many rows `table` holds, read without counting them where the
        database keeps a figure (0 when it has none yet)."""
        ...

    def analyze(self, table: str) -> None:
        """Bring the planner's statistics of `table` up to date (outside a transaction)."""
        ...

    def vacuum_inserted(self, table: str) -> bool:
        """Mark the pages of newly inserted rows visible to every transaction (outside a
        transaction), so that index-only scans skip them; False where the database
        has no such map, and did nothing."""
        ...

    # ---- reads (monitor.selectors) ----

    def read_snapshot(self) -> AbstractContextManager[None]:
        """A transaction whose reads all see one snapshot, and which blocks no load."""
        ...

    def poll_arrays(self, query: str, params: SqlParams) -> PollArrays:
        """The rows of `query` (store pk, instant, active), as arrays."""
        ...

    def hours_arrays(self, query: str, params: SqlParams) -> HoursArrays:
        """The rows of `query` (store pk, day, start, end: the hours table's
        columns, so named), as arrays."""
        ...

    def rows_per_store_sql(
        self, columns: str, table: str, store_column: str, conditions: list[str], where: str
    ) -> str:
        """`SELECT s.<pk> AS store, <columns>` of the rows of `table` (aliased t) that
        meet `conditions`, of the stores (aliased s) that `where` keeps (a
        WHERE clause): store by store, each a walk of an index that leads with
        t.<store_column>, never a scan of the whole table."""
        ...

    def last_polls_sql(self, where: str) -> str:
        """Each store's last poll before %(start)s and at or after %(earliest)s, as
        (store, instant, active) rows, of the stores (aliased s) that `where` keeps
        (a WHERE clause, or none). One probe of the unique (store, timestamp_utc)
        index per store, whatever the length of the history."""
        ...

    def keys_sql(self, placeholder: str) -> str:
        """A subquery of the keys the parameter at `placeholder` holds, in the form
        keys_param gives them (one parameter, however many keys)."""
        ...

    def keys_param(self, keys: Iterable[int]) -> str:
        """Keys (integers) as the one parameter keys_in_sql reads."""
        ...

    def code_point_comparisons(self) -> tuple[str, str]:
        """The operators ≥ and < of text in code-point order (selectors.StoreRange)."""
        ...

    def code_point_order(self) -> str:
        """What follows `ORDER BY column` to sort text in code-point order."""
        ...

    def epoch_us_sql(self, column: str) -> str:
        """An expression reading a timestamp column without a datetime object per row."""
        ...

    def epoch_us(self, values: Sequence[Any]) -> npt.NDArray[np.int64]:
        """µs since the epoch of the values that epoch_us_sql's expression read."""
        ...

    # ---- locks and errors ----

    def check_deferred_constraints(self) -> None:
        """Run now the constraint checks deferred to the commit (and defer later ones)."""
        ...

    def lock_wait_at_most(self, seconds: float) -> AbstractContextManager[None]:
        """Raise LockWaitTimeoutError when a statement inside waits longer than
        `seconds` for a lock."""
        ...

    def lock_until_commit(self, name: str) -> None:
        """Take the lock named `name` until the caller's transaction ends: of
        two transactions that take it, the second waits for the first's commit,
        and then reads what it wrote. Call it inside transaction.atomic()."""
        ...

    def is_missing_database(self, error: OperationalError) -> bool:
        """Whether `error`, on connecting, says the database does not exist."""
        ...


def raw_connection() -> Any:
    """The driver's connection under Django's, in the transaction Django opened."""
    connection.ensure_connection()
    return connection.connection


def last_poll_pk() -> int:
    """The highest poll key stored: a load's polls get higher ones (with
    earliest_poll_after, what a load inserted, when its statement cannot say)."""
    last: int | None = StatusPoll.objects.aggregate(last=Max("pk"))["last"]
    return last or 0


def earliest_poll_after(pk: int) -> datetime | None:
    """The earliest instant of the polls keyed above `pk`: a walk of the
    primary key over those rows only."""
    earliest: datetime | None = StatusPoll.objects.filter(pk__gt=pk).aggregate(
        earliest=Min("timestamp_utc")
    )["earliest"]
    return earliest


def text_to_us(texts: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC, as Django writes it to SQLite) → µs."""
    return np.array(texts, dtype="datetime64[us]").astype(np.int64)
