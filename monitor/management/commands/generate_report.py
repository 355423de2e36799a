"""`python manage.py generate_report`: the report, synchronously, as CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from monitor.engine.render import header_line
from monitor.management.database import DataCommand, require_migrated_database
from monitor.services.reports import ReportInputError, parse_as_of, report_in_parts

Write = Callable[[str], object]


class Command(DataCommand):
    help = "Compute the uptime report now and write it as CSV (default: standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            metavar="ISO",
            help="the report's instant, ISO 8601 (UTC if no offset); default: the latest poll",
        )
        parser.add_argument(
            "--output", metavar="PATH", default="-", help="file to write, or - for stdout"
        )
        parser.add_argument(
            "--units",
            choices=["absolute", "percent"],
            default="absolute",
            help="absolute: minutes and hours (default); percent: share of business time",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """The report's parts (those of a report's job), computed and written one
        at a time: the command holds one part's data, whatever the fleet's size."""
        require_migrated_database()
        percent = options["units"] == "percent"
        stores, reading, computing = 0, 0.0, 0.0
        try:
            as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
            # The output is opened once the instant is known: a bad one leaves an existing file be.
            with report_in_parts(as_of=as_of) as report, self._output(options["output"]) as write:
                write(header_line(percent=percent))
                for part in report.parts():
                    write(part.csv_rows(percent=percent))
                    stores += len(part.table)
                    reading += part.timings.reading
                    computing += part.timings.computing
        except ReportInputError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 2:
            self.stderr.write(
                f"report as of {report.as_of.isoformat()}: {stores} stores, "
                f"read {reading:.3f} s, computed {computing:.3f} s"
            )

    @contextmanager
    def _output(self, path: str) -> Iterator[Write]:
        """Where the CSV goes, a part at a time: standard output, or the file at
        `path`, which a run failing midway removes rather than leave a CSV cut short."""
        if path == "-":
            yield lambda text: self.stdout.write(text, ending="")
            return
        target = Path(path)
        file = target.open("w", encoding="utf-8")
        try:
            with file:
                yield file.write
        except BaseException:
            if target.is_file():  # not a device or a pipe (/dev/stdout)
                target.unlink(missing_ok=True)
            raise
