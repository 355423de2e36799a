"""monitor.services.jobs: report jobs, their attempts, and lost jobs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor.models import Report, ReportPart, Store
from monitor.selectors import StoreRange, report_csv
from monitor.services import report_attempts, report_parts, report_staleness, report_trigger
from monitor.services.data_version import data_version_read
from monitor.services.reports import report_generate
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples, wait_for_embedded_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_examples(db: None) -> None:
    store_spec_examples()


def reload(report: Report) -> Report:
    return Report.objects.get(pk=report.pk)


def make_stale(report: Report, *, seconds: int) -> None:
    Report.objects.filter(pk=report.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_trigger_creates_a_running_report_and_starts_the_job_after_commit(
    django_capture_on_commit_callbacks: Callable,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        report = report_trigger.report_trigger(as_of=SPEC_NOW).report

    assert len(callbacks) == 1  # the job starts only once the row is committed
    stored = reload(report)
    assert stored.status == Report.Status.RUNNING
    assert stored.requested_as_of == SPEC_NOW
    assert (stored.as_of, stored.data_version) == (SPEC_NOW, 0)
    assert (stored.attempts, stored.progress, stored.stage) == (0, 0.0, "queued")
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", stored.report_id)


@pytest.mark.usefixtures("spec_examples")
def test_run_stores_both_forms_of_the_report() -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW)

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert stored.status == Report.Status.COMPLETE
    assert report_csv(stored) == SPEC_CSV
    percent = report_csv(stored, percent=True)
    assert percent == report_generate(as_of=SPEC_NOW).csv(percent=True)
    assert percent.startswith("store_id,uptime_last_hour_pct,")
    assert (stored.as_of, stored.row_count, stored.error) == (SPEC_NOW, 2, "")
    assert (stored.progress, stored.stage, stored.attempts) == (1.0, "done", 1)
    assert (stored.part_count, stored.data_version) == (1, data_version_read())
    assert stored.finished_at is not None
    assert stored.created_at <= stored.finished_at <= timezone.now()


@pytest.mark.usefixtures("spec_examples")
def test_run_resolves_the_default_as_of_to_the_latest_poll() -> None:
    report = Report.objects.create()

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert stored.requested_as_of is None
    assert stored.as_of == SPEC_NOW - timedelta(minutes=20)
    assert report_csv(stored) == report_generate().csv()


def test_run_without_polls_fails_with_the_reason() -> None:
    report = Report.objects.create()

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert stored.status == Report.Status.FAILED
    assert "no polls are stored yet" in stored.error
    assert stored.finished_at is not None
    assert not stored.parts.exists()


@pytest.mark.usefixtures("spec_examples")
def test_run_that_crashes_fails_with_a_generic_reason_and_logs_the_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The import commands refuse unknown zones; a row edited by hand does not.
    store = Store.objects.get(store_id="example-2")
    store.timezone_str = "Mars/Olympus_Mons"
    store.save()
    report = Report.objects.create(requested_as_of=SPEC_NOW)

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert stored.status == Report.Status.FAILED
    # The error is served to anyone: no exception text (hosts, ports, SQL).
    assert stored.error == report_attempts.INTERNAL_ERROR
    assert "Mars/Olympus_Mons" not in stored.error
    assert "Mars/Olympus_Mons" in caplog.text  # the log has the details


@pytest.mark.usefixtures("spec_examples")
def test_a_redelivered_job_leaves_a_complete_report_alone() -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    first = reload(report)

    report_parts.report_run(report.report_id)  # e.g. the task delivered again

    again = reload(report)
    assert (again.status, again.attempts, again.finished_at) == (
        Report.Status.COMPLETE,
        1,
        first.finished_at,
    )
    assert report_attempts.report_attempt_start(report.report_id) is None


def test_running_an_unknown_report_does_nothing() -> None:
    report_parts.report_run("no-such-report")
    assert not Report.objects.exists()


@pytest.mark.usefixtures("spec_examples")
def test_the_stage_is_written_to_the_row_with_a_heartbeat() -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    make_stale(report, seconds=60)
    attempt = report_attempts.report_attempt_start(report.report_id)
    assert attempt is not None

    attempt.progress(Report.Stage.READING)

    stored = reload(report)
    assert (stored.stage, stored.attempts) == (Report.Stage.READING, 1)
    assert timezone.now() - stored.heartbeat_at < timedelta(seconds=10)


@pytest.mark.usefixtures("spec_examples")
def test_only_the_latest_attempt_writes() -> None:
    # Two runs of one report: the first still going when the task is delivered
    # again (Redis visibility timeout) or when its killed worker's pool child
    # lives on. The second claim supersedes the first.
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    first = report_attempts.report_attempt_start(report.report_id)
    second = report_attempts.report_attempt_start(report.report_id)
    assert first is not None
    assert second is not None
    assert (first.number, second.number) == (1, 2)
    whole = [StoreRange()]

    with pytest.raises(report_attempts.AttemptSupersededError):
        first.progress(Report.Stage.PLANNING)
    with pytest.raises(report_attempts.AttemptSupersededError):
        first.plan(SPEC_NOW, whole)
    first.fail("lost")  # dropped, not raised: the report is not the first run's any more
    assert reload(report).status == Report.Status.RUNNING
    assert not ReportPart.objects.exists()

    (part,) = second.plan(SPEC_NOW, whole)
    report_parts.part_run(part)
    with pytest.raises(report_attempts.AttemptSupersededError):
        second.progress(Report.Stage.WRITING)  # finished: nothing may write any more
    stored = reload(report)
    assert (stored.status, report_csv(stored)) == (Report.Status.COMPLETE, SPEC_CSV)


@pytest.mark.usefixtures("spec_examples")
def test_a_redelivered_job_of_a_planned_report_plans_it_again() -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    first = report_attempts.report_attempt_start(report.report_id)
    assert first is not None
    (earlier,) = first.plan(SPEC_NOW, [StoreRange()])  # then its worker died

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert (stored.status, stored.attempts, report_csv(stored)) == (
        Report.Status.COMPLETE,
        2,
        SPEC_CSV,
    )
    assert not ReportPart.objects.filter(pk=earlier).exists()
    report_parts.part_run(earlier)  # the earlier part's task: nothing to run
    assert reload(report).finished_at == stored.finished_at


@pytest.mark.usefixtures("spec_examples")
def test_a_report_whose_worker_keeps_dying_fails_instead_of_running_for_ever() -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW, attempts=report_attempts.MAX_ATTEMPTS)

    report_parts.report_run(report.report_id)

    stored = reload(report)
    assert stored.status == Report.Status.FAILED
    assert f"started {report_attempts.MAX_ATTEMPTS} times" in stored.error
    assert stored.attempts == report_attempts.MAX_ATTEMPTS


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
    make_stale(report, seconds=silent_for)

    stored = report_staleness.report_get_failing_lost(report.report_id)

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
    make_stale(report, seconds=silent_for)

    stored = report_staleness.report_get_failing_lost(report.report_id)

    assert stored is not None
    assert stored.status == Report.Status.RUNNING


def test_waiting_in_the_queue_longer_than_the_stale_timeout_is_not_failing(
    settings: Settings,
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 2
    queued = Report.objects.create()
    make_stale(queued, seconds=60)  # a long backlog ahead of it

    assert report_staleness.reports_fail_stale() == 0
    stored = report_staleness.report_get_failing_lost(queued.report_id)
    assert stored is not None
    assert (stored.status, stored.stage) == (Report.Status.RUNNING, "queued")


def test_listing_fails_the_lost_jobs_reports_only(settings: Settings) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 60
    lost = Report.objects.create(attempts=1)
    alive = Report.objects.create(attempts=1)
    done = Report.objects.create(status=Report.Status.COMPLETE)
    make_stale(lost, seconds=61)
    make_stale(done, seconds=3600)

    listed = {
        report.report_id: report
        for report in report_staleness.reports_recent_failing_lost(limit=10)
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
    make_stale(report, seconds=61)
    assert report_staleness.reports_fail_stale() == 1

    with pytest.raises(report_attempts.AttemptSupersededError):
        attempt.plan(SPEC_NOW, [StoreRange()])
    assert reload(report).status == Report.Status.FAILED


def test_recent_reports_are_newest_first_and_limited() -> None:
    created = [Report.objects.create() for _ in range(3)]

    recent = report_staleness.reports_recent_failing_lost(limit=2)

    assert [report.report_id for report in recent] == [r.report_id for r in created[::-1][:2]]


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_job_runs_in_a_thread_of_this_process(
    settings: Settings,
) -> None:
    settings.CELERY_BROKER_URL = ""
    store_spec_examples()

    report = report_trigger.report_trigger(as_of=SPEC_NOW).report  # autocommit: the job starts now

    wait_for_embedded_jobs(report.pk)  # nobody else runs it
    assert report_csv(reload(report)) == SPEC_CSV
