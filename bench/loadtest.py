"""`make loadtest`: many clients at once against the production stack, on loopback.

gunicorn, a Celery worker (concurrency 2), Redis and PostgreSQL, started with
the production commands of docs/production.md (store_monitoring.devstack), API keys required,
metrics in multi-process mode, the data at the real set's shape (14,092
polled stores, generated and loaded once into its own database). Reports are
made first until the recent reports listing holds 50 (real jobs, kept for later
runs); then for --seconds, --clients concurrent clients, each on one
kept-alive connection, ask for the latest report's full CSV (70 %) or the
recent reports listing (30 %), while one more client triggers about
--trigger-rate reports a second (answered by reuse, as nothing changes).
Throttles are off: one key makes every request here, far beyond any
per-client limit.

The clients are paced: together they send --rate requests a second, each
client at fixed intervals, so latency is measured at a known load rather than
being the queue that clients sending back to back would build (with 50 of
them, the mean latency of such a closed loop is 50 / throughput, whatever the
server). `--rate 0` lets every client send back to back instead: the
stack's capacity. The clients speak HTTP/1.1 over asyncio streams directly:
on a 2-core machine a full HTTP library's own CPU cost would be measured as
the server's slowness. Like browsers, curl --compressed and Python's HTTP
libraries, they accept gzip; each CSV answer is checked to be the whole
compressed CSV (its length, once its bytes were checked against the CSV),
and not decompressed again (`--identity` asks for the plain CSV instead).

Printed: each target next to the measured figure and whether it is met
(requests/s, p50 and p99 latency and errors per route; what became of the
triggered reports once the stack had --drain-seconds to finish them), how
late the clients' sends were against their schedule, and the CPU time the
load generator and the web server took, with the load average around the run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.__main__ import PG_SERVER, data_set
from store_monitoring.devstack import (
    LOCAL_SECRET_KEY,
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

LOG_DIR = ROOT / "var" / "loadtest"
# Shares of the clients' requests: the finished report's full CSV, the listing.
ROUTES = {"get_report": 0.7, "reports": 0.3}
# Reports made before the run (kept in the database for later runs): the
# listing's default page is full, as on a service in use.
HISTORY = 50
# The targets: (route, figure) → (limit, whether the figure must be at least it).
TARGETS = {
    ("get_report", "req/s"): (200.0, True),
    ("get_report", "p99 ms"): (500.0, False),
    ("reports", "p99 ms"): (50.0, False),
}


class ProtocolError(Exception):
    """The server's answer was not the HTTP/1.1 this client reads."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One kept-alive HTTP/1.1 connection: a request, then its whole answer.

    Reads exactly what the server says it sends: Content-Length bytes, or
    chunks (a report in parts is streamed the first time a process serves
    it); anything else is a ProtocolError.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self._address = (host, port)
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._fixed += f"Host: {host}:{port}\r\n"
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str) -> Answer:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        length = "Content-Length: 0\r\n" if method == "POST" else ""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self._fixed}{length}\r\n".encode())
        try:
            answer = await self._answer(reader)
        except BaseException:
            await self.close()
            raise
        if answer.headers.get("connection", "").lower() == "close":
            await self.close()
        return answer

    async def _answer(self, reader: asyncio.StreamReader) -> Answer:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProtocolError(status_line)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            raise ProtocolError(f"no Content-Length in the answer ({status_line})")
        return Answer(int(parts[1]), headers, body)

    async def _chunks(self, reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            chunks.append((await reader.readexactly(size + 2))[:-2])

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


@dataclass
class Tally:
    """Latencies (seconds), errors, and how late sends were against their schedule."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lateness: list[float] = field(default_factory=list)

    def add(self, seconds: float, error: str | None) -> None:
        self.latencies.append(seconds)
        if error is not None:
            self.errors[error] += 1


@dataclass(frozen=True)
class Expected:
    """What a right answer of each route is: status and, for the CSV, its body."""

    csv: bytes  # as sent: gzipped unless --identity
    encoding: str


def checked(route: str, answer: Answer, expected: Expected) -> str | None:
    """None for a right answer, else what was wrong with it."""
    if answer.status != 200:
        return str(answer.status)
    if route == "get_report":
        if answer.headers.get("content-encoding", "identity") != expected.encoding:
            return "wrong encoding"
        if len(answer.body) != len(expected.csv):
            return "wrong CSV length"
    return None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def figures(tally: Tally, elapsed: float) -> dict[str, float]:
    return {
        "requests": len(tally.latencies),
        "req/s": len(tally.latencies) / elapsed,
        "p50 ms": percentile(tally.latencies, 0.5) * 1000,
        "p99 ms": percentile(tally.latencies, 0.99) * 1000,
    }


def target_text(route: str, measured: dict[str, float]) -> str:
    texts = []
    for (target_route, figure), (limit, at_least) in TARGETS.items():
        if target_route != route:
            continue
        met = measured[figure] >= limit if at_least else measured[figure] <= limit
        sign = "≥" if at_least else "≤"
        texts.append(f"{figure} {sign} {limit:g}: {'met' if met else 'NOT MET'}")
    return "; ".join(texts)


def route_line(route: str, tally: Tally, elapsed: float) -> str:
    errors = ", ".join(f"{code}×{n}" for code, n in sorted(tally.errors.items())) or "0"
    measured = figures(tally, elapsed)
    return (
        f"{route:<16}{measured['requests']:>10,.0f}{measured['req/s']:>9.1f}"
        f"{measured['p50 ms']:>9.1f}{measured['p99 ms']:>9.1f}  {errors:<10}"
        f"{target_text(route, measured)}"
    )


def loaded_database(name: str) -> str:
    """The URL of database `name`, holding the real shape's data (loaded once)."""
    url = f"{PG_SERVER}/{name}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SECRET_KEY": LOCAL_SECRET_KEY}
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


