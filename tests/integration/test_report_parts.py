"""A report in parts on the production stack: two Celery workers share its
parts, and one is killed mid-report.

To kill a worker in the middle of its parts, the test holds an exclusive
lock on the business hours table, which only the parts read (the report's
job plans without it): every pool process of both workers is then in a
part, waiting on the lock inside PostgreSQL, until the test lets go.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.models import Report, ReportPart
from store_monitoring.devstack import Api, Service
from tests.integration.test_report_jobs import (
    AS_OF,
    generate_report,
    lock_waiters,
    start_worker,
    table_locked,
    wait_until,
)
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STORES, SHARD_STORES = 40, 5
POOL_PROCESSES = 4  # two workers of --concurrency 2 (store_monitoring.devstack.worker_command)


HOURS_TABLE = "monitor_businesshours"  # read by the parts only


def test_a_worker_killed_mid_report_its_parts_run_again_on_the_other(
    api: Api, launch: Callable[..., Service], stack_env: dict[str, str]
) -> None:
    store_random_data(stores=STORES, seed=7)
    # The surviving worker takes back the killed one's unacknowledged parts
    # once this old (production: CELERY_VISIBILITY_TIMEOUT=300).
    env = {"REPORT_SHARD_STORES": str(SHARD_STORES), "CELERY_VISIBILITY_TIMEOUT": "2"}
    doomed = start_worker(launch, "worker-1", **env)
    start_worker(launch, "worker-2", **env)
    with table_locked(stack_env["DATABASE_URL"], HOURS_TABLE) as blocker:
        report_id = api.trigger(AS_OF)
        wait_until(
            lambda: lock_waiters(blocker, HOURS_TABLE) >= POOL_PROCESSES,
            "every pool process of both workers to be in a part",
        )
        summary = api.summary(report_id)
        assert (summary["status"], summary["progress"]) == ("Running", 0.0)

        doomed.kill()  # SIGKILL: the worker and its pool processes, mid-part

    answer = api.wait_finished(report_id, timeout=90)

    assert answer.headers["X-Report-Status"] == "Complete", answer.body
    assert answer.body.decode() == generate_report("--as-of", AS_OF)
    percent = api.report(report_id, percent=True).body.decode()
    assert percent == generate_report("--as-of", AS_OF, "--units", "percent")
    report = Report.objects.get(pk=report_id)
    assert report.part_count == STORES // SHARD_STORES
    parts = ReportPart.objects.filter(report=report)
    assert set(parts.values_list("status", flat=True)) == {Report.Status.COMPLETE}
    assert parts.filter(attempts__gte=2).exists()  # the killed worker's, run again
