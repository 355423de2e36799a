"""`python -m bench.ingest --database-url URL --data DIR`: polls sent over HTTP.

Against gunicorn started with the README's production command
(tests.support.stack) on a fresh PostgreSQL database whose zones and hours are
imported first, three workloads, each a client's view (wall time from sending
to the answer):

1. bulk: every poll of DIR/store_status.csv, POSTed as JSON in batches of
   10,000 by two clients at once (one a gunicorn worker): polls/s;
2. one hour: an hour of polls of every store (one a store, the real poll
   rate) in one JSON request: seconds per request;
3. single polls: 20 concurrent clients, each POSTing one poll at a time,
   paced at a steady rate (pollers report on a clock, not as fast as they
   can): latency percentiles; also unpaced, for the throughput.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from tests.support.stack import ROOT, Api, free_port, running, stack_environment, web_command

BATCH = 10_000
BULK_CLIENTS = 2
SINGLE_CLIENTS = 20


class Client:
    """One HTTP client (its own connection): POST a body, get the answer's status and JSON."""

    def __init__(self, base_url: str) -> None:
        self.netloc = urlsplit(base_url).netloc

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> dict:
        connection = http.client.HTTPConnection(self.netloc, timeout=120)
        try:
            connection.request("POST", path, body, {"Content-Type": content_type})
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise SystemExit(f"bench.ingest: {path} answered {response.status}: {answer[:500]!r}")
        return orjson.loads(answer)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bulk(api: str, polls: list[dict[str, str]]) -> None:
    bodies = [orjson.dumps(polls[i : i + BATCH]) for i in range(0, len(polls), BATCH)]
    loaded = 0
    lock = threading.Lock()

    def send(body: bytes) -> None:
        nonlocal loaded
        answer = Client(api).post("/api/monitor/polls", body)
        with lock:
            loaded += answer["loaded"]

    started = time.perf_counter()
    with ThreadPoolExecutor(BULK_CLIENTS) as pool:
        list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    print(
        f"ingest bulk: {len(polls):,} polls in {len(bodies)} JSON requests of {BATCH:,} "
        f"({BULK_CLIENTS} clients): {seconds:.2f} s, {len(polls) / seconds:,.0f} polls/s "
        f"({loaded:,} new)"
    )


def latest_polls(polls: list[dict[str, str]]) -> tuple[list[str], datetime]:
    stores = sorted({poll["store_id"] for poll in polls})
    latest = max(_instant(poll["timestamp_utc"]) for poll in polls)
    return stores, latest


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix(" UTC")).replace(tzinfo=UTC)


def one_hour(api: str, stores: list[str], after: datetime, runs: int) -> datetime:
    """`runs` requests, each an hour of polls of every store; the last instant sent."""
    client = Client(api)
    for run in range(1, runs + 1):
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
        seconds = time.perf_counter() - started
        print(
            f"ingest one hour: {answer['loaded']:,} polls in one JSON request "
            f"({len(body) / 1e6:.1f} MB): {seconds:.3f} s (run {run}/{runs})"
        )
    return after + timedelta(hours=runs + 1)


def single_polls(
    api: str, stores: list[str], after: datetime, *, per_client: int, rate: float
) -> None:
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

    started = time.perf_counter()
    with ThreadPoolExecutor(SINGLE_CLIENTS) as pool:
        list(pool.map(client_run, range(SINGLE_CLIENTS)))
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    pace = f"{rate:g} requests/s each" if rate else "unpaced"
    print(
        f"ingest single polls: {SINGLE_CLIENTS} clients ({pace}), {len(latencies):,} requests, "
        f"{len(latencies) / seconds:,.0f} requests/s: p50 {cuts[49] * 1000:.1f} ms, "
        f"p90 {cuts[89] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms"
    )


@contextmanager
def gunicorn(database_url: str) -> Iterator[str]:
    log_dir = ROOT / "var" / "bench" / "ingest"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(database_url=database_url, redis_url="")
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    with running(
        "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=log_dir, ready=api.up
    ):
        yield api.base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="zones and hours loaded, no polls")
    parser.add_argument("--data", type=Path, required=True, help="holds store_status.csv")
    parser.add_argument("--rate", type=float, default=1.0, help="single polls/s per client")
    options = parser.parse_args()
    polls = read_rows(options.data / "store_status.csv")
    stores, latest = latest_polls(polls)
    with gunicorn(options.database_url) as api:
        bulk(api, polls)
        after = one_hour(api, stores, latest, runs=3)
        single_polls(api, stores, after, per_client=30, rate=options.rate)
        single_polls(api, stores, after + timedelta(hours=1), per_client=100, rate=0)


if __name__ == "__main__":
    main()
