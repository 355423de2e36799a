"""Jobs without a broker: a FIFO queue served by a small fixed pool of threads.

Each web process of the embedded set-up (no CELERY_BROKER_URL) has one pool
of REPORT_EMBEDDED_THREADS threads, started on first use (after a server's
fork), so a burst of triggers only lengthens the queue: it never adds a
thread, and a report's memory is taken by at most that many jobs at a time.
The queue holds job keys only; what they name are rows. A job's own jobs
(run_each: a report's parts) run one after another in its thread.

The queue is this process's memory: a process that stops loses it. So the
first use of a job kind queues again what a stopped process left queued
(Job.left_queued). Should a sibling process still run one, it runs twice at
worst, which the attempt protocol makes harmless (docs/architecture.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import connections
from django.utils import timezone

from monitor.jobqueue.base import Job, Key

logger = logging.getLogger(__name__)

# A queued job: its kind's name and its key.
Entry = tuple[str, Any]
T = TypeVar("T")


class EmbeddedQueue:
    """The JobQueue of the embedded set-up (see the module docstring)."""

    may_refuse = False
    fans_out = False

    def __init__(
        self, *, threads: int, process_started: datetime, between_jobs: Callable[[], object]
    ) -> None:
        self._pool: JobPool[Entry] = JobPool(self._run, threads=threads)
        self._process_started = process_started
        self._between_jobs = between_jobs
        self._jobs: dict[str, Job[Any]] = {}  # by name: the jobs sent here
        self._lock = threading.Lock()

    def send(self, job: Job[Key], key: Key, *, delay_seconds: float = 0) -> None:
        self._recover(job)
        if delay_seconds <= 0:
            self._pool.put((job.name, key))
            return
        # A timer thread queues it later; it dies with the process, like the queue.
        timer = threading.Timer(delay_seconds, self._pool.put, args=[(job.name, key)])
        timer.daemon = True
        timer.start()

    def run_each(self, job: Job[Key], keys: Sequence[Key]) -> None:
        for key in keys:
            job.run(key)

    def holds(self, job: Job[Key], key: Key) -> bool:
        self._recover(job)
        return self._pool.holds((job.name, key))

    def position(self, job: Job[Key], key: Key) -> int | None:
        self._recover(job)
        return self._pool.position((job.name, key))

    def answers(self) -> bool:
        return True

    def last_served(self) -> datetime | None:
        return self._pool.last_served()

    def live_workers(self) -> int:
        return self._pool.live_threads()

    def join(self, timeout: float) -> bool:
        """Wait until every queued job has finished; False on timeout."""
        return self._pool.join(timeout)

    def every(self, job: Job[Key], key: Key, seconds: float) -> Ticker:
        """Queue `job` for `key` every `seconds` from now on, unless it still waits or
        runs here: the embedded set-up's Celery beat, a thread of this process."""
        return Ticker(lambda: None if self.holds(job, key) else self.send(job, key), seconds)

    def _recover(self, job: Job[Key]) -> None:
        """On a job kind's first use here, queue what a stopped process left queued."""
        with self._lock:
            if job.name in self._jobs:
                return
            self._jobs[job.name] = job
            left = [] if job.left_queued is None else job.left_queued(self._process_started)
        for key in left:
            self._pool.put((job.name, key))

    def _run(self, entry: Entry) -> None:
        name, key = entry
        with self._lock:
            job = self._jobs[name]
        try:
            job.run(key)
            self._between_jobs()
        except Exception:
            # The database itself failed: what the job left Running is failed
            # once its heartbeat is old (docs/architecture.md, the failure model).
            logger.exception("%s %s: job thread failed", name, key)
        finally:
            # Django's connections are per thread: nobody else closes this one.
            connections.close_all()


class Ticker:
    """Calls `tick` every `seconds` on a thread of its own until stopped."""

    def __init__(self, tick: Callable[[], None], seconds: float) -> None:
        self._tick = tick
        self._seconds = seconds
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="embedded-ticker", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                self._tick()
            except Exception:
                logger.exception("embedded ticker: queueing the periodic job failed")


class JobPool(Generic[T]):
    """Runs `job(entry)` for each queued entry, in order, on `threads` threads."""

    def __init__(self, job: Callable[[T], None], *, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"a job pool needs at least one thread, not {threads}")
        self._job = job
        self._threads = threads
        self._waiting: deque[T] = deque()
        self._running: list[T] = []
        self._unfinished = 0  # queued or running
        self._changed = threading.Condition()
        self._started: list[threading.Thread] = []
        self._last_thread_ended: datetime | None = None

    def put(self, entry: T) -> None:
        with self._changed:
            self._start_threads()
            self._waiting.append(entry)
            self._unfinished += 1
            self._changed.notify_all()

    def position(self, entry: T) -> int | None:
        """1 for the next job to start; None when the entry is not waiting here."""
        with self._changed:
            try:
                return self._waiting.index(entry) + 1
            except ValueError:
                return None

    def holds(self, entry: T) -> bool:
        """Whether the entry is waiting or running here: its job is alive."""
        with self._changed:
            return entry in self._running or entry in self._waiting

    def last_served(self) -> datetime | None:
        """Now while a thread lives (or none has started yet: nothing was
        queued): a thread takes the next job as soon as it is free, so a
        living pool always serves its queue. Once every thread has ended (a
        job raised BaseException), when the last one did."""
        with self._changed:
            if not self._started or self.live_threads() > 0:
                return timezone.now()
            return self._last_thread_ended

    def live_threads(self) -> int:
        """The threads serving the queue: all of them until they start (on the first job)."""
        if not self._started:
            return self._threads
        return sum(thread.is_alive() for thread in self._started)

    def join(self, timeout: float) -> bool:
        """Wait until every queued job has finished; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._unfinished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _start_threads(self) -> None:
        if self._started:
            return
        for number in range(1, self._threads + 1):
            name = f"embedded-job-{number}"
            thread = threading.Thread(target=self._serve, name=name, daemon=True)
            thread.start()
            self._started.append(thread)

    def _serve(self) -> None:
        try:
            self._serve_forever()
        finally:
            with self._changed:
                self._last_thread_ended = timezone.now()

    def _serve_forever(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    self._changed.wait()
                entry = self._waiting.popleft()
                self._running.append(entry)
            try:
                self._job(entry)
            except Exception:
                logger.exception("%s: job failed", entry)
            finally:
                with self._changed:
                    self._running.remove(entry)
                    self._unfinished -= 1
                    self._changed.notify_all()
