"""Bounded report jobs on real processes: floods, backlogs, retention, and a broker
that is stopped, killed or loses its queue.

The broker tests start a private redis-server on a free port (never the
shared one), so that they can stop, kill and restart it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from monitor.models import Report
from monitor.services.api_keys import api_key_create
from store_monitoring import gunicorn_conf
from store_monitoring.devstack import (
    Answer,
    Api,
    Service,
    beat_command,
    free_port,
    web_command,
    worker_command,
    worker_ready,
)
from tests.integration.test_report_jobs import AS_OF, wait_until
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FLOOD = 200
TRIGGER = "/api/monitor/trigger_report"
# A flood of forced reports from one client (no keys): all of them may wait.
NO_CAP = {"REPORT_MAX_QUEUED_PER_KEY": str(FLOOD)}


@pytest.fixture
def stored_data() -> None:
    store_random_data(stores=20, seed=11)


def flood(api: Api, count: int, *, force: bool = False) -> list[str]:
    """`count` triggers from 16 concurrent clients; the report ids answered."""
    with ThreadPoolExecutor(max_workers=16) as clients:
        return list(clients.map(lambda _: api.trigger(AS_OF, force=force), range(count)))


def all_finished() -> bool:
    return not Report.objects.filter(status=Report.Status.RUNNING).exists()


def statuses() -> dict[str, int]:
    found: dict[str, int] = {}
    for status in Report.objects.values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


def proc_status(pid: int, field: str) -> int:
    """A number from /proc/<pid>/status: Threads, or VmRSS (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def start_worker(launch: Callable[..., Service], name: str = "worker", **env: str) -> Service:
    return launch(name, worker_command(), worker_ready, **env)


# The production set-up: Celery


@pytest.mark.usefixtures("stored_data")
def test_a_flood_of_identical_triggers_costs_one_computation(
    api: Api, launch: Callable[..., Service]
) -> None:
    worker = start_worker(launch)
    pool_processes = worker.children()

    report_ids = flood(api, FLOOD)

    assert len(set(report_ids)) == 1  # every trigger after the first reused its report
    wait_until(all_finished, "the report to finish", timeout=60)
    assert statuses() == {"Complete": 1}
    assert worker.children() == pool_processes  # the worker's concurrency, unchanged


@pytest.mark.usefixtures("stored_data")
def test_a_backlog_longer_than_the_stale_timeout_all_completes(
    launch: Callable[..., Service], start_api: Callable[..., Api]
) -> None:
    # Queued reports wait far longer than the stale timeout: they must not fail.
    short = {"REPORT_STALE_AFTER_SECONDS": "2", **NO_CAP}
    api = start_api(**short)
    report_ids = flood(api, FLOOD, force=True)
    # All waiting, none started, and silent past the stale timeout already:
    # the first in the queue, the others for their client's turn.
    Report.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    oldest, *later = Report.objects.order_by("created_at").values_list("report_id", flat=True)
    first = api.report(oldest).json()
    assert (first["status"], first["stage"]) == ("Running", "queued")
    assert first["queue_position"] is None  # Redis is not asked
    assert {api.report(report_id).json()["stage"] for report_id in later[:5]} == {"waiting"}

    start_worker(launch, **short)

    wait_until(all_finished, "the backlog to finish", timeout=300)
    assert statuses() == {"Complete": FLOOD}
    assert len(set(report_ids)) == FLOOD


@pytest.mark.usefixtures("stored_data")
def test_beat_keeps_the_report_table_bounded(
    launch: Callable[..., Service], start_api: Callable[..., Api], tmp_path: Path
) -> None:
    retention = {
        "REPORT_RETENTION_COUNT": "10",
        "REPORT_RETENTION_INTERVAL_SECONDS": "1",
        **NO_CAP,
    }
    api = start_api(**retention)
    start_worker(launch, **retention)
    launch(
        "beat",
        beat_command(tmp_path / "beat-schedule"),
        lambda service: "beat: Starting" in service.log(),
        **retention,
    )

    flood(api, 60, force=True)

    wait_until(all_finished, "the flood to finish", timeout=120)
    wait_until(lambda: Report.objects.count() <= 10, "beat to prune", timeout=30)
    assert set(statuses()) == {"Complete"}


# The broker: stopped, killed, or restarted empty


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, on one port, without persistence."""

    launch: Callable[..., Service]
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Service:
        command = ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def ready(_: Service) -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        return self.launch(f"redis-{time.monotonic_ns()}", command, ready)


@pytest.fixture
def private_redis(launch: Callable[..., Service]) -> PrivateRedis:
    return PrivateRedis(launch)


def start_web(launch: Callable[..., Service], **env: str) -> tuple[Api, Service]:
    """gunicorn with the test's settings, and its process (whose children serve)."""
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    return api, launch(f"gunicorn-{port}", web_command(f"127.0.0.1:{port}"), api.up, **env)


def force_trigger(api: Api) -> Answer:
    return api.request("POST", TRIGGER, {"as_of": AS_OF, "force": True})


def keyed(api: Api, name: str) -> Api:
    """The API as a client of its own (a new write key): its trigger publishes
    its report's job at once, never waiting for another report's turn."""
    return dataclasses.replace(api, key=api_key_create(name=name, scope="write").key)


def publishing_at_11() -> bool:
    """Whether a report as of 11:00 is committed, its job being published."""
    reports = Report.objects.filter(as_of__hour=11, stage=Report.Stage.ENQUEUING)
    return reports.exists()


def timed(action: Callable[[], Answer]) -> tuple[float, Answer]:
    started = time.monotonic()
    answer = action()
    return time.monotonic() - started, answer


@pytest.mark.usefixtures("stored_data")
def test_a_stopped_or_killed_broker_gives_a_quick_503_and_reads_never_wait(
    private_redis: PrivateRedis,
    start_api: Callable[..., Api],
    record_property: Callable[[str, object], None],
) -> None:
    broker = private_redis.start()
    api = start_api(CELERY_BROKER_URL=private_redis.url, API_KEYS_REQUIRED="true")
    # Each trigger from a client of its own, so that each publishes a job.
    clients = iter([keyed(api, f"client-{number}") for number in range(9)])
    reader = next(clients)
    queued = reader.trigger(AS_OF)  # no worker: it stays queued
    for _ in range(4):  # both web processes connected: what follows times the broker only
        force_trigger(next(clients))

    stopped_client = next(clients)
    os.kill(broker.process.pid, signal.SIGSTOP)  # hung: connections open, nothing answers
    try:
        # Each answers at all (a hang would meet the client's timeout): the
        # publish gives up, and the reads never ask the broker.
        seconds, answer = timed(lambda: force_trigger(stopped_client))
        read_seconds, read = timed(lambda: reader.report(queued))
        list_seconds, listing = timed(lambda: reader.request("GET", "/api/monitor/reports"))
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)

    # How quick, recorded (bench measures it; a timed assertion would flake).
    record_property(
        "stopped broker: seconds to 503, read, list", (seconds, read_seconds, list_seconds)
    )
    assert (answer.status, answer.json()) == (
        503,
        {"error": "the job queue is unreachable; try again later"},
    )
    assert (read.status, listing.status) == (200, 200)
    assert force_trigger(next(clients)).status == 200  # resumed

    broker.kill()  # dead: connections refused
    killed_client = next(clients)
    seconds, answer = timed(lambda: force_trigger(killed_client))
    record_property("killed broker: seconds to 503", seconds)
    assert answer.status == 503

    private_redis.start()  # back, on the same port
    assert force_trigger(next(clients)).status == 200


