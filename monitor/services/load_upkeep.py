"""Leaving the database ready for reports once a bulk load has committed.

A load of many rows leaves the planner's statistics of the tables it wrote
stale, or, after a first import, absent: the planner then guesses the
tables' sizes and the spread of their values. On PostgreSQL the new rows'
pages are also missing from the visibility map, so that the index-only scans
a report reads polls with visit the table for every poll. Autovacuum repairs
both in the end, but not before the first reports, which ran several times
slower for it. So a load that is a large share of a table does at once what
autovacuum would do later: ANALYZE the table, and VACUUM the poll table.

The shares are autovacuum's own defaults (autovacuum_analyze_scale_factor,
autovacuum_vacuum_insert_scale_factor): a load below them leaves the
statistics about as good as they were. Both statements run outside the
load's transaction (VACUUM cannot run inside one), once it has committed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection

from monitor import db
from monitor.db.names import Table

# A load of fewer rows changes no table's statistics enough to matter, whatever
# the share: an HTTP batch of a few polls does nothing here.
MIN_ROWS = 1000
ANALYZE_SHARE = 0.1  # of the table's rows once loaded
VACUUM_SHARE = 0.2


@dataclass(frozen=True)
class UpkeepStep:
    statement: str  # ANALYZE or VACUUM
    table: Table
    seconds: float

    def __str__(self) -> str:
        return f"{self.statement} {self.table.value} {self.seconds:.2f} s"


def ready_after_load(written: dict[Table, int]) -> tuple[UpkeepStep, ...]:
    """ANALYZE each table that `written` (table → rows the load wrote) changed by at
    least ANALYZE_SHARE of its rows, and first VACUUM the poll table when at
    least VACUUM_SHARE of its rows are new; the steps taken, timed.

    Nothing inside a transaction (a caller's, or a test's): the load is not
    committed yet, and VACUUM could not run.
    """
    if connection.in_atomic_block:
        return ()
    database = db.current()
    steps = []
    for table, rows in written.items():
        if rows < MIN_ROWS:
            continue
        name = table.sql_name()
        # Never below the rows just written: a table never counted has no estimate.
        total = max(database.row_count_estimate(name), rows)
        if table is Table.POLLS and rows >= VACUUM_SHARE * total:
            started = time.perf_counter()
            if database.vacuum_inserted(name):
                steps.append(UpkeepStep("VACUUM", table, time.perf_counter() - started))
        if rows >= ANALYZE_SHARE * total:
            started = time.perf_counter()
            database.analyze(name)
            steps.append(UpkeepStep("ANALYZE", table, time.perf_counter() - started))
    return tuple(steps)
