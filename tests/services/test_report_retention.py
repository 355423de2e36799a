"""monitor.services.report_retention: which finished reports are deleted, and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor.models import Report
from monitor.services import report_retention
from monitor.services.report_retention import reports_prune, reports_prune_if_due

pytestmark = pytest.mark.django_db

FINISHED = [Report.Status.COMPLETE, Report.Status.FAILED]


def report(status: str, *, age: timedelta = timedelta(0)) -> Report:
    created = Report.objects.create(status=status)
    Report.objects.filter(pk=created.pk).update(created_at=timezone.now() - age)
    return created


def remaining() -> set[str]:
    return set(Report.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("status", FINISHED)
def test_finished_reports_older_than_the_age_are_deleted(status: str) -> None:
    old = report(status, age=timedelta(days=7, seconds=1))
    recent = report(status, age=timedelta(days=6, hours=23))

    assert reports_prune(older_than=timedelta(days=7), keep=500) == 1
    assert remaining() == {recent.pk}
    assert old.pk not in remaining()


def test_only_the_newest_finished_reports_are_kept() -> None:
    reports = [report(FINISHED[n % 2], age=timedelta(minutes=10 - n)) for n in range(10)]

    assert reports_prune(older_than=timedelta(days=7), keep=3) == 7
    assert remaining() == {each.pk for each in reports[-3:]}


def test_running_reports_are_never_deleted() -> None:
    running = [report(Report.Status.RUNNING, age=timedelta(days=30)) for _ in range(3)]

    assert reports_prune(older_than=timedelta(days=1), keep=0) == 0
    assert remaining() == {each.pk for each in running}


def test_the_defaults_come_from_the_settings(settings: Settings) -> None:
    settings.REPORT_RETENTION_DAYS = 2
    settings.REPORT_RETENTION_COUNT = 1
    report(Report.Status.COMPLETE, age=timedelta(days=3))
    report(Report.Status.COMPLETE, age=timedelta(hours=2))
    newest = report(Report.Status.COMPLETE)

    assert reports_prune() == 2
    assert remaining() == {newest.pk}


def test_the_table_stays_bounded_under_a_flood(settings: Settings) -> None:
    settings.REPORT_RETENTION_COUNT = 50
    for _ in range(4):
        Report.objects.bulk_create(Report(status=Report.Status.COMPLETE) for _ in range(100))
        reports_prune()
        assert Report.objects.count() == 50


def test_the_embedded_set_up_prunes_at_most_once_per_interval(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORT_RETENTION_COUNT = 0
    settings.REPORT_RETENTION_INTERVAL_SECONDS = 600
    monkeypatch.setattr(report_retention._Schedule, "last", None)
    report(Report.Status.COMPLETE)
    assert reports_prune_if_due() == 1

    report(Report.Status.COMPLETE)
    assert reports_prune_if_due() == 0  # pruned less than 600 s ago
    last = report_retention._Schedule.last
    assert last is not None
    monkeypatch.setattr(report_retention._Schedule, "last", last - 600)  # 600 s later
    assert reports_prune_if_due() == 1