@pytest.mark.usefixtures("stored_data")
def test_an_identical_trigger_during_a_failing_publish_shares_its_503(
    private_redis: PrivateRedis, start_api: Callable[..., Api]
) -> None:
    broker = private_redis.start()
    api = start_api(CELERY_BROKER_URL=private_redis.url, API_KEYS_REQUIRED="true")
    for number in range(4):  # both web processes connected: what follows times the broker only
        force_trigger(keyed(api, f"warming-{number}"))
    api = keyed(api, "identical")  # a client with nothing waiting: its trigger publishes
    other_instant = {"as_of": "2023-01-25T11:00:00Z"}  # none of the reports above

    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=2) as clients:
            first = clients.submit(api.request, "POST", TRIGGER, other_instant)
            wait_until(publishing_at_11, "the first trigger's publish to be under way")
            second = clients.submit(api.request, "POST", TRIGGER, other_instant)
            answers = [first.result(), second.result()]
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)

    # Not a reused Running report that fails a moment later.
    assert [answer.status for answer in answers] == [503, 503], answers[1].body
    assert answers[1].json() == {"error": "the job queue is unreachable; try again later"}
    assert not Report.objects.filter(status=Report.Status.RUNNING, as_of__hour=11).exists()


@pytest.mark.usefixtures("stored_data")
def test_a_job_the_broker_lost_fails_after_the_queue_timeout(
    private_redis: PrivateRedis, start_api: Callable[..., Api], launch: Callable[..., Service]
) -> None:
    broker = private_redis.start()
    settings = {
        "CELERY_BROKER_URL": private_redis.url,
        "REPORT_STALE_AFTER_SECONDS": "1",
        "REPORT_QUEUE_TIMEOUT": "20",
    }
    api = start_api(**settings)
    report_id = api.trigger(AS_OF)

    broker.kill()
    private_redis.start()  # restarted without persistence: the queued task is gone
    start_worker(launch, **settings)  # seconds: past the stale timeout already
    waiting = api.report(report_id).json()
    assert (waiting["status"], waiting["stage"]) == ("Running", "queued")

    answer = api.wait_finished(report_id, timeout=40, poll=0.2)

    assert answer.json()["status"] == "Failed"
    assert "no worker started the report's job within 20 s" in answer.json()["error"]
    fresh = api.trigger(AS_OF)  # a failed report is not reused
    assert api.wait_finished(fresh, timeout=30).headers["X-Report-Status"] == "Complete"


