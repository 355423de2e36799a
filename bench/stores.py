"""`python -m bench.stores --database-url URL`: latency of the store API over HTTP.

Against an already-loaded database: starts gunicorn with the production
command of docs/production.md (store_monitoring.devstack), picks stores at
random from the store list, then GETs each store's story (as of the latest
poll) one request at a time, and prints the median and the 95th percentile,
for the store endpoint and for the store list.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from contextlib import ExitStack
from urllib.parse import quote

from store_monitoring.devstack import ROOT, Api, free_port, running, stack_environment, web_command

LIST_PAGE = 500


def timed_get(api: Api, path: str) -> float:
    """Milliseconds for one GET, which must answer 200."""
    started = time.perf_counter()
    answer = api.request("GET", path)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise SystemExit(f"bench.stores: GET {path} answered {answer.status}: {answer.body!r}")
    return elapsed


def sample_store_ids(api: Api, count: int, rng: random.Random) -> list[str]:
    total = api.request("GET", "/api/monitor/stores?limit=1").json()["total"]
    ids: list[str] = []
    while len(ids) < count:
        offset = rng.randrange(max(1, total - LIST_PAGE))
        page = api.request("GET", f"/api/monitor/stores?limit={LIST_PAGE}&offset={offset}").json()
        ids.extend(store["store_id"] for store in rng.sample(page["stores"], 10))
    return ids[:count]


def report(name: str, samples: list[float]) -> None:
    p95 = statistics.quantiles(samples, n=20)[-1]
    print(
        f"{name}: p50 {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms "
        f"({len(samples)} requests, one at a time, gunicorn)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an already-loaded database")
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    log_dir = ROOT / "var" / "bench" / "stores"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(database_url=options.database_url, redis_url="")
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    rng = random.Random(1)
    with ExitStack() as stack:
        stack.enter_context(
            running(
                "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=log_dir, ready=api.up
            )
        )
        store_ids = sample_store_ids(api, options.requests, rng)
        for store_id in store_ids[:10]:  # warm both workers' connections and caches
            timed_get(api, f"/api/monitor/stores/{quote(store_id)}")
        report(
            "GET /api/monitor/stores/<id>",
            [timed_get(api, f"/api/monitor/stores/{quote(store_id)}") for store_id in store_ids],
        )
        report(
            "GET /api/monitor/stores?order=last_poll",
            [timed_get(api, "/api/monitor/stores?order=last_poll") for _ in range(20)],
        )
        report(
            "GET /api/monitor/stores?search=<2 chars>",
            [
                timed_get(api, f"/api/monitor/stores?search={store_id[:2]}")
                for store_id in store_ids[:50]
            ],
        )


if __name__ == "__main__":
    main()
