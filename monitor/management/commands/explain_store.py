"""`python manage.py explain_store <store_id>`: one store's figures, explained.

A readable account from which a person can check the report's arithmetic: the
zone and hours, the business time of the last day in local time, the polls and
where the status switches (docs/report-semantics.md §5), the outages of the last week (§8) and the
six figures as the report prints them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser

from monitor.engine.units import US_PER_DAY, WINDOW_NAMES
from monitor.formatting import hours_and_minutes_text, hours_text, minutes_text, ticks_of
from monitor.management.database import DataCommand
from monitor.scope import PLATFORM
from monitor.services.reports import ReportInputError, parse_as_of
from monitor.services.stores import (
    Interval,
    StoreNotFoundError,
    StoreStory,
    store_story,
)

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_UNITS = {"hour": "min", "day": "h", "week": "h"}  # as the report prints each window


class Command(DataCommand):
    help = "Explain one store's report row: hours, business time, polls, outages, figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("store_id")
        parser.add_argument(
            "--as-of",
            metavar="ISO",
            help="the instant, ISO 8601 (UTC if no offset); default: the latest poll",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
            story = store_story(options["store_id"], as_of, scope=PLATFORM)
        except (ReportInputError, StoreNotFoundError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write("\n".join(explain(story)))


def explain(story: StoreStory) -> list[str]:
    as_of = story.as_of
    lines = [f"store {story.store_id}", *_zone_and_hours(story)]
    if as_of is None:
        return [*lines, "no polls are stored yet: nothing to explain"]
    lines.append(f"as of {_utc(as_of)}")
    if not story.reported:
        return [*lines, "no poll at or before this instant: the store is not in the report"]
    return [
        *lines,
        "",
        *_calendar(story),
        *_last_day(story, as_of),
        "",
        *_polls(story),
        "",
        *_outages(story),
        "",
        *_figures(story),
    ]


def _zone_and_hours(story: StoreStory) -> list[str]:
    zone = story.timezone + (" (the default: the store has no zone)" * story.timezone_is_default)
    lines = [f"zone: {zone}", "business hours (local wall time, as stored):"]
    if not story.business_hours:
        return [*lines, "  no rows: open 24 hours, every day"]
    days = {row.day for row in story.business_hours}
    for row in story.business_hours:
        start, end = row.start_time_local, row.end_time_local
        if start is None or end is None:
            lines.append(f"  {_WEEKDAYS[row.day]} closed")
            continue
        kind = ""
        if end < start:
            kind = " (overnight, into the next day)"
        elif end == start:
            kind = " (24 hours)"
        lines.append(f"  {_WEEKDAYS[row.day]} {start.isoformat()}–{end.isoformat()}{kind}")
    missing = [_WEEKDAYS[day] for day in range(7) if day not in days]
    if missing:
        lines.append(f"  {', '.join(missing)}: no rows, open the whole day")
    return lines


def _last_day(story: StoreStory, as_of: datetime) -> list[str]:
    """The business intervals within [as_of − 24 h, as_of), in local time."""
    day_start = as_of - timedelta(microseconds=US_PER_DAY)
    lines = ["business time of the last day (local time):"]
    total = timedelta(0)
    for interval in story.business_intervals:
        start, end = max(interval.start, day_start), min(interval.end, as_of)
        if end <= start:
            continue
        total += end - start
        zone = interval.start_local.tzinfo
        lines.append(
            f"  {_local(start.astimezone(zone))} → {_local(end.astimezone(zone))}"
            f"  ({_hours(end - start)})"
        )
    lines.append(f"  total {_hours(total)}")
    return lines


def _polls(story: StoreStory) -> list[str]:
    lines = [
        "polls (the week window's and the last before it); each status holds until the "
        "midpoint with the next poll:"
    ]
    previous = None
    for poll in story.polls:
        if previous is not None and previous.active != poll.active and poll.holds_from:
            lines.append(
                f"      switch to {_status(poll.active)} at {_utc(poll.holds_from)}"
                f" (midpoint of {previous.at.time().isoformat()} and {poll.at.time().isoformat()})"
            )
        lines.append(f"  {_utc(poll.at)}  {_status(poll.active)}")
        previous = poll
    return lines


def _outages(story: StoreStory) -> list[str]:
    lines = ["outages of the last week (business time while inactive):"]
    lines.extend(f"  {_span(outage)}" for outage in story.outages)
    ticks = sum(outage.ticks for outage in story.outages)
    total = f"{minutes_text(ticks)} min = {hours_text(ticks)} h"
    lines.append(f"  {len(story.outages)} outage(s), {total} in all")
    return lines


def _calendar(story: StoreStory) -> list[str]:
    """The week's special dates and exclusions (§10), if any, then a blank line."""
    lines = []
    if story.special_dates:
        lines.append("special hours in the week (they replace the weekday's rows that date):")
        for special in story.special_dates:
            rows = [
                f"{row.start_time_local.isoformat()}–{row.end_time_local.isoformat()}"
                for row in special.rows
                if row.start_time_local is not None and row.end_time_local is not None
            ]
            lines.append(f"  {special.date.strftime('%a %Y-%m-%d')} {', '.join(rows) or 'closed'}")
    if story.exclusions:
        lines.append("excluded in the week (neither uptime nor downtime):")
        for period in story.exclusions:
            whose = "every store" if period.every_store else "this store"
            reason = f": {period.reason}" if period.reason else ""
            lines.append(f"  {_span(period)}  [{whose}{reason}]")
    return [*lines, ""] if lines else []


def _figures(story: StoreStory) -> list[str]:
    assert story.figures is not None
    columns, business = story.figures.columns, story.figures.business
    lines = ["figures (as the report CSV prints them; uptime + downtime = business time):"]
    for window in WINDOW_NAMES:
        unit = _UNITS[window]
        lines.append(
            f"  last {window}: uptime {columns[f'uptime_last_{window}']} {unit}"
            f" + downtime {columns[f'downtime_last_{window}']} {unit}"
            f" = business {business[f'business_last_{window}']} {unit}"
        )
    return lines


def _span(interval: Interval) -> str:
    return (
        f"{_utc(interval.start)} → {_utc(interval.end)}"
        f"  (local {_local(interval.start_local)} → {_local(interval.end_local)})"
        f"  {minutes_text(interval.ticks)} min"
    )


def _status(active: bool) -> str:
    return "active" if active else "inactive"


def _utc(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M:%S") + _fraction(instant) + " UTC"


def _local(instant: datetime) -> str:
    return instant.strftime("%a %Y-%m-%d %H:%M:%S") + _fraction(instant) + instant.strftime(" %z")


def _fraction(instant: datetime) -> str:
    return f".{instant.microsecond:06d}" if instant.microsecond else ""


def _hours(length: timedelta) -> str:
    return hours_and_minutes_text(ticks_of(length))
