"""`python manage.py generate_sample_data`: the input CSVs, shaped like the real set, and a
calendar (special hours, exclusions, closed weekdays)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from monitor.management.database import DataCommand
from monitor.sample_data.generator import DEFAULT_DAYS, SampleDataError, generate_sample_data


class Command(DataCommand):
    help = (
        "Write store_status.csv, menu_hours.csv and timezones.csv shaped like the public "
        "Loop data set (about 129 polls per store over 7.75 days)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, required=True, help="stores polled")
        parser.add_argument(
            "--days",
            type=float,
            default=DEFAULT_DAYS,
            help=f"span of the polls (default {DEFAULT_DAYS})",
        )
        parser.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
        parser.add_argument(
            "--hours-from",
            type=Path,
            metavar="PATH",
            help="a real business hours CSV: its stores are polled and its rows copied",
        )
        parser.add_argument(
            "--timezones-from",
            type=Path,
            metavar="PATH",
            help="a real time zones CSV: its stores are polled and its rows copied",
        )
        parser.add_argument(
            "--no-calendar",
            action="store_true",
            help="no special hours, exclusions nor closed weekdays (the data of before §10)",
        )
        parser.add_argument("--out", type=Path, required=True, help="folder to write the files in")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            result = generate_sample_data(
                options["out"],
                stores=options["stores"],
                days=options["days"],
                seed=options["seed"],
                hours_from=options["hours_from"],
                timezones_from=options["timezones_from"],
                calendar=not options["no_calendar"],
            )
        except SampleDataError as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        self.stdout.write(f"{result.status_csv}: {result.poll_rows:,} polls")
        self.stdout.write(f"{result.hours_csv}: {result.hours_rows:,} business hours rows")
        self.stdout.write(f"{result.timezones_csv}: {result.timezone_rows:,} time zones")
        if result.calendar is not None:
            calendar = result.calendar
            self.stdout.write(
                f"{calendar.special_hours_csv}: {calendar.special_rows:,} special hours rows"
            )
            self.stdout.write(f"{calendar.exclusions_csv}: {calendar.exclusion_rows:,} exclusions")
        self.stdout.write(
            f"{result.polled_stores:,} stores polled, {result.unpolled_stores:,} named but "
            f"never polled; {seconds:.1f} s"
        )
