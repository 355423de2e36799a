"""Loading the five sources (docs/report-semantics.md §1, §9, §10): one transaction per input.

An input is a CSV file, standard input (the path `-`) or an HTTP body (JSON,
NDJSON or CSV): all go through the same loaders. Each loads what is valid,
reports what is not (line and reason), and either commits the whole input
or, on a refusal, an error or an interruption, leaves the database exactly
as it was. dataset_import loads the files of a data set in the
one order that makes sense: zones, hours and the calendar before the polls.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from io import BytesIO
from pathlib import Path

from django.db import transaction

from monitor import metrics
from monitor.db.names import Table
from monitor.ingest import rules
from monitor.ingest.errors import FileRefusedError, RowError, TooManyRowsError
from monitor.ingest.loaders import EXCLUSIONS, HOURS, SPECIAL_HOURS, ZONES, Source, polls_source
from monitor.ingest.objects import (
    BodyParseError,
    NumberedItems,
    ObjectsInput,
    json_items,
    ndjson_items,
)
from monitor.ingest.reader import FileProgress, RowErrors, RowInput, open_csv, read_csv
from monitor.scope import PLATFORM, Scope
from monitor.services import incidents
from monitor.services.data_version import ANY_REPORT, data_changed, polls_inserted
from monitor.services.load_upkeep import UpkeepStep, ready_after_load

__all__ = [
    "IMPORT_ORDER",
    "MEDIA_TYPES",
    "Body",
    "BodyParseError",
    "FileProgress",
    "FileRefusedError",
    "ImportResult",
    "Importer",
    "RowError",
    "TooManyRowsError",
    "business_hours_import",
    "dataset_import",
    "exclusions_import",
    "import_rows",
    "polls_import",
    "special_hours_import",
    "timezones_import",
]


BODY_NAME = "the request body"
KEPT_BODY_ERRORS = 100  # row errors a body's answer lists


@dataclass(frozen=True)
class Body:
    """Rows sent over HTTP: the body's bytes and its media type (one of MEDIA_TYPES)."""

    data: bytes
    media_type: str
    max_rows: int | None = None  # more rows (valid or not) refuse the whole body


@dataclass(frozen=True)
class ImportResult:
    source: str  # the file's path as given, <stdin> or "the request body"
    # Polls, hours rows, special hours rows or exclusions inserted; stores whose zone was upserted.
    loaded: int
    # Polls or exclusions skipped as already saved or earlier in the input; hours rows
    # repeated in it (each distinct row is stored once); 0 for the others.
    duplicates: int
    rejected: int  # invalid rows
    errors: list[RowError]  # the first ones (20 of a file, 100 of a body), in file order
    # The rows it wrote to each table (polls, stores, business hours). This and
    # `ready` describe the database, not the input: results compare without them.
    written: dict[Table, int] = field(default_factory=dict, compare=False)
    # What the database did after the load for the reports that follow (ANALYZE,
    # VACUUM: services.load_upkeep); of a data set, the last file's result says
    # it for all three.
    ready: tuple[UpkeepStep, ...] = field(default=(), compare=False)


