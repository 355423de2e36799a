"""`python manage.py prune_reports`: delete old finished reports (what Celery beat runs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from monitor.management.database import DataCommand
from monitor.management.older_than import add_older_than, older_than_days
from monitor.services.report_retention import reports_prune


class Command(DataCommand):
    help = (
        "Delete finished (Complete or Failed) reports created more than DAYS days ago, or "
        "beyond the newest COUNT finished ones. Running reports are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_older_than(
            parser,
            default=settings.REPORT_RETENTION_DAYS,
            help="age in days (fractions allowed); default REPORT_RETENTION_DAYS "
            f"({settings.REPORT_RETENTION_DAYS:g})",
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="COUNT",
            default=settings.REPORT_RETENTION_COUNT,
            help="how many of the newest finished reports to keep at most; default "
            f"REPORT_RETENTION_COUNT ({settings.REPORT_RETENTION_COUNT})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days, keep = older_than_days(options), options["keep"]
        if keep < 0:
            raise CommandError(f"--keep {keep}: must not be negative")
        deleted = reports_prune(older_than=timedelta(days=days), keep=keep)
        self.stdout.write(
            f"deleted {deleted} finished reports (older than {days:g} days or beyond the "
            f"newest {keep})"
        )
