"""`python -m bench.calendar`: what a store's calendar (§10) costs a report, at the real shape.

Two PostgreSQL databases made from the 1× set (bench.data_set(1), loaded by one
import_data into store_monitoring_bench_calendar, kept): the same stores, hours
and polls, one without any calendar (no special hours, no exclusions, no
closed rows) and one with the sample calendar (bench.data_set(1)'s files: 10 %
of the stores with special dates in the week, 5 % with an exclusion, one
exclusion of every store, 5 % with a closed weekday). gunicorn and a Celery
worker serve each in turn (a warm-up report, then the one timed), round after
round, so that the machine's load sways both alike; each report is timed
from trigger to Complete. The target (issue
20): the calendar's median within 10 % of the plain one's.
"""

from __future__ import annotations

import argparse
import os
import statistics
from contextlib import ExitStack
from typing import TYPE_CHECKING

import django
import psycopg

from bench.__main__ import PG_SERVER, WORK, data_set
from bench.scale import POLL_SECONDS, Run, admin, manage, timed_run
from store_monitoring.devstack import (
    Api,
    free_port,
    running,
    stack_environment,
    web_command,
    worker_command,
    worker_ready,
)

if TYPE_CHECKING:
    from monitor.db.names import SqlNames

TARGET_RATIO = 1.10
BASE = "store_monitoring_bench_calendar"  # the 1× set with its calendar, kept between runs
DATABASES = {
    "plain": "store_monitoring_bench_calendar_off",
    "calendar": "store_monitoring_bench_calendar_on",
}


def built_base() -> str:
    """The URL of BASE: the 1× data set and its calendar, loaded by one import_data
    when the database is not there yet (then kept)."""
    url = f"{PG_SERVER}/{BASE}"
    with admin() as conn:
        present = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BASE]).fetchone()
        if present is None:
            conn.execute(f"CREATE DATABASE {BASE}")
    manage(["migrate", "--no-input", "-v0"], url)
    if present is None:
        data = data_set(1)
        files = {
            "--timezones": "timezones.csv",
            "--hours": "menu_hours.csv",
            "--special-hours": "special_hours.csv",
            "--exclusions": "exclusions.csv",
            "--status": "store_status.csv",
        }
        args = [part for flag, name in files.items() for part in (flag, str(data / name))]
        manage(["import_data", *args], url)
    return url


def names() -> SqlNames:
    """The tables' and columns' names (Django's quoting is PostgreSQL's and SQLite's alike)."""
    django.setup()
    from monitor.db.names import sql_names

    return sql_names()


def copy_of(template_url: str, name: str) -> str:
    template = template_url.rsplit("/", 1)[1]
    with admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"{PG_SERVER}/{name}"


def without_calendar(url: str) -> None:
    n = names()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {n.special}")
        conn.execute(f"DELETE FROM {n.exclusions}")
        conn.execute(f"DELETE FROM {n.hours} WHERE {n.start} IS NULL")
        conn.execute("VACUUM ANALYZE")


def calendar_counts(url: str) -> tuple[int, int, int]:
    """Stores with special dates, exclusions (of every store among them), closed rows."""
    n = names()
    with psycopg.connect(url, autocommit=True) as conn:
        counts = [
            conn.execute(query).fetchone()
            for query in (
                f"SELECT count(DISTINCT {n.special_store}) FROM {n.special}",
                f"SELECT count(*) FROM {n.exclusions}",
                f"SELECT count(*) FROM {n.hours} WHERE {n.start} IS NULL",
            )
        ]
    special, exclusions, closed = (row[0] if row else 0 for row in counts)
    return special, exclusions, closed


def served_run(kind: str, url: str, redis_url: str, timeout: float) -> Run:
    """gunicorn and a worker on `url`: one report to warm them (imports, caches),
    then the one timed."""
    env = stack_environment(database_url=url, redis_url=redis_url)
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    log_dir = WORK / "calendar"
    with ExitStack() as stack:
        web = stack.enter_context(
            running(
                f"gunicorn-{kind}",
                web_command(f"127.0.0.1:{port}"),
                env=env,
                log_dir=log_dir,
                ready=api.up,
            )
        )
        worker = stack.enter_context(
            running(
                f"celery-worker-{kind}",
                worker_command(),
                env=env,
                log_dir=log_dir,
                ready=worker_ready,
            )
        )
        timed_run(api, worker, web, timeout)
        return timed_run(api, worker, web, timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="reports timed on each database")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per report")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    options = parser.parse_args()
    base = built_base()
    urls = {kind: copy_of(base, name) for kind, name in DATABASES.items()}
    without_calendar(urls["plain"])
    special, exclusions, closed = calendar_counts(urls["calendar"])
    if not special or not exclusions:
        raise SystemExit(
            f"bench: {BASE} has no calendar: drop it and delete {WORK / 'data-1x'} (a data "
            "set generated before the calendar), then run again"
        )
    print(
        f"calendar         1x: {special:,} stores with special dates, {exclusions:,} "
        f"exclusions (one of every store), {closed:,} closed rows; the plain copy has none"
    )
    log_dir = WORK / "calendar"
    log_dir.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {kind: [] for kind in urls}
    # One stack at a time (they would share the broker's queue), the two in
    # turn each round, so that the machine's load sways both alike.
    for number in range(1, options.runs + 1):
        for kind, url in urls.items():
            run = served_run(kind, url, options.redis_url, options.timeout)
            times[kind].append(run.seconds)
            print(
                f"calendar         {kind:<8} run {number}/{options.runs}: trigger→Complete "
                f"{run.seconds:6.2f} s ({run.rows:,} rows; worker CPU "
                f"{run.worker_cpu_s:.2f} s)  load {run.load:.2f}"
            )
    plain, calendar = (statistics.median(times[kind]) for kind in ("plain", "calendar"))
    ratio = calendar / plain
    verdict = "met" if ratio <= TARGET_RATIO else "UNMET"
    print(
        f"calendar         median trigger→Complete: plain {plain:.2f} s, with the calendar "
        f"{calendar:.2f} s ({ratio:.3f} ×); target ≤ {TARGET_RATIO:.2f} × {verdict}; "
        f"polling every {POLL_SECONDS * 1000:.0f} ms; load average now "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)"
    )


if __name__ == "__main__":
    main()
