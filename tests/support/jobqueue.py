"""A job queue for tests (monitor.jobqueue.base.JobQueue): it holds what the
services send, as a broker does, and runs it when the test says so, in the
test's thread. No Celery, no threads, no settings flipped mid-test."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from monitor.jobqueue import Job, QueueUnavailableError
from monitor.jobqueue.base import Key


class FakeQueue:
    """Behaves as Celery's queue does for the services (it may refuse a job,
    and a job's own jobs wait here); `refusing` makes it refuse, as an
    unreachable broker does."""

    may_refuse = True
    fans_out = True

    def __init__(self) -> None:
        self.waiting: deque[tuple[Job[Any], Any]] = deque()
        self.refusing = False
        # Its workers, as the test sets them: one, serving the queue now
        # unless `served_at` says when it last did (None: never).
        self.workers = 1
        self.served_at: datetime | None = None
        self.serving = True
        # Every delayed send: its kind's name, key and delay (it waits with the others).
        self.delays: list[tuple[str, Any, float]] = []

    def send(self, job: Job[Key], key: Key, *, delay_seconds: float = 0) -> None:
        self.run_each(job, [key])
        if delay_seconds > 0:
            self.delays.append((job.name, key, delay_seconds))

    def run_each(self, job: Job[Key], keys: Sequence[Key]) -> None:
        if self.refusing:
            raise QueueUnavailableError(job.name)
        self.waiting.extend((job, key) for key in keys)

    def holds(self, job: Job[Key], key: Key) -> bool:
        return False  # as Celery's: the broker is never asked

    def position(self, job: Job[Key], key: Key) -> int | None:
        return None

    def answers(self) -> bool:
        return not self.refusing

    def last_served(self) -> datetime | None:
        return timezone.now() if self.serving else self.served_at

    def live_workers(self) -> int:
        return self.workers

    def keys(self, job: Job[Key]) -> list[Key]:
        """The keys of `job` waiting, in order."""
        return [key for kind, key in self.waiting if kind.name == job.name]

    def drop(self) -> None:
        """Lose every waiting job, as a broker restarted without persistence does."""
        self.waiting.clear()

    def run_all(self) -> int:
        """Run the waiting jobs in order, and those they send, until none is
        left; how many ran."""
        ran = 0
        while self.waiting:
            job, key = self.waiting.popleft()
            job.run(key)
            ran += 1
        return ran
