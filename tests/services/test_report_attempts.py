"""monitor.services.report_attempts, and report_parts.report_run: a report's job, its attempts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor.models import Report, ReportPart, Store
from monitor.scope import PLATFORM
from monitor.selectors import StoreRange, report_csv
from monitor.services import report_attempts, report_parts, report_trigger
from monitor.services.data_version import data_version_read
from monitor.services.reports import report_generate
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples, wait_for_embedded_jobs
from tests.support.reports import make_silent, reload


def platform_trigger(**options: Any) -> report_trigger.Triggered:
    """A report of every store (the platform's), as report_trigger makes it."""
    return report_trigger.report_trigger(scope=PLATFORM, **options)


pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_examples(db: None) -> None:
    store_spec_examples()


def test_trigger_creates_a_running_report_and_starts_the_job_after_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        report = platform_trigger(as_of=SPEC_NOW).report

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
    make_silent(report, seconds=60)
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


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_job_runs_in_a_thread_of_this_process(
    settings: Settings,
) -> None:
    settings.CELERY_BROKER_URL = ""
    store_spec_examples()

    report = report_trigger.report_trigger(
        scope=PLATFORM, as_of=SPEC_NOW
    ).report  # autocommit: the job starts now

    wait_for_embedded_jobs(report.pk)  # nobody else runs it
    assert report_csv(reload(report)) == SPEC_CSV
