"""monitor.jobqueue.embedded: the embedded set-up's fixed pool of job threads."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings

from monitor.jobqueue.base import Job
from monitor.jobqueue.embedded import EmbeddedQueue, JobPool
from monitor.services import incidents


def pool_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("embedded-job-")]


class Gate:
    """A job that records its report ids and waits until the test opens the gate."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.open = threading.Event()
        self.ran: list[str] = []

    def __call__(self, report_id: str) -> None:
        self.started.set()
        self.open.wait(30)
        self.ran.append(report_id)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_burst_queues_jobs_on_a_fixed_number_of_threads(threads: int) -> None:
    gate = Gate()
    pool = JobPool(gate, threads=threads)
    before = len(pool_threads())

    for number in range(200):
        pool.put(f"r{number}")

    assert len(pool_threads()) == before + threads
    gate.open.set()
    assert pool.join(timeout=30)
    assert sorted(gate.ran) == sorted(f"r{number}" for number in range(200))
    if threads == 1:
        assert gate.ran == [f"r{number}" for number in range(200)]  # first in, first run


def test_the_queue_tells_each_waiting_jobs_position() -> None:
    gate = Gate()
    pool = JobPool(gate, threads=1)
    for report_id in ["a", "b", "c"]:
        pool.put(report_id)

    gate.started.wait(30)  # "a" runs: no longer waiting
    positions = {report_id: pool.position(report_id) for report_id in "abc"}
    gate.open.set()
    pool.join(timeout=30)

    assert positions == {"a": None, "b": 1, "c": 2}
    assert pool.position("c") is None


def test_a_failing_job_does_not_stop_the_pool() -> None:
    ran: list[str] = []

    def job(report_id: str) -> None:
        if report_id == "bad":
            raise RuntimeError("boom")
        ran.append(report_id)

    pool = JobPool(job, threads=1)
    for report_id in ["bad", "good"]:
        pool.put(report_id)

    assert pool.join(timeout=30)
    assert ran == ["good"]


def test_join_times_out_while_a_job_runs() -> None:
    gate = Gate()
    pool = JobPool(gate, threads=1)
    pool.put("a")

    assert not pool.join(timeout=0.05)
    gate.open.set()
    assert pool.join(timeout=30)


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        JobPool(lambda report_id: None, threads=0)


def test_the_pool_holds_a_job_while_it_waits_or_runs() -> None:
    gate = Gate()
    pool = JobPool(gate, threads=1)
    pool.put("a")
    pool.put("b")

    gate.started.wait(30)  # "a" runs, "b" waits
    held = {report_id: pool.holds(report_id) for report_id in "abc"}
    gate.open.set()
    pool.join(timeout=30)

    assert held == {"a": True, "b": True, "c": False}
    assert not pool.holds("a")


def test_a_delayed_job_is_queued_once_its_delay_is_up() -> None:
    ran: list[tuple[str, float]] = []
    done = threading.Event()
    queue = EmbeddedQueue(threads=1, process_started=datetime.now(UTC), between_jobs=lambda: None)

    def run(key: str) -> None:
        ran.append((key, time.monotonic()))
        done.set()

    job: Job[str] = Job(name="test.delayed", run=run)
    sent = time.monotonic()
    queue.send(job, "later", delay_seconds=0.3)
    assert not queue.holds(job, "later")  # not queued yet: its timer holds it
    assert done.wait(30)
    [(key, at)] = ran
    assert key == "later"
    assert at - sent >= 0.3


def test_a_periodic_job_is_queued_every_interval_unless_it_is_still_held() -> None:
    gate = Gate()
    queue = EmbeddedQueue(threads=1, process_started=datetime.now(UTC), between_jobs=lambda: None)
    ticker = queue.every(Job[str]("test.periodic", gate), "every-store", 0.01)
    try:
        assert gate.started.wait(30)  # the first tick queued it, and it runs
        # While it runs, ticks queue nothing more: it is held.
        assert queue.holds(Job[str]("test.periodic", gate), "every-store")
        assert queue.position(Job[str]("test.periodic", gate), "every-store") is None
        gate.open.set()
        deadline = time.monotonic() + 30
        while len(gate.ran) < 3 and time.monotonic() < deadline:
            gate.started.clear()
            gate.started.wait(1)
        assert len(gate.ran) >= 3  # and then again, every interval
    finally:
        ticker.stop()
        gate.open.set()
    assert queue.join(timeout=30)
    assert set(gate.ran) == {"every-store"}


def test_the_incidents_evaluation_is_scheduled_every_minute_by_beat() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-incidents"]
    assert (entry["task"], entry["args"]) == (incidents.EVALUATE.name, (incidents.EVERY_STORE,))
    assert entry["schedule"] == float(settings.ALERT_EVALUATE_INTERVAL_SECONDS) == 60.0
