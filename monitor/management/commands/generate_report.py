"""`python manage.py generate_report`: the report, synchronously, as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.management.database import require_migrated_database
from monitor.services.reports import ReportInputError, parse_as_of, report_generate


class Command(BaseCommand):
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
        require_migrated_database()
        try:
            as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
            report = report_generate(as_of=as_of)
        except ReportInputError as error:
            raise CommandError(str(error)) from error
        text = report.csv(percent=options["units"] == "percent")
        if options["output"] == "-":
            self.stdout.write(text, ending="")
        else:
            Path(options["output"]).write_text(text, encoding="utf-8")
        if options["verbosity"] >= 2:
            self.stderr.write(
                f"report as of {report.as_of.isoformat()}: {len(report.table)} stores, "
                f"read {report.timings.reading:.3f} s, computed {report.timings.computing:.3f} s"
            )
