"""monitor.services.workers: the workers' heartbeats, and the warning of a queued
report whose queue no worker serves."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor import jobqueue
from monitor.jobqueue.embedded import EmbeddedQueue
from monitor.models import Report, WorkerBeat
from monitor.services import report_parts, workers
from monitor.services.workers import queue_warning, queue_workers, worker_beat, workers_seen
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery(settings: Settings) -> None:
    """The Celery set-up: its queue reads the workers' beats (no broker is asked)."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens: never contacted
    settings.QUEUE_UNSERVED_SECONDS = 60


def queued() -> Report:
    return Report.objects.create(stage=Report.Stage.QUEUED)


def test_beats_count_the_live_workers_and_tell_when_the_queue_was_last_served() -> None:
    now = timezone.now()
    worker_beat("celery@a", served=True, now=now - timedelta(seconds=50))
    worker_beat("celery@a", served=False, now=now - timedelta(seconds=5))  # alive, stalled
    worker_beat("celery@b", served=True, now=now - timedelta(seconds=20))
    worker_beat("celery@gone", served=True, now=now - timedelta(seconds=40))  # missed 3 beats

    seen = workers_seen(now)

    assert seen.live == 2
    assert seen.last_served == now - timedelta(seconds=20)


def test_a_worker_stopping_cleanly_is_no_longer_live_but_its_service_is_remembered() -> None:
    now = timezone.now()
    worker_beat("celery@a", served=True, now=now)

    workers.worker_stopped("celery@a")

    assert workers_seen(now) == workers.WorkersSeen(live=0, last_served=now)


def test_workers_gone_for_a_day_are_forgotten_at_the_next_beat() -> None:
    now = timezone.now()
    worker_beat("celery@old", served=True, now=now - timedelta(days=2))
    worker_beat("celery@never-served", served=False, now=now - timedelta(days=2))
    worker_beat("celery@recent", served=False, now=now - timedelta(hours=1))

    worker_beat("celery@new", served=True, now=now)

    assert set(WorkerBeat.objects.values_list("hostname", flat=True)) == {
        "celery@recent",
        "celery@new",
    }


@pytest.mark.usefixtures("celery")
def test_a_queued_report_says_so_when_no_worker_has_served_the_queue_for_a_minute() -> None:
    now = timezone.now()
    report = queued()
    worker_beat("celery@a", served=True, now=now - timedelta(seconds=75))
    worker_beat("celery@a", served=False, now=now - timedelta(seconds=5))

    warning = queue_warning(report, now=now)

    assert warning == (
        f"no worker has served the job queue for 1 min 15 s (since "
        f"{(now - timedelta(seconds=75)).isoformat()}), and 1 are live: "
        "the report waits until a worker takes its job"
    )


@pytest.mark.usefixtures("celery")
def test_no_worker_at_all_is_said_at_once() -> None:
    warning = queue_warning(queued())

    assert warning is not None
    assert warning.startswith("no worker has served the job queue in the last 1 min 00 s")
    assert "0 are live" in warning


@pytest.mark.usefixtures("celery")
@pytest.mark.parametrize("served_ago", [0, 59])
def test_a_queue_served_within_the_minute_gives_no_warning(served_ago: int) -> None:
    now = timezone.now()
    worker_beat("celery@a", served=True, now=now - timedelta(seconds=served_ago))

    assert queue_warning(queued(), now=now) is None


@pytest.mark.usefixtures("celery")
def test_the_threshold_is_a_setting(settings: Settings) -> None:
    settings.QUEUE_UNSERVED_SECONDS = 2
    now = timezone.now()
    worker_beat("celery@a", served=True, now=now - timedelta(seconds=3))

    assert queue_warning(queued(), now=now) is not None
    assert workers.beat_seconds() == 0.5


@pytest.mark.usefixtures("celery")
@pytest.mark.parametrize(
    ("status", "stage", "warned"),
    [
        (Report.Status.RUNNING, Report.Stage.QUEUED, True),
        (Report.Status.RUNNING, Report.Stage.QUEUED_PARTS, True),
        (Report.Status.RUNNING, Report.Stage.ENQUEUING, False),
        (Report.Status.RUNNING, Report.Stage.COMPUTING, False),
        (Report.Status.FAILED, Report.Stage.QUEUED, False),
        (Report.Status.COMPLETE, Report.Stage.DONE, False),
    ],
)
def test_only_a_report_waiting_in_the_queue_is_warned(
    status: str, stage: str, warned: bool
) -> None:
    report = Report.objects.create(status=status, stage=stage)

    assert (queue_warning(report) is not None) == warned


def test_the_warning_asks_the_set_up_s_queue(job_queue: FakeQueue) -> None:
    job_queue.serving = False
    job_queue.served_at = timezone.now() - timedelta(minutes=2)
    job_queue.workers = 0

    warning = queue_warning(queued())

    assert warning is not None
    assert "for 2 min 00 s" in warning
    assert queue_workers() == workers.WorkersSeen(live=0, last_served=job_queue.served_at)


def test_a_living_embedded_pool_serves_its_queue(settings: Settings) -> None:
    settings.CELERY_BROKER_URL = ""
    settings.QUEUE_UNSERVED_SECONDS = 60

    assert queue_warning(queued()) is None
    assert queue_workers().live == settings.REPORT_EMBEDDED_THREADS


# The thread's end is the point: pytest reports the exception that ended it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_embedded_pool_whose_threads_died_leaves_its_reports_warned(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.QUEUE_UNSERVED_SECONDS = 1
    queue = EmbeddedQueue(threads=1, process_started=timezone.now(), between_jobs=lambda: None)
    monkeypatch.setattr(jobqueue, "current", lambda: queue)
    ran_on: list[threading.Thread] = []

    def fatal(report_id: str) -> None:
        ran_on.append(threading.current_thread())
        raise SystemExit  # a BaseException ends the thread that runs it

    queue.send(jobqueue.Job(report_parts.REPORT_RUN.name, fatal), "r1")
    assert queue.join(timeout=30)
    ran_on[0].join(timeout=30)
    ended = queue.last_served()
    report = queued()

    assert ended is not None
    assert queue.live_workers() == 0
    assert queue_warning(report, now=ended + timedelta(seconds=0.5)) is None
    warning = queue_warning(report, now=ended + timedelta(seconds=2))
    assert warning is not None
    assert "0 are live" in warning
