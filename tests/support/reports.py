"""Helpers the report job tests share: a report run to completion, read again, or made silent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from monitor.models import Report
from monitor.services import report_parts


def reload(report: Report) -> Report:
    """The report as stored now."""
    return Report.objects.get(pk=report.pk)


def report_completed(**fields: object) -> Report:
    """A report of `fields` (Report's), its job run here to the end (on the
    embedded queue, which runs its parts in this thread), as stored then."""
    report = Report.objects.create(**fields)
    report_parts.report_run(report.report_id)
    return reload(report)


def make_silent(report: Report, *, seconds: int) -> None:
    """As if the report's job last gave a sign of life `seconds` ago."""
    Report.objects.filter(pk=report.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )
