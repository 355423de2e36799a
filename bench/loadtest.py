"""`make loadtest`: many clients at once against the production stack, on loopback.

gunicorn (2 workers), a Celery worker (concurrency 2), Redis and PostgreSQL,
started with the README's production commands (tests.support.stack), API keys
required, metrics in multi-process mode, the data at the real set's shape
(14,092 polled stores, generated and loaded once into its own database). One
report is made first; then for --seconds, --clients concurrent clients
(Python asyncio + httpx, one connection each) ask for that report's full CSV
or the recent reports listing, while one more client triggers about
--trigger-rate reports a second. Throttles are off: one key makes every
request here, far beyond any per-client limit.

Printed: requests/s, p50 and p99 latency and errors per route, then what
became of the triggered reports (Complete, Failed, lost, left Running once
the stack had --drain-seconds to finish them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
import psycopg

from bench.__main__ import PG_SERVER, data_set
from tests.support.stack import (
    LOCAL_SECRET_KEY,
    ROOT,
    Api,
    free_port,
    running,
    stack_environment,
    web_command,
    worker_command,
    worker_ready,
)

LOG_DIR = ROOT / "var" / "loadtest"
# Shares of the clients' requests: the finished report's full CSV, the listing.
ROUTES = {"get_report": 0.7, "reports": 0.3}


@dataclass
class Tally:
    """Latencies (seconds) and errors of one route."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, seconds: float, error: str | None) -> None:
        self.latencies.append(seconds)
        if error is not None:
            self.errors[error] += 1


def route_line(route: str, tally: Tally, elapsed: float) -> str:
    errors = ", ".join(f"{code}×{n}" for code, n in sorted(tally.errors.items())) or "0"
    count = len(tally.latencies)
    p50, p99 = (percentile(tally.latencies, share) * 1000 for share in (0.5, 0.99))
    return f"{route:<16}{count:>10,}{count / elapsed:>9.1f}{p50:>9.1f}{p99:>9.1f}  {errors}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def loaded_database(name: str) -> str:
    """The URL of database `name`, holding the real shape's data (loaded once)."""
    url = f"{PG_SERVER}/{name}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SECRET_KEY": key_secret()}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(url) as database:
        loaded = database.execute("SELECT EXISTS (SELECT 1 FROM monitor_statuspoll)").fetchone()
    if loaded is not None and loaded[0]:
        return url
    data = data_set(1)
    print(f"loadtest: loading {data} into {name} (once)", flush=True)
    subprocess.run(
        [
            *manage,
            "import_data",
            "--timezones",
            str(data / "timezones.csv"),
            "--hours",
            str(data / "menu_hours.csv"),
            "--status",
            str(data / "store_status.csv"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return url


def key_secret() -> str:
    return os.environ.get("DJANGO_SECRET_KEY", LOCAL_SECRET_KEY)


def new_api_key(database_url: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SECRET_KEY": key_secret()}
    output = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", f"loadtest-{time.time_ns()}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.splitlines()[-1]


async def client(
    http: httpx.AsyncClient, report_id: str, deadline: float, tallies: dict[str, Tally]
) -> None:
    rng = random.Random()
    paths = {
        "get_report": f"/api/monitor/get_report/{report_id}",
        "reports": "/api/monitor/reports",
    }
    while time.monotonic() < deadline:
        route = rng.choices(list(ROUTES), weights=list(ROUTES.values()))[0]
        await timed_request(http, "GET", paths[route], tallies[route])


async def timed_request(
    http: httpx.AsyncClient, method: str, path: str, tally: Tally
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await http.request(method, path)
        await response.aread()
    except httpx.HTTPError as error:
        tally.add(time.perf_counter() - started, type(error).__name__)
        return None
    tally.add(
        time.perf_counter() - started,
        None if response.status_code == 200 else str(response.status_code),
    )
    return response


async def triggerer(
    http: httpx.AsyncClient, rate: float, deadline: float, tally: Tally, triggered: list[str]
) -> None:
    next_at = time.monotonic()
    while next_at < deadline:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        response = await timed_request(http, "POST", "/api/monitor/trigger_report", tally)
        if response is not None and response.status_code == 200:
            triggered.append(response.json()["report_id"])
        next_at += 1 / rate


async def load(
    base_url: str, key: str, report_id: str, options: argparse.Namespace
) -> tuple[dict[str, Tally], list[str], float]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    triggered: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    started = time.monotonic()
    deadline = started + options.seconds
    clients = []
    for _ in range(options.clients):
        http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)
        clients.append(http)
    trigger_http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)
    try:
        await asyncio.gather(
            triggerer(
                trigger_http, options.trigger_rate, deadline, tallies["trigger_report"], triggered
            ),
            *(client(http, report_id, deadline, tallies) for http in clients),
        )
    finally:
        for http in [*clients, trigger_http]:
            await http.aclose()
    return tallies, triggered, time.monotonic() - started


def outcome(api: Api, report_ids: list[str], drain_seconds: float) -> dict[str, int]:
    """How the triggered reports ended, once the stack had drain_seconds to finish them."""
    deadline = time.monotonic() + drain_seconds
    statuses: dict[str, str] = {}
    while True:
        for report_id in report_ids:
            if statuses.get(report_id) not in (None, "Running"):
                continue
            answer = api.request("GET", f"/api/monitor/get_report/{report_id}")
            statuses[report_id] = (
                "lost"
                if answer.status == 404
                else answer.headers.get("X-Report-Status", str(answer.status))
            )
        if "Running" not in statuses.values() or time.monotonic() > deadline:
            break
        time.sleep(1)
    counts: dict[str, int] = defaultdict(int)
    for status in statuses.values():
        counts["left Running" if status == "Running" else status] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default="store_monitoring_loadtest",
        help="PostgreSQL database name (created and loaded once)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--trigger-rate", type=float, default=1.0, help="triggers per second")
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    options = parser.parse_args()

    database_url = loaded_database(options.database)
    key = new_api_key(database_url)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    metrics_dir = LOG_DIR / "metrics"
    metrics_dir.mkdir(exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    env = stack_environment(
        database_url=database_url,
        redis_url=options.redis_url,
        DJANGO_SECRET_KEY=key_secret(),
        API_KEYS_REQUIRED="true",
        CACHE_URL=options.redis_url,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}", key=key)
    with ExitStack() as stack:
        stack.enter_context(
            running(
                "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=LOG_DIR, ready=api.up
            )
        )
        stack.enter_context(
            running("celery-worker", worker_command(), env=env, log_dir=LOG_DIR, ready=worker_ready)
        )
        report_id = api.trigger()
        first = api.wait_finished(report_id, timeout=300, poll=0.2)
        rows, size = first.body.count(b"\n") - 1, len(first.body)
        print(f"loadtest: report {report_id} Complete ({rows:,} rows, {size:,} bytes of CSV)")
        print(
            f"loadtest: {options.clients} clients for {options.seconds:.0f} s, "
            f"{options.trigger_rate:g} trigger/s"
        )
        tallies, triggered, elapsed = asyncio.run(load(api.base_url, key, report_id, options))
        print(f"{'route':<16}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  errors")
        for route, tally in sorted(tallies.items()):
            print(route_line(route, tally, elapsed))
        # Triggers for the same instant and data answer one report (reuse).
        reports = sorted(set(triggered))
        counts = outcome(api, reports, options.drain_seconds)
        summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        print(f"{len(triggered)} triggers answered {len(reports)} distinct reports: {summary}")


if __name__ == "__main__":
    main()
