"""The data version: a counter bumped by every transaction that changes what reports read.

A report remembers the version it was triggered at, and a later trigger for
the same as-of instant reuses it only while the version is unchanged
(services.jobs.report_trigger). Every path that stores polls, business hours
or zones calls `data_changed` inside its transaction, so the bump commits, or
rolls back, with the data.
"""

from __future__ import annotations

from monitor import db
from monitor.db.base import LockWaitTimeoutError
from monitor.models import DataVersion

_THE_ROW = 1
# How long a trigger waits for the version row: an import holds it only from
# its one bump, last, to its commit.
_TRIGGER_LOCK_WAIT_SECONDS = 2.0


def data_changed() -> None:
    """Record that the data changed; call it inside the changing transaction, last.

    The version row stays locked from here to the commit (last: so only
    briefly), which orders the change against concurrent triggers.
    """
    row = _locked_row()
    row.version += 1
    row.save(update_fields=["version"])


def data_version_locked() -> int | None:
    """The current version, with its row locked until the caller's transaction
    ends; None when another transaction held the row longer than a short wait
    (PostgreSQL), so that a trigger never waits for a slow commit.

    A trigger holding the lock sees no import commit meanwhile, and two
    triggers take turns (on SQLite the transaction's write lock does both).
    """
    try:
        with db.current().lock_wait_at_most(_TRIGGER_LOCK_WAIT_SECONDS):
            return _locked_row().version
    except LockWaitTimeoutError:
        return None


def data_version_read() -> int:
    """The current version, without a lock: inside a report's read snapshot,
    the version of the data that snapshot sees (each change bumps it in the
    changing transaction)."""
    version: int | None = (
        DataVersion.objects.filter(pk=_THE_ROW).values_list("version", flat=True).first()
    )
    return version or 0


def _locked_row() -> DataVersion:
    # get_or_create: the row may be missing (a flushed test database); two
    # processes creating it at once end up with one (it re-reads on conflict).
    row, _ = DataVersion.objects.select_for_update().get_or_create(pk=_THE_ROW)
    return row
