"""The report API on the production stack: gunicorn, Celery workers, Redis, PostgreSQL.

To kill a worker in the middle of a report, the test holds an exclusive lock
on the stores table: the job has started (its stage says "planning": it
reads the stores to split them into parts) and waits on that lock inside
PostgreSQL, exactly as it would wait on a slow read, until the test lets go.
No part of the job, the worker or the broker is replaced.
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.core.management import call_command

from store_monitoring.devstack import Api, Service, free_port, worker_command, worker_ready
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AS_OF = "2023-01-25T12:34:56.789012Z"
# The restarted worker takes back a task left unacknowledged for more than
# this (production: CELERY_VISIBILITY_TIMEOUT=300).
RECLAIM_AFTER_SECONDS = "1"


@pytest.fixture
def stored_data() -> None:
    store_random_data(stores=40, seed=7)


def generate_report(*args: str) -> str:
    written = io.StringIO()
    call_command("generate_report", *args, stdout=written)
    return written.getvalue()


def start_worker(launch: Callable[..., Service], name: str = "worker", **env: str) -> Service:
    return launch(name, worker_command(), worker_ready, **env)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.05)


STORES_TABLE = "monitor_store"  # every report's job reads it first


@contextmanager
def table_locked(database_url: str, table: str) -> Iterator[psycopg.Connection]:
    """Hold an exclusive lock on `table` until the block ends."""
    with psycopg.connect(database_url) as blocker:
        blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield blocker
        blocker.rollback()


def lock_waiters(blocker: psycopg.Connection, table: str) -> int:
    """How many sessions wait for a lock on `table`."""
    row = blocker.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table]
    ).fetchone()
    return 0 if row is None else row[0]


def start_blocked_report(api: Api, blocker: psycopg.Connection) -> str:
    """Trigger a report and wait until its job is in the middle of planning."""
    report_id = api.trigger(AS_OF)
    wait_until(lambda: lock_waiters(blocker, STORES_TABLE) > 0, "the job to wait on the lock")
    summary = api.summary(report_id)
    assert (summary["status"], summary["stage"], summary["attempts"]) == ("Running", "planning", 1)
    return report_id


def assert_complete_as_generate_report(api: Api, report_id: str, *, as_of: str | None) -> None:
    answer = api.wait_finished(report_id, timeout=30)
    assert answer.headers["X-Report-Status"] == "Complete", answer.body
    as_of_args = [] if as_of is None else ["--as-of", as_of]
    assert answer.body.decode() == generate_report(*as_of_args)
    percent = api.report(report_id, percent=True).body.decode()
    assert percent == generate_report(*as_of_args, "--units", "percent")


@pytest.mark.usefixtures("stored_data")
def test_trigger_poll_and_get_the_csv_that_generate_report_writes(
    api: Api, launch: Callable[..., Service]
) -> None:
    start_worker(launch)

    explicit = api.trigger(AS_OF)
    default = api.trigger()  # as of the latest poll

    assert_complete_as_generate_report(api, explicit, as_of=AS_OF)
    assert_complete_as_generate_report(api, default, as_of=None)
    by_query = api.request("GET", f"/api/monitor/get_report?report_id={explicit}")
    assert by_query.body == api.report(explicit).body
    attachment = f'attachment; filename="report-{explicit}.csv"'
    assert by_query.headers["Content-Disposition"] == attachment
    summary = api.summary(explicit)
    assert (summary["status"], summary["attempts"], summary["row_count"]) == ("Complete", 1, 40)


@pytest.mark.usefixtures("stored_data")
def test_worker_killed_mid_report_the_restarted_worker_completes_it(
    api: Api, launch: Callable[..., Service], stack_env: dict[str, str]
) -> None:
    worker = start_worker(launch, "worker-1")
    with table_locked(stack_env["DATABASE_URL"], STORES_TABLE) as blocker:
        report_id = start_blocked_report(api, blocker)

        worker.kill()  # SIGKILL: the worker and its pool process, mid-report

        assert api.report(report_id).headers["X-Report-Status"] == "Running"
    start_worker(launch, "worker-2", CELERY_VISIBILITY_TIMEOUT=RECLAIM_AFTER_SECONDS)

    assert_complete_as_generate_report(api, report_id, as_of=AS_OF)
    assert api.summary(report_id)["attempts"] == 2  # the redelivered task ran it again


@pytest.mark.usefixtures("stored_data")
def test_pool_process_killed_mid_report_the_task_is_handed_back_and_completed(
    api: Api, launch: Callable[..., Service], stack_env: dict[str, str]
) -> None:
    worker = start_worker(launch)
    with table_locked(stack_env["DATABASE_URL"], STORES_TABLE) as blocker:
        report_id = start_blocked_report(api, blocker)
        pool_processes = worker.children()
        assert pool_processes

        for pool_process in pool_processes:  # the one running the report among them
            os.kill(pool_process, signal.SIGKILL)

        # reject_on_worker_lost: the worker hands the task back to the queue
        # and its new pool process starts the report again, at once.
        wait_until(lambda: api.summary(report_id)["attempts"] == 2, "the second attempt")
    assert_complete_as_generate_report(api, report_id, as_of=AS_OF)
    assert "WorkerLostError" in worker.log()


@pytest.mark.usefixtures("stored_data")
def test_worker_killed_and_never_back_the_report_fails_instead_of_running_for_ever(
    launch: Callable[..., Service], start_api: Callable[..., Api], stack_env: dict[str, str]
) -> None:
    api = start_api(REPORT_STALE_AFTER_SECONDS="2")
    worker = start_worker(launch)
    with table_locked(stack_env["DATABASE_URL"], STORES_TABLE) as blocker:
        report_id = start_blocked_report(api, blocker)
        worker.kill()

    answer = api.wait_finished(report_id, timeout=30)

    assert answer.headers["X-Report-Status"] == "Failed"
    assert "gave no sign of life for 2 s" in answer.json()["error"]


@pytest.mark.usefixtures("stored_data")
def test_trigger_with_the_broker_down_is_503_and_the_report_failed(
    start_api: Callable[..., Api],
) -> None:
    api = start_api(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")  # nobody listens

    answer = api.request("POST", "/api/monitor/trigger_report")

    assert answer.status == 503
    assert "job queue is unreachable" in answer.json()["error"]
    (report,) = api.request("GET", "/api/monitor/reports").json()["reports"]
    assert report["status"] == "Failed"
