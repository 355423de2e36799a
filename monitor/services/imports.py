"""Loading the three input CSVs (docs/report-semantics.md §1): one transaction per file.

Each loads what is valid, reports what is not (line and reason), and either
commits the whole file or, on a refusal, an error or an interruption, leaves
the database exactly as it was. dataset_import loads the three files of a data
set in the one order that makes sense: zones and hours before the polls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.db import transaction

from monitor import metrics
from monitor.ingest.errors import FileRefusedError, RowError
from monitor.ingest.loaders import HOURS, ZONES, Source, polls_source
from monitor.ingest.reader import FileProgress, RowErrors, open_csv
from monitor.services.data_version import data_changed

__all__ = [
    "IMPORT_ORDER",
    "FileProgress",
    "FileRefusedError",
    "ImportResult",
    "Importer",
    "RowError",
    "business_hours_import",
    "dataset_import",
    "polls_import",
    "timezones_import",
]


@dataclass(frozen=True)
class ImportResult:
    source: str  # the file's path as given
    loaded: int  # polls inserted; business hours rows saved; stores whose zone was upserted
    duplicates: int  # polls skipped as already saved or earlier in the file; 0 for the others
    rejected: int  # invalid rows
    errors: list[RowError]  # the first ones (at most 20), in file order


def polls_import(
    path: Path, *, on_progress: FileProgress | None = None, rebuild_indexes: bool | None = None
) -> ImportResult:
    """Save the file's new polls; a poll already saved or earlier in the file is skipped.

    `rebuild_indexes` chooses the load path (see monitor.ingest.backends): the
    poll table's indexes dropped and rebuilt, or kept; None lets the file's
    size against the polls saved decide.
    """
    return _import("polls", polls_source(rebuild_indexes=rebuild_indexes), path, on_progress)


def business_hours_import(path: Path, *, on_progress: FileProgress | None = None) -> ImportResult:
    """Replace the business hours of every store the file names in a valid row."""
    return _import("business_hours", HOURS, path, on_progress)


def timezones_import(path: Path, *, on_progress: FileProgress | None = None) -> ImportResult:
    """Set the zone of every store the file names; a store's last valid row wins."""
    return _import("timezones", ZONES, path, on_progress)


Importer = Callable[..., ImportResult]
# Zones and hours before the polls, so that the polls find their stores complete.
IMPORT_ORDER: tuple[Importer, ...] = (timezones_import, business_hours_import, polls_import)


def dataset_import(
    *, timezones: Path, hours: Path, polls: Path, on_progress: FileProgress | None = None
) -> list[ImportResult]:
    """The three files, in IMPORT_ORDER, in one transaction: a refused file or an
    interruption loads none of them, so polls never arrive without the zones and
    hours they were sent with. The results come in IMPORT_ORDER."""
    paths = {timezones_import: timezones, business_hours_import: hours, polls_import: polls}
    with transaction.atomic():
        # Each file's own transaction nests inside.
        return [importer(paths[importer], on_progress=on_progress) for importer in IMPORT_ORDER]


def _import(
    kind: str, source: Source, path: Path, on_progress: FileProgress | None
) -> ImportResult:
    errors = RowErrors()
    with open_csv(path, source.columns) as csv_input, transaction.atomic():
        loaded = source.load(csv_input, errors, on_progress)
        data_changed()  # reports made before this import are not reused after it
    # Counted once stored for good: dataset_import may still roll this file back.
    transaction.on_commit(
        partial(metrics.import_counted, source=kind, loaded=loaded.loaded, rejected=errors.count)
    )
    return ImportResult(
        source=str(path),
        loaded=loaded.loaded,
        duplicates=loaded.duplicates,
        rejected=errors.count,
        errors=errors.first,
    )
