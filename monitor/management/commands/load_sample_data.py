"""`python manage.py load_sample_data`: a generated data set, loaded (used by `make run`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.models import StatusPoll
from monitor.sample_data import generate_sample_data
from monitor.services.imports import (
    ImportRefused,
    ImportResult,
    business_hours_import,
    polls_import,
    timezones_import,
)

Importer = Callable[..., ImportResult]


class Command(BaseCommand):
    help = (
        "Generate a sample data set (see generate_sample_data) and load it: time zones, "
        "business hours, then polls."
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
        if options["if_empty"] and StatusPoll.objects.exists():
            self.stdout.write("Polls are already stored: sample data not loaded.")
            return
        with TemporaryDirectory(prefix="store-monitoring-sample-") as folder:
            data = generate_sample_data(
                Path(folder), stores=options["stores"], seed=options["seed"]
            )
            stores, seed = f"{data.polled_stores:,}", options["seed"]
            self.stdout.write(f"Generated data of {stores} stores (seed {seed}), loading it.")
            # Zones and hours first so the polls find their stores complete. No
            # transaction around the three: each import is atomic on its own, and a
            # run cut short leaves no polls, so the next `--if-empty` run loads
            # again (zones are upserted and hours replaced, so that is harmless).
            steps: list[tuple[str, Importer, Path]] = [
                ("time zones", timezones_import, data.timezones_csv),
                ("business hours", business_hours_import, data.hours_csv),
                ("polls", polls_import, data.status_csv),
            ]
            for label, importer, path in steps:
                self._load(label, importer, path)

    def _load(self, label: str, importer: Importer, path: Path) -> None:
        try:
            result = importer(path, show_progress=self.stdout.isatty())
        except ImportRefused as error:
            raise CommandError(f"{label}: {error}") from error
        self.stdout.write(
            f"{label}: loaded {result.loaded:,}, skipped {result.duplicates:,} duplicates"
        )
        if result.rejected:
            # Generated rows are valid by construction: a rejection is a bug here.
            reasons = "; ".join(str(error) for error in result.errors[:5])
            raise CommandError(f"{label}: {result.rejected:,} generated rows rejected: {reasons}")