# The embedded set-up: a pool of job threads in each web process


def threads_and_rss(pids: list[int]) -> dict[int, tuple[int, int]]:
    return {pid: (proc_status(pid, "Threads"), proc_status(pid, "VmRSS")) for pid in pids}


@pytest.mark.usefixtures("stored_data")
def test_embedded_a_flood_keeps_threads_memory_and_the_table_flat(
    launch: Callable[..., Service], record_property: Callable[[str, object], None]
) -> None:
    api, web = start_web(
        launch,
        **NO_CAP,
        CELERY_BROKER_URL="",
        REPORT_EMBEDDED_THREADS="1",
        REPORT_RETENTION_COUNT="20",
        REPORT_RETENTION_INTERVAL_SECONDS="0",  # prune after every job
    )
    first = api.trigger(AS_OF)
    api.wait_finished(first, timeout=30)
    before = threads_and_rss(web.children())  # gunicorn's two workers

    identical = flood(api, FLOOD)
    forced = flood(api, FLOOD, force=True)
    wait_until(all_finished, "the forced flood to finish", timeout=300)

    after = threads_and_rss(web.children())
    record_property("web processes' (threads, RSS kB) before and after", (before, after))
    record_property("reports stored", Report.objects.count())
    assert set(identical) == {first}  # reused: no computation at all
    assert len(set(forced)) == FLOOD
    # A worker that has run a job has all its threads (its job thread, and
    # those its libraries start) but gunicorn's request threads, started as
    # requests overlap: a flood adds no more than those.
    job_ready = max(threads for threads, _ in before.values())
    for pid, (_, rss_kb) in before.items():
        assert after[pid][0] <= job_ready + gunicorn_conf.threads, f"threads: {before} → {after}"
        assert after[pid][1] - rss_kb < 100_000, f"RSS (kB): {before} → {after}"
    assert set(statuses()) == {"Complete"}
    assert Report.objects.count() <= 20 + 1  # retention between jobs (one per process)