def new_api_key(database_url: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SECRET_KEY": LOCAL_SECRET_KEY}
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
    connection: Connection,
    paths: dict[str, str],
    expected: Expected,
    interval: float,
    deadline: float,
    tallies: dict[str, Tally],
) -> None:
    """Requests at one every `interval` seconds (0: back to back) until the deadline."""
    rng = random.Random()
    next_at = time.monotonic() + rng.uniform(0, interval)  # spread the clients' phases
    try:
        # Ends at the deadline even behind schedule: the figures are of --seconds.
        while next_at < deadline and time.monotonic() < deadline:
            route = rng.choices(list(ROUTES), weights=list(ROUTES.values()))[0]
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            tallies[route].lateness.append(max(0.0, time.monotonic() - next_at))
            await timed_request(connection, "GET", paths[route], tallies[route], route, expected)
            next_at = next_at + interval if interval else time.monotonic()
    finally:
        await connection.close()


async def timed_request(
    connection: Connection,
    method: str,
    path: str,
    tally: Tally,
    route: str,
    expected: Expected,
) -> Answer | None:
    started = time.perf_counter()
    try:
        answer = await connection.request(method, path)
    except (OSError, asyncio.IncompleteReadError, ProtocolError) as error:
        tally.add(time.perf_counter() - started, type(error).__name__)
        return None
    tally.add(time.perf_counter() - started, checked(route, answer, expected))
    return answer


async def triggerer(
    connection: Connection, rate: float, deadline: float, tally: Tally, triggered: list[str]
) -> None:
    next_at = time.monotonic()
    expected = Expected(b"", "identity")
    try:
        while next_at < deadline:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            path = "/api/monitor/trigger_report"
            answer = await timed_request(connection, "POST", path, tally, "trigger", expected)
            if answer is not None and answer.status == 200:
                triggered.append(json.loads(answer.body)["report_id"])
            next_at += 1 / rate
    finally:
        await connection.close()


async def load(
    port: int, key: str, report_id: str, expected: Expected, options: argparse.Namespace
) -> tuple[dict[str, Tally], list[str], float]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    triggered: list[str] = []
    headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": expected.encoding}
    paths = {
        "get_report": f"/api/monitor/get_report/{report_id}",
        "reports": "/api/monitor/reports",
    }
    interval = options.clients / options.rate if options.rate else 0.0
    started = time.monotonic()
    deadline = started + options.seconds
    await asyncio.gather(
        triggerer(
            Connection("127.0.0.1", port, headers),
            options.trigger_rate,
            deadline,
            tallies["trigger_report"],
            triggered,
        ),
        *(
            client(
                Connection("127.0.0.1", port, headers), paths, expected, interval, deadline, tallies
            )
            for _ in range(options.clients)
        ),
    )
    return tallies, triggered, time.monotonic() - started


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes `pids` have taken so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def web_pids(web: Service) -> list[int]:
    return [web.process.pid, *web.children()]


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


