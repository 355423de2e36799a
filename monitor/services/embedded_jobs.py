"""Report jobs without a broker: a FIFO queue served by a small fixed pool of threads.

Each web process of the embedded set-up (no CELERY_BROKER_URL) has one pool
of REPORT_EMBEDDED_THREADS threads, started on first use (after a server's
fork), so a burst of triggers only lengthens the queue: it never adds a
thread, and a report's memory is taken by at most that many jobs at a time.
The queue holds report ids only; the reports themselves are rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)


class JobPool:
    """Runs `job(report_id)` for each queued id, in order, on `threads` threads."""

    def __init__(self, job: Callable[[str], None], *, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"a job pool needs at least one thread, not {threads}")
        self._job = job
        self._threads = threads
        self._waiting: deque[str] = deque()
        self._running: set[str] = set()
        self._unfinished = 0  # queued or running
        self._changed = threading.Condition()
        self._started = False

    def put(self, report_id: str) -> None:
        with self._changed:
            self._start_threads()
            self._waiting.append(report_id)
            self._unfinished += 1
            self._changed.notify_all()

    def position(self, report_id: str) -> int | None:
        """1 for the next job to start; None when the id is not waiting here."""
        with self._changed:
            try:
                return self._waiting.index(report_id) + 1
            except ValueError:
                return None

    def holds(self, report_id: str) -> bool:
        """Whether the id is waiting or running here: its job is alive."""
        with self._changed:
            return report_id in self._running or report_id in self._waiting

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
            threading.Thread(target=self._serve, name=f"report-job-{number}", daemon=True).start()
        self._started = True

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    self._changed.wait()
                report_id = self._waiting.popleft()
                self._running.add(report_id)
            try:
                self._job(report_id)
            except Exception:
                logger.exception("report %s: job failed", report_id)
            finally:
                with self._changed:
                    self._running.discard(report_id)
                    self._unfinished -= 1
                    self._changed.notify_all()
