"""Report generation: database → engine → CSV, the one path every caller uses
(the `generate_report` command, the API's jobs, the Celery task)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from monitor import selectors
from monitor.engine import ReportTable, compute_report, render_csv
from monitor.engine.render import render_rows
from monitor.engine.report import stores_without_polls_since
from monitor.engine.units import US_PER_DAY
from monitor.ingest import rules
from monitor.models import Report
from monitor.selectors import ALL_STORES, StoreRange
from monitor.services.data_version import data_version_read

# Called with each stage a report's computation enters (Report.Stage).
ProgressCallback = Callable[[str], None]


class ReportInputError(ValueError):
    """The report cannot be made from what is stored (e.g. no polls at all)."""


@dataclass(frozen=True)
class ReportTimings:
    """Seconds spent in each stage, for logs and benchmarks."""

    reading: float
    computing: float


@dataclass(frozen=True)
class GeneratedReport:
    as_of: datetime  # UTC: the resolved `now` of the report (docs/report-semantics.md §2)
    table: ReportTable
    timings: ReportTimings = field(compare=False)
    # Reported stores without a poll in the 24 h up to as_of (data freshness).
    stores_without_recent_poll: int = 0
    # The data version the figures reflect (read in the same snapshot as the data).
    data_version: int = 0

    def csv(self, *, percent: bool = False) -> str:
        return render_csv(self.table, percent=percent)

    def csv_rows(self, *, percent: bool = False) -> str:
        """The CSV without its header: one part of a sharded report."""
        return render_rows(self.table, percent=percent)


def report_generate(
    *,
    as_of: datetime | None = None,
    stores: StoreRange = ALL_STORES,
    on_progress: ProgressCallback | None = None,
) -> GeneratedReport:
    """Compute the report as of `as_of` (default: the latest stored poll), of
    the stores in `stores` (default: all)."""
    progress = on_progress or _ignore_progress
    progress(Report.Stage.READING)  # before the snapshot, which is read-only
    started = time.perf_counter()
    # One snapshot for the version, the default instant and every read:
    # polls, hours and zones loaded meanwhile are wholly in the report or
    # wholly out of it, and the version says which.
    with selectors.read_snapshot():
        version = data_version_read()
        as_of = resolve_as_of(as_of)
        inputs = selectors.report_inputs(as_of, stores)
    read = time.perf_counter()
    progress(Report.Stage.COMPUTING)
    table = compute_report(inputs)
    computed = time.perf_counter()
    timings = ReportTimings(reading=read - started, computing=computed - read)
    return GeneratedReport(
        as_of=as_of,
        table=table,
        timings=timings,
        stores_without_recent_poll=stores_without_polls_since(inputs, inputs.as_of_us - US_PER_DAY),
        data_version=version,
    )


@contextmanager
def report_in_parts(*, as_of: datetime | None = None) -> Iterator[ReportInParts]:
    """The report as of `as_of` (default: the latest stored poll), planned in
    the parts a report's job makes (ranges of at most REPORT_SHARD_STORES
    stores), to compute one at a time (ReportInParts.parts) inside the block.

    The whole block is one read snapshot: the parts, read one after another,
    see the data of one instant, and concatenated are byte for byte the
    report of every store at once.
    """
    with selectors.read_snapshot():
        as_of = resolve_as_of(as_of)
        yield ReportInParts(as_of, selectors.store_ranges(settings.REPORT_SHARD_STORES))


@dataclass(frozen=True)
class ReportInParts:
    as_of: datetime  # resolved, UTC
    ranges: list[StoreRange]  # in the report's row order

    def parts(self) -> Iterator[GeneratedReport]:
        """Each range's report in order, computed as it is asked for: a caller
        that drops each part before the next holds one part's data at a time."""
        for stores in self.ranges:
            yield report_generate(as_of=self.as_of, stores=stores)


# The ISO 8601 spelling of docs/report-semantics.md §1's timestamps (a space may stand for the T):
# a date alone, a trailing character, or a seventh fraction digit (which
# fromisoformat would accept, or silently drop) is refused.
AS_OF_PATTERN = (
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
)
_AS_OF = re.compile(AS_OF_PATTERN, re.ASCII)


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 instant (`2023-01-25T18:00:00Z`, `…+05:30`); without an offset it is UTC."""
    try:
        if not _AS_OF.fullmatch(text):
            raise ValueError(text)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ReportInputError(
            f"{text!r} is not an ISO 8601 instant such as 2023-01-25T18:00:00Z "
            "(seconds required, at most 6 fraction digits)"
        ) from None
    return _in_range(instant if instant.tzinfo else instant.replace(tzinfo=UTC))


def _in_range(as_of: datetime) -> datetime:
    """`as_of` in UTC, if it lies where polls may (amendment 5): from the epoch to
    a day after now. Polls later than as-of do not exist for a report (§2), so a
    later instant would only extrapolate from polls that cannot be there."""
    try:
        utc = as_of.astimezone(UTC)
    except OverflowError:
        utc = None
    latest = rules.latest_poll_instant(datetime.now(UTC))
    if utc is None or not rules.EARLIEST_INSTANT <= utc <= latest:
        raise ReportInputError(
            f"{as_of.isoformat()} is out of range: the as-of instant must lie between "
            f"{_iso_z(rules.EARLIEST_INSTANT)} and 24 hours from now ({_iso_z(latest)})"
        )
    return utc


def _iso_z(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def resolve_as_of(as_of: datetime | None) -> datetime:
    """The report's instant: `as_of`, or the latest poll when None; checked."""
    if as_of is None:
        as_of = selectors.latest_poll_time()
        if as_of is None:
            raise ReportInputError("no polls are stored yet: import store status data first")
    if as_of.tzinfo is None:
        raise ReportInputError(f"as-of instant {as_of.isoformat()} has no UTC offset")
    return _in_range(as_of)


def _ignore_progress(stage: str) -> None:
    pass
