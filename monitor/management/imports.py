"""What the import commands share: running a service on a file, and reporting on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.services.imports import ImportRefused, ImportResult

Importer = Callable[..., ImportResult]

EXIT_REJECTED_ROWS = 1  # the valid rows were loaded
EXIT_REFUSED = 2  # a whole file refused: nothing was loaded
EXIT_INTERRUPTED = 130  # Ctrl-C: nothing was loaded (128 + SIGINT, as shells report it)


def run_importer(command: BaseCommand, importer: Importer, path: Path) -> ImportResult:
    """The service's result; a refusal or an interruption as a CommandError."""
    try:
        return importer(path, show_progress=command.stdout.isatty())
    except ImportRefused as error:
        raise CommandError(str(error), returncode=EXIT_REFUSED) from error
    except KeyboardInterrupt:
        raise CommandError(
            f"{path}: interrupted, nothing was loaded", returncode=EXIT_INTERRUPTED
        ) from None


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


def exit_for(results: list[ImportResult]) -> None:
    """Exit status 1 when any row was rejected (raised as a CommandError)."""
    rejected = [result for result in results if result.rejected]
    if rejected:
        files = ", ".join(f"{result.source} ({result.rejected})" for result in rejected)
        raise CommandError(
            f"invalid rows rejected in {files}; the valid rows were loaded",
            returncode=EXIT_REJECTED_ROWS,
        )


class ImportCommand(BaseCommand):
    """One CSV file through one import service."""

    importer: Importer
    path_help: str

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help=self.path_help)

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_importer(self, type(self).importer, options["path"])
        report(self, result)
        exit_for([result])
