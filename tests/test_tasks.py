"""monitor.tasks: the Celery back-end of the job queue, and how its messages are acknowledged."""

from collections.abc import Callable
from typing import Any

import pytest
from celery import Task
from django.db import OperationalError
from pytest_django.fixtures import Settings

from monitor.models import Report
from monitor.selectors import report_csv
from monitor.services import report_attempts, report_parts
from monitor.tasks import (
    report_part_run_task,
    report_run_task,
    reports_prune_task,
    retries_lasting,
    retry_delay,
)
from store_monitoring import celery_app
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue


@pytest.mark.parametrize("task", [report_run_task, report_part_run_task])
def test_a_job_is_acknowledged_once_done_and_handed_back_when_its_worker_dies(
    task: Task[Any, Any],
) -> None:
    # What the kill tests of tests/integration show on real processes: a task
    # is acknowledged only once its job returned, and handed back to the queue
    # when the process running it dies.
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)


@pytest.mark.django_db
def test_the_task_runs_the_report() -> None:
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)

    report_run_task.apply(args=(report.report_id,)).get()

    assert report_csv(Report.objects.get(pk=report.pk)) == SPEC_CSV


def fails_once(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, whose first call raises a database error instead (the connection lost)."""
    failed: list[object] = []

    def once(*args: Any) -> Any:
        if not failed:
            failed.append(args)
            raise OperationalError("the connection was lost")
        return function(*args)

    return once


@pytest.mark.django_db
def test_a_report_task_that_met_a_database_error_before_its_claim_runs_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the retry the report stayed Running until the queue timeout.
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    claim = fails_once(report_attempts.report_attempt_start)
    monkeypatch.setattr(report_parts, "report_attempt_start", claim)

    report_run_task.apply(args=(report.report_id,))

    stored = Report.objects.get(pk=report.pk)
    assert (stored.status, stored.attempts) == (Report.Status.COMPLETE, 1)
    assert report_csv(stored) == SPEC_CSV


@pytest.mark.django_db
def test_a_part_task_whose_finishing_met_a_database_error_runs_again(
    monkeypatch: pytest.MonkeyPatch, job_queue: FakeQueue
) -> None:
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    (part,) = job_queue.keys(report_parts.PART_RUN)
    monkeypatch.setattr(
        report_parts, "report_finish_if_last", fails_once(report_parts.report_finish_if_last)
    )

    report_part_run_task.apply(args=(part,))

    # The part ran once; its task, retried, finished the report (the repair path).
    assert report_csv(Report.objects.get(pk=report.pk)) == SPEC_CSV


def fails_times(count: int, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, whose first `count` calls raise as a database that does not answer."""
    calls: list[object] = []

    def flaky(*args: Any) -> Any:
        calls.append(args)
        if len(calls) <= count:
            raise OperationalError("connection refused: the database is restarting")
        return function(*args)

    return flaky


@pytest.mark.django_db
def test_a_part_task_retries_across_a_long_database_outage(
    monkeypatch: pytest.MonkeyPatch, job_queue: FakeQueue
) -> None:
    # Its claim fails as long as the database is down: more tries than the
    # five of any other database error (three quick ones once left the report
    # waiting on a part no queue held, for the queue timeout).
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    (part,) = job_queue.keys(report_parts.PART_RUN)
    flaky = fails_times(12, report_attempts.part_attempt_start)
    monkeypatch.setattr(report_parts, "part_attempt_start", flaky)

    report_part_run_task.apply(args=(part,))

    assert report_csv(Report.objects.get(pk=report.pk)) == SPEC_CSV


@pytest.mark.django_db
def test_a_part_that_lost_the_database_mid_part_runs_again_rather_than_failing(
    monkeypatch: pytest.MonkeyPatch, job_queue: FakeQueue
) -> None:
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    (part,) = job_queue.keys(report_parts.PART_RUN)
    monkeypatch.setattr(report_parts, "_part_compute", fails_once(report_parts._part_compute))

    report_part_run_task.apply(args=(part,))

    stored = Report.objects.get(pk=report.pk)
    assert stored.status == Report.Status.COMPLETE, stored.error
    assert report_csv(stored) == SPEC_CSV


def test_retries_back_off_and_last_past_the_stale_and_queue_timeouts(settings: Settings) -> None:
    delays = [retry_delay(retries) for retries in range(8)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    for seconds in (settings.REPORT_STALE_AFTER_SECONDS, settings.REPORT_QUEUE_TIMEOUT, 1, 31):
        retries = retries_lasting(seconds)
        assert sum(map(retry_delay, range(retries))) >= seconds
        assert sum(map(retry_delay, range(retries - 1))) < seconds


@pytest.mark.django_db
def test_beat_runs_the_retention_task_on_its_interval(settings: Settings) -> None:
    entry = celery_app.conf.beat_schedule["prune-reports"]
    assert entry["task"] == reports_prune_task.name
    assert entry["schedule"] == settings.REPORT_RETENTION_INTERVAL_SECONDS
    settings.REPORT_RETENTION_COUNT = 1
    Report.objects.bulk_create(Report(status=Report.Status.COMPLETE) for _ in range(3))

    assert reports_prune_task.apply().get() == 2
    assert Report.objects.count() == 1
