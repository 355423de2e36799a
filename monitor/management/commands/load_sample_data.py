"""`python manage.py load_sample_data`: a generated data set, loaded (used by `make run`)."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from django.core.management.base import CommandError, CommandParser

from monitor.management.database import DataCommand, require_migrated_database
from monitor.management.imports import run_import
from monitor.models import StatusPoll
from monitor.sample_data.generator import generate_sample_data
from monitor.services.imports import dataset_import


class Command(DataCommand):
    help = (
        "Generate a sample data set (see generate_sample_data) and load it: time zones, "
        "business hours (with closed weekdays), special hours, exclusions, then polls."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when any poll is already stored (so `make run` keeps your data)",
        )
        parser.add_argument("--stores", type=int, default=2000, help="stores polled (default 2000)")
        parser.add_argument("--seed", type=int, default=0, help="same seed, same data (default 0)")

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated_database()
        if options["if_empty"] and StatusPoll.objects.exists():
            self.stdout.write("Polls are already stored: sample data not loaded.")
            return
        with TemporaryDirectory(prefix="store-monitoring-sample-") as folder:
            data = generate_sample_data(
                Path(folder), stores=options["stores"], seed=options["seed"]
            )
            stores, seed = f"{data.polled_stores:,}", options["seed"]
            self.stdout.write(f"Generated data of {stores} stores (seed {seed}), loading it.")
            # One transaction: a run cut short leaves nothing, so the next
            # `--if-empty` run loads again.
            results = run_import(
                self,
                lambda on_progress: dataset_import(
                    timezones=data.timezones_csv,
                    hours=data.hours_csv,
                    special_hours=data.calendar.special_hours_csv if data.calendar else None,
                    exclusions=data.calendar.exclusions_csv if data.calendar else None,
                    polls=data.status_csv,
                    on_progress=on_progress,
                ),
                "sample data",
            )
        labels = ["time zones", "business hours", "special hours", "exclusions", "polls"]
        for label, result in zip(labels, results, strict=True):
            self.stdout.write(
                f"{label}: loaded {result.loaded:,}, skipped {result.duplicates:,} duplicates"
            )
            if result.rejected:
                # Generated rows are valid by construction: a rejection is a bug here.
                reasons = "; ".join(str(error) for error in result.errors[:5])
                raise CommandError(
                    f"{label}: {result.rejected:,} generated rows rejected: {reasons}"
                )
        if results[-1].ready:
            ready = ", ".join(map(str, results[-1].ready))
            self.stdout.write(f"database ready for reports: {ready}")
