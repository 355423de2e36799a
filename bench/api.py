"""`python -m bench.api --database-url URL --redis-url URL`: trigger → Complete over HTTP.

Against an already-loaded database: starts gunicorn and a Celery worker with
the production commands of docs/production.md (store_monitoring.devstack), then, for each run, POSTs
trigger_report and polls get_report until the CSV comes back. The figure is
the wall time a client sees, from sending the trigger to holding the CSV.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack

from store_monitoring.devstack import (
    ROOT,
    Api,
    Service,
    free_port,
    running,
    stack_environment,
    web_command,
    worker_command,
    worker_ready,
)

POLL_SECONDS = 0.01  # the client's polling interval: at most this much is added to a run


def measure(
    api: Api, *, as_of: str | None, timeout: float, poll: float = POLL_SECONDS
) -> tuple[float, int]:
    """Seconds from trigger to the Complete CSV, and the CSV's rows."""
    started = time.perf_counter()
    report_id = api.trigger(as_of, force=True)  # a computation each run, never a reused report
    answer = api.wait_finished(report_id, timeout=timeout, poll=poll)
    elapsed = time.perf_counter() - started
    if answer.headers.get("X-Report-Status") != "Complete":
        raise SystemExit(f"bench.api: report {report_id} did not complete: {answer.body!r}")
    return elapsed, answer.body.count(b"\n") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an already-loaded database")
    parser.add_argument("--redis-url", required=True, help="the broker, e.g. redis://…/14")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", help="ISO 8601 instant; default: the latest poll")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per report")
    options = parser.parse_args()
    log_dir = ROOT / "var" / "bench" / "api"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(database_url=options.database_url, redis_url=options.redis_url)
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    with ExitStack() as stack:
        services: list[tuple[str, list[str], Callable[[Service], bool]]] = [
            ("gunicorn", web_command(f"127.0.0.1:{port}"), api.up),
            ("celery-worker", worker_command(), worker_ready),
        ]
        for name, command, ready in services:
            stack.enter_context(running(name, command, env=env, log_dir=log_dir, ready=ready))
        for run in range(1, options.runs + 1):
            seconds, rows = measure(api, as_of=options.as_of, timeout=options.timeout)
            print(
                f"trigger→Complete: {seconds:.2f} s ({rows:,} rows; run {run}/{options.runs}; "
                "gunicorn + Celery + Redis)"
            )


if __name__ == "__main__":
    main()
