"""Data freshness: is a report's as-of instant far ahead of its latest poll?

Between its last poll and the as-of instant a store keeps its last status
(docs/report-semantics.md §5): an as-of instant well after the latest poll reports extrapolated
figures. The report API says so in a `warnings` list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor import selectors
from monitor.formatting import gap_text
from monitor.models import Report

# An as-of instant more than this after the latest poll gets a warning: polls
# come about hourly, so a longer gap means polls are missing or late.
STALE_AFTER = timedelta(hours=1)


def report_warnings(report: Report, *, known: dict[datetime, list[str]]) -> list[str]:
    """What a reader of `report` should know about the freshness of its data.

    `known` keeps the warnings of each instant already seen (fill it for one
    answer, never longer: they follow the data): a listing's reports mostly
    share a few instants, and each instant costs a query.
    """
    as_of = report.as_of or report.requested_as_of
    if as_of is None:  # the default: the latest poll itself
        return []
    if as_of not in known:
        known[as_of] = as_of_warnings(as_of)
    return known[as_of]


def as_of_warnings(as_of: datetime) -> list[str]:
    latest = selectors.latest_poll_time(at_or_before=as_of)
    if latest is None:
        return [f"no poll is stored at or before the as-of instant {as_of.isoformat()}"]
    gap = as_of - latest
    if gap <= STALE_AFTER:
        return []
    return [
        f"the as-of instant {as_of.isoformat()} is {gap_text(gap)} after the latest poll "
        f"({latest.isoformat()}): every store's status since then is extrapolated"
    ]
