"""Whether the queue is served, on the production stack: Celery workers beat into
PostgreSQL, gunicorn reads the beats (services.workers), through Redis as broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from store_monitoring.devstack import Api, Service, worker_command, worker_ready
from tests.integration.test_report_jobs import AS_OF, wait_until
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Shortened from a minute for the test; the workers beat every quarter of it.
UNSERVED = {"QUEUE_UNSERVED_SECONDS": "2"}
LIVE_WORKERS = "store_monitoring_workers_live"


def live_workers(api: Api) -> float:
    metrics = api.request("GET", "/metrics").body.decode()
    values = [line.split()[1] for line in metrics.splitlines() if line.startswith(LIVE_WORKERS)]
    assert len(values) == 1, metrics
    return float(values[0])


def start_worker(launch: Callable[..., Service], name: str) -> Service:
    return launch(name, worker_command(), worker_ready, **UNSERVED)


def test_a_queued_report_says_no_worker_serves_its_queue_until_a_fresh_worker_does(
    start_api: Callable[..., Api], launch: Callable[..., Service]
) -> None:
    store_random_data(stores=40, seed=7)
    api = start_api(**UNSERVED)
    worker = start_worker(launch, "worker-1")
    wait_until(lambda: live_workers(api) == 1, "the worker's first beat")

    worker.stop()  # SIGTERM: a clean stop
    wait_until(lambda: live_workers(api) == 0, "the stopped worker to no longer count")
    report_id = api.trigger(AS_OF)

    wait_until(
        lambda: api.report(report_id).json().get("queue_warning") is not None,
        "the queued report's warning",
    )
    answer = api.report(report_id)
    assert answer.headers["X-Report-Status"] == "Running"
    assert answer.json()["stage"] == "queued"
    assert answer.json()["queue_warning"].startswith("no worker has served the job queue for")
    assert "0 are live" in answer.json()["queue_warning"]

    start_worker(launch, "worker-2")

    assert api.wait_finished(report_id, timeout=30).headers["X-Report-Status"] == "Complete"
    wait_until(lambda: live_workers(api) == 1, "the fresh worker to count")
    # Served again: a report waiting now carries no warning.
    detail = api.request("GET", f"/api/monitor/reports/{api.trigger(force=True)}").json()
    assert detail["queue_warning"] is None
