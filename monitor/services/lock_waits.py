"""Bounded lock waits: a request that must not hang behind a long transaction.

PostgreSQL makes a statement wait for a row or table lock as long as its
holder's transaction lasts (an import can last minutes); `lock_wait_at_most`
bounds that wait for the statements inside it. SQLite needs no bound: a
reader never waits (WAL), and a writing transaction takes its one lock when
it begins, within the connection's busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import OperationalError, connection, transaction


class LockWaitTimeoutError(Exception):
    """A lock stayed taken longer than the bound; the caller's transaction goes on."""


@contextmanager
def lock_wait_at_most(seconds: float) -> Iterator[None]:
    """Raise LockWaitTimeoutError when a statement inside waits longer than
    `seconds` for a lock (PostgreSQL); on SQLite, just run the statements."""
    if connection.vendor != "postgresql":
        yield
        return
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


def _set_lock_timeout(value: str) -> None:
    with connection.cursor() as cursor:
        # set_config(…, true) is SET LOCAL: until the transaction ends.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])