def made_history(api: Api, count: int) -> int:
    """Make reports (real jobs) until the recent reports are `count`; how many it made."""
    listed = len(api.request("GET", f"/api/monitor/reports?limit={count}").json()["reports"])
    report_ids = [api.trigger(force=True) for _ in range(count - listed)]
    for report_id in report_ids:
        api.wait_finished(report_id, timeout=600, poll=0.5)
    return len(report_ids)


def machine_busy() -> tuple[float, float]:
    """Seconds of all cores so far: (busy, total), from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


async def expected_answer(
    port: int, key: str, report_id: str, plain: bytes, identity: bool
) -> Expected:
    """The CSV answer as the clients will get it, checked against the plain CSV once."""
    encoding = "identity" if identity else "gzip"
    connection = Connection(
        "127.0.0.1", port, {"Authorization": f"Bearer {key}", "Accept-Encoding": encoding}
    )
    answer = await connection.request("GET", f"/api/monitor/get_report/{report_id}")
    await connection.close()
    body = answer.body if identity else gzip.decompress(answer.body)
    if answer.status != 200 or body != plain:
        raise SystemExit(f"loadtest: the {encoding} CSV is not the report's CSV")
    return Expected(answer.body, encoding)


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
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="requests per second of all clients together (0: each client back to back)",
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--trigger-rate", type=float, default=1.0, help="triggers per second")
    parser.add_argument("--identity", action="store_true", help="ask for the CSV uncompressed")
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
        DJANGO_SECRET_KEY=LOCAL_SECRET_KEY,
        API_KEYS_REQUIRED="true",
        # made_history queues its reports at once, all with the one key.
        REPORT_MAX_QUEUED_PER_KEY="1000",
        CACHE_URL=options.redis_url,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}", key=key)
    with ExitStack() as stack:
        web = stack.enter_context(
            running(
                "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=LOG_DIR, ready=api.up
            )
        )
        stack.enter_context(
            running("celery-worker", worker_command(), env=env, log_dir=LOG_DIR, ready=worker_ready)
        )
        made = made_history(api, HISTORY)
        report_id = api.trigger()
        first = api.wait_finished(report_id, timeout=300, poll=0.2)
        rows = first.body.count(b"\n") - 1
        expected = asyncio.run(expected_answer(port, key, report_id, first.body, options.identity))
        if made:
            print(f"loadtest: made {made} reports, so that the listing holds {HISTORY}")
        print(
            f"loadtest: report {report_id} Complete ({rows:,} rows, {len(first.body):,} bytes "
            f"of CSV, sent as {len(expected.csv):,} bytes of {expected.encoding})"
        )
        pace = f"{options.rate:g} requests/s in all" if options.rate else "back to back"
        print(
            f"loadtest: {options.clients} clients for {options.seconds:.0f} s, {pace}, "
            f"{options.trigger_rate:g} trigger/s; load average before: {load_average()}"
        )
        web_cpu, own_cpu, machine = cpu_seconds(web_pids(web)), time.process_time(), machine_busy()
        tallies, triggered, elapsed = asyncio.run(load(port, key, report_id, expected, options))
        web_cpu = cpu_seconds(web_pids(web)) - web_cpu
        own_cpu = time.process_time() - own_cpu
        busy, total = (now - then for now, then in zip(machine_busy(), machine, strict=True))
        columns = f"{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        print(f"{'route':<16}{columns}  {'errors':<10}target")
        for route, tally in sorted(tallies.items()):
            print(route_line(route, tally, elapsed))
        late = [seconds for tally in tallies.values() for seconds in tally.lateness]
        print(
            f"sends behind schedule: p50 {percentile(late, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(late, 0.99) * 1000:.1f} ms (a client waits for its previous answer)"
        )
        print(
            f"CPU: gunicorn {web_cpu:.1f} s, load generator {own_cpu:.1f} s, whole machine "
            f"{busy:.1f} s of {total:.1f} s ({busy / total:.0%} busy) over {elapsed:.0f} s; "
            f"load average after: {load_average()}"
        )
        errors = sum(sum(tally.errors.values()) for tally in tallies.values())
        print(f"errors: {errors} (target 0: {'met' if errors == 0 else 'NOT MET'})")
        # Triggers for the same instant and data answer one report (reuse).
        reports = sorted(set(triggered))
        counts = outcome(api, reports, options.drain_seconds)
        summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        unfinished = counts.get("lost", 0) + counts.get("left Running", 0)
        print(
            f"{len(triggered)} triggers answered {len(reports)} distinct reports: {summary} "
            f"(target: 0 lost or left Running: {'met' if unfinished == 0 else 'NOT MET'})"
        )


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
