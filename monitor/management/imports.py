"""What the import commands share: running the services, a progress bar, reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from monitor.management.database import DataCommand, require_migrated_database
from monitor.services.imports import FileProgress, FileRefusedError, Importer, ImportResult

EXIT_REJECTED_ROWS = 1  # the valid rows were loaded
EXIT_REFUSED = 2  # a whole file refused: nothing was loaded
EXIT_INTERRUPTED = 130  # Ctrl-C: nothing was loaded (128 + SIGINT, as shells report it)

T = TypeVar("T")


def run_import(command: BaseCommand, run: Callable[[FileProgress | None], T], what: str) -> T:
    """`run(on_progress)`, with a progress bar on a terminal; a refusal or an
    interruption as a CommandError. `what` names the files in a message."""
    try:
        with progress_bar() if command.stdout.isatty() else nullcontext() as on_progress:
            return run(on_progress)
    except FileRefusedError as error:
        raise CommandError(str(error), returncode=EXIT_REFUSED) from error
    except KeyboardInterrupt:
        raise CommandError(
            f"{what}: interrupted, nothing was loaded", returncode=EXIT_INTERRUPTED
        ) from None


@contextmanager
def progress_bar() -> Iterator[FileProgress]:
    """A terminal progress bar over each file's bytes; the callback moves it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        tasks: dict[Path, TaskID] = {}

        def advance(path: Path, done: int, size: int) -> None:
            if path not in tasks:
                tasks[path] = progress.add_task(path.name, total=size)
            # Once the file is read, the database saves the rows: say so.
            label = f"{path.name}: saving" if done >= size else path.name
            progress.update(tasks[path], completed=done, description=label)

        yield advance


def report(command: BaseCommand, result: ImportResult, *, summary_prefix: str = "") -> None:
    """The rejected rows as PATH:LINE: reason (the first ones), then the one-line summary."""
    for error in result.errors:
        command.stderr.write(f"{result.source}:{error.line}: {error.reason}")
    if result.rejected > len(result.errors):
        command.stderr.write(f"… and {result.rejected - len(result.errors)} more")
    command.stdout.write(
        f"{summary_prefix}loaded {result.loaded}, skipped {result.duplicates} duplicates, "
        f"rejected {result.rejected} invalid rows"
    )
    if result.ready:
        command.stdout.write(f"database ready for reports: {', '.join(map(str, result.ready))}")


def exit_for(results: list[ImportResult]) -> None:
    """Exit status 1 when any row was rejected (raised as a CommandError)."""
    rejected = [result for result in results if result.rejected]
    if rejected:
        files = ", ".join(f"{result.source} ({result.rejected})" for result in rejected)
        raise CommandError(
            f"invalid rows rejected in {files}; the valid rows were loaded",
            returncode=EXIT_REJECTED_ROWS,
        )


class ImportCommand(DataCommand):
    """One CSV file through one import service."""

    importer: Importer
    path_help: str

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help=self.path_help)

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated_database()
        path: Path = options["path"]
        importer = type(self).importer
        result = run_import(
            self, lambda on_progress: importer(path, on_progress=on_progress), str(path)
        )
        report(self, result)
        exit_for([result])
