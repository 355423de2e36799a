"""`python manage.py import_data --status PATH --hours PATH --timezones PATH
[--special-hours PATH] [--exclusions PATH]`: a whole data set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from monitor.management.database import DataCommand, require_migrated_database
from monitor.management.imports import exit_for, report, run_import
from monitor.services.imports import dataset_import


class Command(DataCommand):
    help = (
        "Load the CSV files, zones first, then business hours, special hours and exclusions "
        "(both optional), then polls, in one transaction: a refused file or an interruption "
        "loads none of them. Exit status 1 "
        "if rows were rejected, 2 if a file was refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", type=Path, required=True, help="the polls CSV file")
        parser.add_argument("--hours", type=Path, required=True, help="the business hours CSV")
        parser.add_argument("--timezones", type=Path, required=True, help="the time zones CSV")
        parser.add_argument(
            "--special-hours", type=Path, help="the special hours CSV (optional, §10.2)"
        )
        parser.add_argument("--exclusions", type=Path, help="the exclusions CSV (optional, §10.3)")

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated_database()
        files = {
            "timezones": options["timezones"],
            "hours": options["hours"],
            "special_hours": options["special_hours"],
            "exclusions": options["exclusions"],
            "polls": options["status"],
        }
        results = run_import(
            self,
            lambda on_progress: dataset_import(**files, on_progress=on_progress),
            ", ".join(str(path) for path in files.values() if path is not None),
        )
        # Reported once committed: a refusal of the last file loads nothing at all.
        for result in results:
            report(self, result, summary_prefix=f"{result.source}: ")
        exit_for(results)