def polls_import(
    path: Path | Body,
    *,
    on_progress: FileProgress | None = None,
    rebuild_indexes: bool | None = None,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Save the input's new polls; a poll already saved or earlier in the input is skipped.

    `rebuild_indexes` chooses the load path (see monitor.db): the
    poll table's indexes dropped and rebuilt, or kept; None lets the file's
    size against the polls saved decide. `scope`: who writes (the rows of
    stores out of its reach are rejected; the import commands are the platform).
    """
    source = polls_source(rebuild_indexes=rebuild_indexes)
    return _import(source, path, on_progress, bump_version, scope)


def business_hours_import(
    path: Path | Body,
    *,
    on_progress: FileProgress | None = None,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Replace the business hours of every store the input names in a valid row."""
    return _import(HOURS, path, on_progress, bump_version, scope)


def timezones_import(
    path: Path | Body,
    *,
    on_progress: FileProgress | None = None,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Set the zone of every store the input names; a store's last valid row wins."""
    return _import(ZONES, path, on_progress, bump_version, scope)


def special_hours_import(
    path: Path | Body,
    *,
    on_progress: FileProgress | None = None,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Replace the special hours of every (store, date) the input names in a valid row
    (§10.2); the stores' other dates are kept."""
    return _import(SPECIAL_HOURS, path, on_progress, bump_version, scope)


def exclusions_import(
    path: Path | Body,
    *,
    on_progress: FileProgress | None = None,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Add an exclusion for each valid row (§10.3); one already stored, or earlier in the
    input, is a duplicate."""
    return _import(EXCLUSIONS, path, on_progress, bump_version, scope)


Importer = Callable[..., ImportResult]
# Zones, hours and the calendar before the polls, so that the polls find their
# stores complete.
IMPORT_ORDER: tuple[Importer, ...] = (
    timezones_import,
    business_hours_import,
    special_hours_import,
    exclusions_import,
    polls_import,
)


def dataset_import(
    *,
    timezones: Path,
    hours: Path,
    polls: Path,
    special_hours: Path | None = None,
    exclusions: Path | None = None,
    on_progress: FileProgress | None = None,
) -> list[ImportResult]:
    """The files, in IMPORT_ORDER, in one transaction: a refused file or an
    interruption loads none of them, so polls never arrive without the zones,
    hours and calendar they were sent with. The results come in IMPORT_ORDER
    (of the files given: the calendar's two are optional); once they are
    committed, the database is made ready for reports (the last result says how)."""
    paths = {
        timezones_import: timezones,
        business_hours_import: hours,
        special_hours_import: special_hours,
        exclusions_import: exclusions,
        polls_import: polls,
    }
    with transaction.atomic():
        # Each file's own transaction nests inside.
        results = [
            importer(path, on_progress=on_progress, bump_version=False)
            for importer in IMPORT_ORDER
            if (path := paths[importer]) is not None
        ]
        # Once, last: the version row stays locked from the bump to the commit,
        # and a trigger waits for that lock (services.data_version).
        data_changed()
    written: dict[Table, int] = {}
    for result in results:
        for table, rows in result.written.items():
            written[table] = written.get(table, 0) + rows
    return [*results[:-1], replace(results[-1], ready=ready_after_load(written))]


def import_rows(
    source: Source,
    given: Path | Body,
    on_progress: FileProgress | None = None,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """`source`'s rows from a file, standard input or an HTTP body, in one transaction."""
    return _import(source, given, on_progress, True, scope)


def _import(
    source: Source,
    given: Path | Body,
    on_progress: FileProgress | None,
    bump_version: bool,
    scope: Scope,
) -> ImportResult:
    """The one way rows get in, whatever they come from: files, standard input,
    HTTP bodies. `bump_version` False: the caller's transaction calls
    data_changed itself."""
    if isinstance(given, Body):
        with _body_input(source, given) as rows:
            errors = RowErrors(kept=KEPT_BODY_ERRORS)
            return load(source, rows, errors, bump_version=bump_version, scope=scope)
    with open_csv(given, source.columns) as csv_input:
        return load(
            source, csv_input, RowErrors(), on_progress, bump_version=bump_version, scope=scope
        )


def load(
    source: Source,
    rows: RowInput,
    errors: RowErrors,
    on_progress: FileProgress | None = None,
    *,
    bump_version: bool = True,
    scope: Scope = PLATFORM,
) -> ImportResult:
    """Save the input's valid rows in one transaction: all of them, or on any error
    none; the rows of stores out of `scope`'s reach are rejected."""
    # One moment of loading for every row (amendment 5: a poll lies at most a day after it).
    with transaction.atomic(), rules.loading():
        loaded = source.load(rows, errors, on_progress, within=scope.rows_within)
        if bump_version:
            # Reports made before this load are not reused after it.
            change = polls_inserted(loaded.polls_from) if source.adds_polls_only else ANY_REPORT
            data_changed(change)
    # Counted once stored for good: dataset_import may still roll this input back.
    transaction.on_commit(
        partial(
            metrics.import_counted, source=source.name, loaded=loaded.loaded, rejected=errors.count
        )
    )
    # Once stored for good, the incidents of the stores it named (robust: the load
    # stays stored whatever the evaluation meets; the next one catches up).
    transaction.on_commit(
        partial(
            incidents.evaluate_after_load,
            loaded.stores,
            loaded.stores_changed,
            loaded.stores_from,
        ),
        robust=True,
    )
    result = ImportResult(
        source=rows.name,
        loaded=loaded.loaded,
        duplicates=loaded.duplicates,
        rejected=errors.count,
        errors=errors.first,
        written=source.written(loaded),
    )
    # Committed unless a caller's transaction holds it (dataset_import): then
    # the caller makes the database ready once that commits.
    return replace(result, ready=ready_after_load(result.written))


def _body_input(source: Source, body: Body) -> AbstractContextManager[RowInput]:
    if body.media_type == "text/csv":
        stream = BytesIO(body.data)
        return read_csv(
            stream, source.columns, name=BODY_NAME, size=len(body.data), max_rows=body.max_rows
        )
    items = _BODY_ITEMS[body.media_type](BODY_NAME, body.data)
    size = len(body.data)
    return nullcontext(ObjectsInput(BODY_NAME, items, source.columns, size, body.max_rows))


_BODY_ITEMS: dict[str, Callable[[str, bytes], NumberedItems]] = {
    "application/json": json_items,
    "application/x-ndjson": ndjson_items,
}
MEDIA_TYPES = (*_BODY_ITEMS, "text/csv")
