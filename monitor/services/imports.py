"""Loading the three input CSVs (docs/report-semantics.md §1): one transaction per file.

Each loads what is valid, reports what is not (line and reason), and either
commits the whole file or, on a refusal, an error or an interruption, leaves
the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from monitor.ingest.errors import ImportRefused, RowError
from monitor.ingest.loaders import HOURS, POLLS, ZONES, Source
from monitor.ingest.reader import ProgressCallback, RowErrors, open_csv

__all__ = [
    "ImportRefused",
    "ImportResult",
    "RowError",
    "business_hours_import",
    "polls_import",
    "timezones_import",
]


@dataclass(frozen=True)
class ImportResult:
    source: str  # the file's path as given
    loaded: int  # polls inserted; business hours rows stored; stores whose zone was upserted
    duplicates: int  # polls skipped as already stored or earlier in the file; 0 for the others
    rejected: int  # invalid rows
    errors: list[RowError]  # the first ones (at most 20), in file order


def polls_import(path: Path, *, show_progress: bool = False) -> ImportResult:
    """Store the file's new polls; a poll already stored or earlier in the file is skipped."""
    return _import(POLLS, path, show_progress)


def business_hours_import(path: Path, *, show_progress: bool = False) -> ImportResult:
    """Replace the business hours of every store the file names in a valid row."""
    return _import(HOURS, path, show_progress)


def timezones_import(path: Path, *, show_progress: bool = False) -> ImportResult:
    """Set the zone of every store the file names; a store's last valid row wins."""
    return _import(ZONES, path, show_progress)


def _import(source: Source, path: Path, show_progress: bool) -> ImportResult:
    errors = RowErrors()
    with (
        open_csv(path, source.columns) as csv_input,
        _progress_bar(path, csv_input.size) if show_progress else nullcontext() as on_progress,
        transaction.atomic(),
    ):
        loaded = source.load(csv_input, errors, on_progress)
    return ImportResult(
        source=str(path),
        loaded=loaded.loaded,
        duplicates=loaded.duplicates,
        rejected=errors.count,
        errors=errors.first,
    )


@contextmanager
def _progress_bar(path: Path, size: int) -> Iterator[ProgressCallback]:
    """A terminal progress bar over the file's bytes; the callback moves it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task(path.name, total=size)

        def advance(done: int) -> None:
            # Once the file is read, the database stores the rows: say so.
            label = f"{path.name}: storing" if done >= size else path.name
            progress.update(task, completed=done, description=label)

        yield advance
