"""monitor.tasks: the Celery task around report_run."""

import pytest

from monitor.models import Report
from monitor.services import jobs
from monitor.tasks import report_run_task
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples


def test_the_task_is_redelivered_when_its_worker_dies() -> None:
    # What the kill tests in tests/integration rely on.
    assert report_run_task.name == jobs.REPORT_RUN_TASK
    assert report_run_task.acks_late is True
    assert report_run_task.reject_on_worker_lost is True


@pytest.mark.django_db
def test_the_task_runs_the_report() -> None:
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)

    report_run_task.apply(args=[report.report_id]).get()

    assert Report.objects.get(pk=report.pk).result_csv == SPEC_CSV
