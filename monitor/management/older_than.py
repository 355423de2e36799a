"""The `--older-than DAYS` option of prune_reports and prune_polls."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

MAX_DAYS = 36500  # a century: beyond any retention, and well within what a timedelta holds


def add_older_than(parser: CommandParser, *, help: str, **options: Any) -> None:
    parser.add_argument("--older-than", type=float, metavar="DAYS", help=help, **options)


def older_than_days(options: dict[str, Any]) -> float:
    """The option's value; CommandError unless it is from 0 to MAX_DAYS days."""
    days: float = options["older_than"]
    # Also refuses nan, and what a timedelta cannot hold.
    if not 0 <= days <= MAX_DAYS:
        raise CommandError(f"--older-than {days}: give a number of days from 0 to {MAX_DAYS}")
    return days
