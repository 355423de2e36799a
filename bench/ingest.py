"""`python -m bench.ingest --database-url URL --data DIR`: polls sent over HTTP.

Against gunicorn started with the production command of docs/production.md
(store_monitoring.devstack) on a fresh PostgreSQL database whose zones and hours are
imported first, three workloads, each a client's view (wall time from sending
to the answer):

1. bulk: every poll of DIR/store_status.csv, POSTed as JSON in batches of
   10,000 by four clients at once (while a request's transaction runs in
   PostgreSQL, gunicorn parses another's JSON): polls/s;
2. one hour: an hour of polls of every store (one a store, the real poll
   rate) in one JSON request: seconds per request;
3. single polls: 20 concurrent clients, each POSTing one poll at a time,
   paced at a steady rate (pollers report on a clock, not as fast as they
   can): latency percentiles; also unpaced, for the throughput.

Each workload also prints the CPU time it cost the client, the gunicorn
workers and the database's server processes (read from /proc): unlike wall
times, those hardly depend on what else the machine runs; and how long the
server's processes, ready to run, waited for a CPU that other processes held.
At the end, each target of issue 10 next to its measured figure, with the
load average.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import resource
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg

from store_monitoring.devstack import (
    ROOT,
    Api,
    Service,
    free_port,
    running,
    stack_environment,
    web_command,
)

BATCH = 10_000
SINGLE_CLIENTS = 20
ONE_HOUR_RUNS = 3


@dataclass(frozen=True)
class Target:
    workload: str
    goal: str
    measured: str
    met: bool


class Client:
    """One HTTP client (its own connection): POST a body, get the answer's status and JSON."""

    def __init__(self, base_url: str) -> None:
        self.netloc = urlsplit(base_url).netloc

    def post(
        self, path: str, body: bytes, content_type: str = "application/json"
    ) -> dict[str, Any]:
        connection = http.client.HTTPConnection(self.netloc, timeout=120)
        try:
            connection.request("POST", path, body, {"Content-Type": content_type})
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise SystemExit(f"bench.ingest: {path} answered {response.status}: {answer[:500]!r}")
        parsed: dict[str, Any] = orjson.loads(answer)
        return parsed


# side → pid → (seconds on a CPU, seconds runnable but waiting for one)
CpuSample = dict[str, dict[int, tuple[float, float]]]


class CpuMeter:
    """CPU seconds spent by this client, the gunicorn processes and the database's
    server processes (its backends), between two samples; and how long the server's
    processes were ready to run but waited for a CPU that others held.

    Backends are found in pg_stat_activity; Django keeps its connections
    (DATABASE_CONN_MAX_AGE), so the same ones serve a whole workload. Needs a
    Linux /proc this user may read: elsewhere, no figures.
    """

    def __init__(self, gunicorn: Service, database_url: str) -> None:
        self.gunicorn = gunicorn
        self.database = psycopg.connect(database_url, autocommit=True)

    def sample(self) -> CpuSample | None:
        try:
            server = [self.gunicorn.process.pid, *self.gunicorn.children()]
            backends = [
                pid
                for (pid,) in self.database.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {
                "client": {0: (usage.ru_utime + usage.ru_stime, 0.0)},
                "gunicorn": {pid: _scheduled_seconds(pid) for pid in server},
                "PostgreSQL": {pid: _scheduled_seconds(pid) for pid in backends},
            }
        except OSError:
            return None

    def spent_since(self, before: CpuSample | None, items: int, per: int, noun: str) -> str:
        """The CPU each side spent since `before` on `items` (polls or requests), per
        `per` of them."""
        after = self.sample()
        if before is None or after is None:
            return "  no CPU figures (no /proc to read)"
        spent = {
            side: [
                sum(now[n] - before[side].get(pid, (0.0, 0.0))[n] for pid, now in pids.items())
                * per
                / items
                for n in (0, 1)
            ]
            for side, pids in after.items()
        }
        total = sum(cpu for cpu, _ in spent.values())
        waited = sum(wait for _, wait in spent.values())
        parts = ", ".join(f"{side} {cpu * 1000:.1f} ms" for side, (cpu, _) in spent.items())
        unit = f"{per:,} {noun}" if per > 1 else noun.removesuffix("s")
        cores = os.cpu_count() or 1
        return (
            f"  CPU per {unit}: {parts} ({total * 1000:.1f} ms in all: at most "
            f"{cores * per / total:,.0f} {noun}/s on {cores} idle cores); the server's "
            f"processes waited {waited * 1000:.1f} ms more for a CPU"
        )


def _scheduled_seconds(pid: int) -> tuple[float, float]:
    """Seconds a live process's threads spent on a CPU, and runnable waiting for one
    (0 if it has gone)."""
    on_cpu = waiting = 0.0
    for stats in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            run, wait, _ = stats.read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        on_cpu += int(run) / 1e9
        waiting += int(wait) / 1e9
    return on_cpu, waiting


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bulk(api: str, polls: list[dict[str, str]], clients: int, meter: CpuMeter) -> Target:
    bodies = [orjson.dumps(polls[i : i + BATCH]) for i in range(0, len(polls), BATCH)]
    loaded = 0
    lock = threading.Lock()

    def send(body: bytes) -> None:
        nonlocal loaded
        answer = Client(api).post("/api/monitor/polls", body)
        with lock:
            loaded += answer["loaded"]

    cpu = meter.sample()
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    rate = len(polls) / seconds
    print(
        f"ingest bulk: {len(polls):,} polls in {len(bodies)} JSON requests of {BATCH:,} "
        f"({clients} clients): {seconds:.2f} s, {rate:,.0f} polls/s "
        f"({loaded:,} new; load average {load()})"
    )
    print(meter.spent_since(cpu, len(polls), BATCH, "polls"))
    return Target(
        f"{len(polls):,} polls in batches of {BATCH:,} ({clients} clients)",
        "≥ 100,000 polls/s",
        f"{rate:,.0f} polls/s",
        rate >= 100_000,
    )


def latest_polls(polls: list[dict[str, str]]) -> tuple[list[str], datetime]:
    stores = sorted({poll["store_id"] for poll in polls})
    latest = max(_instant(poll["timestamp_utc"]) for poll in polls)
    return stores, latest


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix(" UTC")).replace(tzinfo=UTC)


