"""What every job queue (monitor.tasks for Celery, monitor.jobqueue.embedded) provides.

A job is a named function of one key (a report's id, a part's id): the key
is all a queue carries, the rest is rows in the database, so that any
process can run any job. See docs/architecture.md (the failure model) for
what each back-end does when a worker or the queue itself is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

Key = TypeVar("Key", str, int)


class QueueUnavailableError(RuntimeError):
    """The queue refused the job (the broker is unreachable or failed)."""


@dataclass(frozen=True)
class Job(Generic[Key]):
    """A kind of job: what runs for one key, under which name."""

    # Its Celery task's name: a web process sends by name, without the worker's code.
    name: str
    run: Callable[[Key], None]
    # The keys of the jobs of this kind still waiting in some process's
    # in-memory queue (the embedded one) that stopped before `process_started`:
    # the embedded queue queues them again on first use. None: nothing to recover.
    left_queued: Callable[[datetime], list[Key]] | None = None


class JobQueue(Protocol):
    """Where jobs go to run; monitor.jobqueue.current() picks the back-end."""

    # Whether send() may fail (QueueUnavailableError): it publishes to a
    # broker. False for a queue in this process's memory, which takes a job at once.
    may_refuse: bool
    # Whether run_each() spreads the jobs over the workers through the queue,
    # where they may wait behind other jobs (a backlog: no fault); False: it
    # runs them one after another in the calling thread.
    fans_out: bool

    def send(self, job: Job[Key], key: Key, *, delay_seconds: float = 0) -> None:
        """Queue `job` for `key`, to start no sooner than `delay_seconds` from
        now (a retry's backoff); raises QueueUnavailableError when refused. A
        delayed job is held by the queue meanwhile: a queue that loses it (a
        stopped process) never runs it, so its service must be able to find
        and send it again (a notification's delivery: the periodic catch-up)."""
        ...

    def run_each(self, job: Job[Key], keys: Sequence[Key]) -> None:
        """Run `job` for each key (see fans_out); raises QueueUnavailableError
        when the queue refused them."""
        ...

    def holds(self, job: Job[Key], key: Key) -> bool:
        """Whether the job is known to wait or run here; False when the queue
        cannot tell (a broker is never asked: reads never wait on it)."""
        ...

    def position(self, job: Job[Key], key: Key) -> int | None:
        """1 for the next job to start, when the queue can tell; else None."""
        ...

    def answers(self) -> bool:
        """Whether the queue can take jobs now: its broker answers (within a
        short bound); a queue in this process's memory always can."""
        ...

    def last_served(self) -> datetime | None:
        """When a worker last served the queue: took a job from it, was busy
        with every process, or was idle with no job waiting (services.workers);
        None when none ever did, as far as the queue knows. Never asks a broker."""
        ...

    def live_workers(self) -> int:
        """The workers serving the queue now (Celery's: worker nodes; the
        embedded queue's: this process's job threads)."""
        ...
