"""The data version: a counter bumped by every transaction that changes what reports read.

A report remembers the version it was triggered at, and a later trigger for
the same as-of instant reuses it only while the version is unchanged
(services.report_trigger). Every path that stores polls, business hours
or zones calls `data_changed` inside its transaction, so the bump commits, or
rolls back, with the data.

Each bump also logs what it touched (a DataChange): the earliest poll it
inserted, or "anything" (hours, zones, deletions). A report in parts whose
parts read different versions uses it (`changes_reach`): new polls after
the report's instant, which it never reads, leave its figures as they are,
and need not make its parts run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min

from monitor import db
from monitor.db.base import LockWaitTimeoutError
from monitor.models import DataChange, DataVersion, Report

_THE_ROW = 1
# How long a trigger waits for the version row: an import holds it only from
# its one bump, last, to its commit.
_TRIGGER_LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Change:
    """What a change touched, as far as reports care."""

    # The earliest instant of the polls it inserted; None: it inserted none.
    polls_from: datetime | None = None
    # More than new polls (hours, zones, deleted polls): any report may differ.
    any_report: bool = False

    def reaches(self, as_of: datetime) -> bool:
        """Whether a report as of `as_of` may read differently after it: it reads
        polls at or before as_of only, and reports only stores with one (§3)."""
        return self.any_report or (self.polls_from is not None and self.polls_from <= as_of)


# Hours, zones, deletions: bounding them by store or instant is not worth it.
ANY_REPORT = Change(any_report=True)


def polls_inserted(earliest: datetime | None) -> Change:
    """A load of polls, the earliest of those it inserted being `earliest`."""
    return Change(polls_from=earliest)


def data_changed(change: Change = ANY_REPORT) -> None:
    """Record that the data changed, and what it touched; call it inside the
    changing transaction, last.

    The version row stays locked from here to the commit (last: so only
    briefly), which orders the change against concurrent triggers, and
    concurrent loads too. So the checks PostgreSQL defers to the commit (the
    foreign key of each new poll: a large part of a load's time) run first,
    not with the row locked.
    """
    db.current().check_deferred_constraints()
    row = _locked_row()
    row.version += 1
    row.save(update_fields=["version"])
    DataChange.objects.create(
        version=row.version, polls_from=change.polls_from, any_report=change.any_report
    )


def changes_logged(low: int, high: int) -> dict[int, Change]:
    """The logged changes with a version in (low, high], by version."""
    logged = DataChange.objects.filter(version__gt=low, version__lte=high)
    return {
        version: Change(polls_from=polls_from, any_report=any_report)
        for version, polls_from, any_report in logged.values_list(
            "version", "polls_from", "any_report"
        )
    }


def changes_reach(as_of: datetime, low: int, high: int, logged: Mapping[int, Change]) -> bool:
    """Whether a report as of `as_of` may read differently at version `high`
    than at `low`: a change with a version in (low, high] reaches it. A
    version missing from `logged` (its entry pruned, or older than the log)
    counts as one that does."""
    return any(
        version not in logged or logged[version].reaches(as_of)
        for version in range(low + 1, high + 1)
    )


def data_changes_prune() -> int:
    """Delete the log's entries no Running report needs; how many.

    A Running report's parts read versions at or after the one it was
    triggered at: entries up to the lowest of those go. A Running report
    triggered without a version (an import was committing) keeps them all
    until it ends, which it does (services.report_staleness fails a lost one).
    """
    running = Report.objects.filter(status=Report.Status.RUNNING)
    if running.filter(data_version__isnull=True).exists():
        return 0
    floor = running.aggregate(floor=Min("data_version"))["floor"]
    if floor is None:
        floor = data_version_read()
    deleted, _ = DataChange.objects.filter(version__lte=floor).delete()
    return deleted


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
