"""A Celery worker whose Redis pauses mid-report, and a worker that stops consuming.

The first test is the outage itself: a private redis-server (its own port) is
stopped with SIGSTOP for 60 s while the worker is inside the report's parts,
then resumed. The worker runs under a restart loop, as systemd
(Restart=always) or honcho run it; the report must complete within 2 minutes
of the resume with no manual step. To pause Redis mid-report the test holds a
lock on the business hours table, which only the parts read: both pool
processes are then inside a part.

What it proves is the recovery as a whole, and the broker settings that make
reconnects reliable (settings.py: TCP keepalive, reconnects retried for ever):
with the worker's watchdog off it passes too. It does not prove the watchdog:
the stall the watchdog ends ("Couldn't ack", a worker that answers ping but
consumes nothing) follows a pause only sometimes, and the code without either
fix passed this test in some runs and failed it in others. The second test
proves the watchdog, every run: it makes the stall on purpose (Celery's
cancel_consumer), and the worker must exit and its restart run the report.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
import redis
from celery import Celery

from store_monitoring.devstack import (
    Api,
    Service,
    free_port,
    web_command,
    worker_command,
    worker_ready,
)
from tests.integration.test_report_jobs import (
    AS_OF,
    generate_report,
    lock_waiters,
    table_locked,
    wait_until,
)
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOURS_TABLE = "monitor_businesshours"  # read by the parts only
PAUSE_SECONDS = 60


def redis_answers(url: str) -> Callable[[Service], bool]:
    def ready(_: Service) -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    return ready


def restart_loop(command: list[str]) -> list[str]:
    """`command` run again whenever it exits, as a supervisor would."""
    quoted = " ".join(f"'{part}'" for part in command)
    return ["bash", "-c", f'while true; do {quoted}; echo "worker exited: $?"; sleep 1; done']


def test_a_report_completes_after_its_redis_was_paused_mid_report(
    launch: Callable[..., Service], stack_env: dict[str, str]
) -> None:
    store_random_data(stores=40, seed=7)
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    server = launch(
        "redis",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        redis_answers(broker),
    )
    env = {
        "CELERY_BROKER_URL": broker,
        "REPORT_SHARD_STORES": "5",
        "CELERY_VISIBILITY_TIMEOUT": "20",
        "WORKER_STALL_SECONDS": "20",
    }
    web_port = free_port()
    api = Api(f"http://127.0.0.1:{web_port}")
    launch("gunicorn", web_command(f"127.0.0.1:{web_port}"), api.up, **env)
    worker = launch("worker", restart_loop(worker_command()), worker_ready, **env)

    with table_locked(stack_env["DATABASE_URL"], HOURS_TABLE) as blocker:
        report_id = api.trigger(AS_OF)
        wait_until(lambda: lock_waiters(blocker, HOURS_TABLE) >= 2, "both pool processes in a part")
        os.kill(server.process.pid, signal.SIGSTOP)
    try:
        time.sleep(PAUSE_SECONDS)  # the two parts finish meanwhile; their acks cannot reach Redis
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    resumed = time.monotonic()

    answer = api.wait_finished(report_id, timeout=120, poll=0.5)

    assert answer.headers["X-Report-Status"] == "Complete", (answer.body, worker.log()[-3000:])
    assert answer.body.decode() == generate_report("--as-of", AS_OF)
    assert time.monotonic() - resumed < 120


def test_a_worker_that_no_longer_consumes_exits_and_its_restart_runs_the_report(
    launch: Callable[..., Service], api: Api, redis_url: str
) -> None:
    # The stall itself, made on purpose: a worker told to stop consuming its
    # queue (Celery's own remote control) still runs and answers ping, as a
    # worker whose broker connection stopped consuming does.
    store_random_data(stores=10, seed=3)
    worker = launch(
        "worker", restart_loop(worker_command()), worker_ready, WORKER_STALL_SECONDS="8"
    )
    # A client app of its own, not made current: the tasks' shared_task
    # proxies would otherwise resolve to it, without the project's settings.
    control = Celery(broker=redis_url, set_as_current=False).control
    queue = "celery"  # Celery's default queue, the one every job goes to
    assert control.cancel_consumer(queue, reply=True, timeout=5)
    assert control.ping(timeout=5)  # alive, and consuming nothing

    report_id = api.trigger(AS_OF)
    answer = api.wait_finished(report_id, timeout=60, poll=0.5)

    assert answer.headers["X-Report-Status"] == "Complete", (answer.body, worker.log()[-3000:])
    log = worker.log()
    assert "worker stalled: jobs wait in queue 'celery'" in log
    assert "worker exited: 70" in log
