"""monitor.tasks: the Celery back-end of the job queue, and how its messages are acknowledged."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from billiard.einfo import ExceptionInfo
from celery.exceptions import WorkerLostError
from celery.worker.request import Request
from django.db import OperationalError
from kombu import Connection
from kombu.simple import SimpleQueue
from pytest_django.fixtures import Settings

from monitor.models import Report
from monitor.selectors import report_csv
from monitor.services import report_attempts, report_parts
from monitor.tasks import report_part_run_task, report_run_task, reports_prune_task
from store_monitoring import celery_app
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue


@pytest.fixture
def queue() -> Iterator[SimpleQueue]:
    """Celery's default queue on kombu's in-memory transport: real task messages,
    acknowledged, rejected and redelivered as a broker does, without a server."""
    with Connection("memory://") as connection:
        queue = connection.SimpleQueue(celery_app.conf.task_default_queue)
        queue.clear()
        celery_app.send_task(report_run_task.name, args=["some-report"], connection=connection)
        yield queue
        queue.close()


def received(queue: SimpleQueue) -> Request:
    """The next task message, as a worker holds it while the task runs."""
    message = queue.get(timeout=1)
    return Request(
        message,
        on_ack=message.ack_log_error,
        on_reject=message.reject_log_error,
        app=celery_app,
        task=report_run_task,
    )


def fail(request: Request, error: Exception) -> None:
    try:
        raise error
    except type(error):
        request.on_failure(ExceptionInfo())


def test_a_task_whose_worker_died_goes_back_on_the_queue(queue: SimpleQueue) -> None:
    # What the kill tests in tests/integration rely on: the message is still
    # unacknowledged while the report runs, and is handed back when the
    # process running it dies (CELERY_TASK_ACKS_LATE, ..._REJECT_ON_WORKER_LOST).
    first = received(queue)
    assert not first.acknowledged

    fail(first, WorkerLostError("the pool process was killed"))

    again = received(queue)
    assert (again.id, again.args) == (first.id, ["some-report"])


def test_a_task_that_raised_is_not_redelivered(queue: SimpleQueue) -> None:
    # An exception that escaped report_run: acknowledged, not run again and again.
    fail(received(queue), RuntimeError("a bug"))

    assert len(queue) == 0


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


@pytest.mark.django_db
def test_beat_runs_the_retention_task_on_its_interval(settings: Settings) -> None:
    entry = celery_app.conf.beat_schedule["prune-reports"]
    assert entry["task"] == reports_prune_task.name
    assert entry["schedule"] == settings.REPORT_RETENTION_INTERVAL_SECONDS
    settings.REPORT_RETENTION_COUNT = 1
    Report.objects.bulk_create(Report(status=Report.Status.COMPLETE) for _ in range(3))

    assert reports_prune_task.apply().get() == 2
    assert Report.objects.count() == 1
