"""`manage.py prune_reports`."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from monitor.models import Report

pytestmark = pytest.mark.django_db


def prune(*args: str) -> str:
    written = io.StringIO()
    call_command("prune_reports", *args, stdout=written)
    return written.getvalue()


def aged(status: str, days: float) -> Report:
    created = Report.objects.create(status=status)
    Report.objects.filter(pk=created.pk).update(created_at=timezone.now() - timedelta(days=days))
    return created


def test_it_deletes_finished_reports_older_than_the_days_given() -> None:
    aged(Report.Status.COMPLETE, 3)
    aged(Report.Status.FAILED, 3)
    kept = aged(Report.Status.COMPLETE, 1)
    running = aged(Report.Status.RUNNING, 3)

    output = prune("--older-than", "2")

    assert output == "deleted 2 finished reports (older than 2 days or beyond the newest 500)\n"
    assert set(Report.objects.values_list("pk", flat=True)) == {kept.pk, running.pk}


def test_keep_bounds_the_count() -> None:
    reports = [aged(Report.Status.COMPLETE, days / 10) for days in range(5, 0, -1)]

    prune("--keep", "2")

    assert set(Report.objects.values_list("pk", flat=True)) == {r.pk for r in reports[-2:]}


@pytest.mark.parametrize("days", ["-1", "nan", "1e9"])
def test_an_age_out_of_range_is_refused(days: str) -> None:
    with pytest.raises(CommandError, match=f"--older-than {float(days)}: give a number of days"):
        prune("--older-than", days)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(CommandError, match="--keep -1: must not be negative"):
        prune("--keep", "-1")
