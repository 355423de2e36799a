"""monitor.services.report_staleness: lost jobs, and the reads that fail their reports."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from monitor.models import Report
from monitor.scope import PLATFORM
from monitor.selectors import StoreRange
from monitor.services import report_attempts, report_staleness
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.reports import make_silent, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_examples(db: None) -> None:
    store_spec_examples()


@pytest.mark.parametrize(
    ("attempts", "silent_for", "error"),
    [
        (1, 601, "gave no sign of life for 600 s"),
        (0, 3601, "no worker started the report's job within 3600 s"),
    ],
)
def test_a_lost_job_makes_its_report_fail_when_read(
    settings: Settings, attempts: int, silent_for: int, error: str
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 600
    settings.REPORT_QUEUE_TIMEOUT = 3600
    report = Report.objects.create(attempts=attempts)
    make_silent(report, seconds=silent_for)

    stored = report_staleness.report_get_failing_lost(report.report_id, scope=PLATFORM)

    assert stored is not None
    assert stored.status == Report.Status.FAILED
    assert error in stored.error
    assert stored.finished_at is not None


@pytest.mark.parametrize(("attempts", "silent_for"), [(1, 590), (0, 3590)])
def test_a_job_within_its_timeout_stays_running(
    settings: Settings, attempts: int, silent_for: int
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 600
    settings.REPORT_QUEUE_TIMEOUT = 3600
    report = Report.objects.create(attempts=attempts)
    make_silent(report, seconds=silent_for)

    stored = report_staleness.report_get_failing_lost(report.report_id, scope=PLATFORM)

    assert stored is not None
    assert stored.status == Report.Status.RUNNING


def test_waiting_in_the_queue_longer_than_the_stale_timeout_is_not_failing(
    settings: Settings,
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 2
    queued = Report.objects.create()
    make_silent(queued, seconds=60)  # a long backlog ahead of it

    assert report_staleness.reports_fail_stale() == 0
    stored = report_staleness.report_get_failing_lost(queued.report_id, scope=PLATFORM)
    assert stored is not None
    assert (stored.status, stored.stage) == (Report.Status.RUNNING, "queued")


def test_listing_fails_the_lost_jobs_reports_only(settings: Settings) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 60
    lost = Report.objects.create(attempts=1)
    alive = Report.objects.create(attempts=1)
    done = Report.objects.create(status=Report.Status.COMPLETE)
    make_silent(lost, seconds=61)
    make_silent(done, seconds=3600)

    listed = {
        report.report_id: report
        for report in report_staleness.reports_recent_failing_lost(scope=PLATFORM, limit=10)
    }

    assert listed[lost.report_id].status == Report.Status.FAILED
    assert listed[alive.report_id].status == Report.Status.RUNNING
    assert listed[done.report_id].status == Report.Status.COMPLETE


@pytest.mark.usefixtures("spec_examples")
def test_a_job_that_comes_back_after_its_report_failed_cannot_complete_it(
    settings: Settings,
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 60
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    attempt = report_attempts.report_attempt_start(report.report_id)
    assert attempt is not None
    make_silent(report, seconds=61)
    assert report_staleness.reports_fail_stale() == 1

    with pytest.raises(report_attempts.AttemptSupersededError):
        attempt.plan(SPEC_NOW, [StoreRange()])
    assert reload(report).status == Report.Status.FAILED


def test_recent_reports_are_newest_first_and_limited() -> None:
    created = [Report.objects.create() for _ in range(3)]

    recent = report_staleness.reports_recent_failing_lost(scope=PLATFORM, limit=2)

    assert [report.report_id for report in recent] == [r.report_id for r in created[::-1][:2]]