def one_hour(
    api: str, stores: list[str], after: datetime, meter: CpuMeter
) -> tuple[Target, datetime]:
    """ONE_HOUR_RUNS requests, each an hour of polls of every store; the last instant sent."""
    client = Client(api)
    times = []
    cpu = meter.sample()
    for run in range(1, ONE_HOUR_RUNS + 1):
        hour = after + timedelta(hours=run)
        body = orjson.dumps(
            [
                {
                    "store_id": store,
                    "status": "active" if n % 7 else "inactive",
                    "timestamp_utc": f"{(hour + timedelta(seconds=n % 3600)).isoformat()}",
                }
                for n, store in enumerate(stores)
            ]
        )
        started = time.perf_counter()
        answer = client.post("/api/monitor/polls", body)
        times.append(time.perf_counter() - started)
        print(
            f"ingest one hour: {answer['loaded']:,} polls in one JSON request "
            f"({len(body) / 1e6:.1f} MB): {times[-1]:.3f} s "
            f"(run {run}/{ONE_HOUR_RUNS}; load average {load()})"
        )
    print(meter.spent_since(cpu, ONE_HOUR_RUNS, 1, "requests"))
    target = Target(
        f"one hour of polls ({len(stores):,}) in one JSON request, slowest of {ONE_HOUR_RUNS}",
        "≤ 1.0 s",
        f"{max(times):.3f} s",
        max(times) <= 1.0,
    )
    return target, after + timedelta(hours=ONE_HOUR_RUNS + 1)


def single_polls(
    api: str, stores: list[str], after: datetime, meter: CpuMeter, *, per_client: int, rate: float
) -> Target:
    """SINGLE_CLIENTS clients, one poll a request; `rate` requests/s each (0: unpaced)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client_run(number: int) -> None:
        client = Client(api)
        interval = 1 / rate if rate else 0.0
        next_at = time.perf_counter() + interval * number / SINGLE_CLIENTS  # staggered starts
        mine = []
        for n in range(per_client):
            if interval:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
            poll = {
                "store_id": stores[(number * per_client + n) % len(stores)],
                "status": "active",
                "timestamp_utc": (after + timedelta(seconds=number * per_client + n)).isoformat(),
            }
            started = time.perf_counter()
            client.post("/api/monitor/polls", orjson.dumps([poll]))
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    pace = f"{rate:g} requests/s each" if rate else "unpaced"
    cpu = meter.sample()
    started = time.perf_counter()
    with ThreadPoolExecutor(SINGLE_CLIENTS) as pool:
        list(pool.map(client_run, range(SINGLE_CLIENTS)))
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    p99 = cuts[98] * 1000
    print(
        f"ingest single polls: {SINGLE_CLIENTS} clients ({pace}), {len(latencies):,} requests, "
        f"{len(latencies) / seconds:,.0f} requests/s: p50 {cuts[49] * 1000:.1f} ms, "
        f"p90 {cuts[89] * 1000:.1f} ms, p99 {p99:.1f} ms (load average {load()})"
    )
    print(meter.spent_since(cpu, len(latencies), 1, "requests"))
    return Target(
        f"single polls, {SINGLE_CLIENTS} clients ({pace}): p99",
        "≤ 30 ms",
        f"{p99:.1f} ms",
        p99 <= 30,
    )


@contextmanager
def gunicorn(database_url: str) -> Iterator[tuple[str, Service]]:
    log_dir = ROOT / "var" / "bench" / "ingest"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(database_url=database_url, redis_url="")
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    with running(
        "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=log_dir, ready=api.up
    ) as service:
        yield api.base_url, service


def print_targets(targets: list[Target], load_before: str) -> None:
    print(
        f"ingest targets (issue 10; load average {load_before} before, {load()} after, "
        f"{os.cpu_count()} cores):"
    )
    width = max(len(target.workload) for target in targets)
    for target in targets:
        verdict = "met" if target.met else "NOT MET"
        print(f"  {target.workload:<{width}}  {target.goal:<17} {target.measured:>16}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="zones and hours loaded, no polls")
    parser.add_argument("--data", type=Path, required=True, help="holds store_status.csv")
    parser.add_argument("--rate", type=float, default=1.0, help="single polls/s per client")
    parser.add_argument("--bulk-clients", type=int, default=4, help="bulk's concurrent clients")
    options = parser.parse_args()
    polls = read_rows(options.data / "store_status.csv")
    stores, latest = latest_polls(polls)
    load_before = load()
    with gunicorn(options.database_url) as (api, service):
        meter = CpuMeter(service, options.database_url)
        targets = [bulk(api, polls, options.bulk_clients, meter)]
        target, after = one_hour(api, stores, latest, meter)
        targets.append(target)
        targets.append(single_polls(api, stores, after, meter, per_client=30, rate=options.rate))
        single_polls(api, stores, after + timedelta(hours=1), meter, per_client=100, rate=0)
    print_targets([targets[1], targets[0], targets[2]], load_before)


if __name__ == "__main__":
    main()
