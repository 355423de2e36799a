"""`python -m bench.scale --scale N`: one report over Celery workers at N× the real shape.

The database (PostgreSQL, kept between runs as store_monitoring_bench_<N>x):
the 1× set (bench.data_set(1): the real hours and zones when they are there,
generated polls) loaded with the import commands, then, for N > 1, copied N
times inside PostgreSQL with generate_series, copy k's store ids ending in
"~k". Its poll indexes are dropped for the copy and rebuilt, and it is
vacuumed and analysed: reports run on a table in its steady state.

Then gunicorn and one Celery worker (`--concurrency 2`, the production
commands of docs/production.md through tests.support.stack) serve `--runs` reports,
each triggered with force (a computation each time) and polled until its
CSV comes back. Printed against the targets (issue 13): each run's
trigger → Complete time, the peak RSS of every worker process (VmHWM of the
worker and its pool processes) and the load average while it ran. At 30× the
time's target is 3.5 × the 10× figure, which a 10× run stores under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import django
import psycopg

from bench.__main__ import PG_SERVER, REAL_POLLED_STORES, WORK, data_set, import_steps
from bench.api import measure
from tests.support.stack import (
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

if TYPE_CHECKING:
    from monitor.db.names import SqlNames

RSS_TARGET_MB = 1024
# (scale → seconds) from issue 13; 30× is judged against its 10× figure.
TIME_TARGETS_S = {1: 1.2, 10: 10.0}
SLOWDOWN_TARGET_30X = 3.5
DEFAULT_RUNS = {1: 5, 10: 3, 30: 2}


# The client's polling interval (at most this much is added to a run): every
# poll is a request that gunicorn and PostgreSQL serve on the same 2 cores.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Run:
    seconds: float
    rows: int
    load: float  # 1-minute load average once the report was in
    worker_cpu_s: float  # CPU time the worker's processes spent on it
    web_cpu_s: float  # and gunicorn's, answering the trigger and the polls


def database_name(scale: int) -> str:
    return f"store_monitoring_bench_{scale}x"


def admin() -> psycopg.Connection:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def exists(name: str) -> bool:
    with admin() as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def manage(args: list[str], database_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "store_monitoring.settings",
    }
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepared_database(scale: int, *, rebuild: bool) -> str:
    """The URL of the scale's database, built unless it is there already (and migrated).

    Built under a temporary name and renamed when complete: an interrupted
    build is never taken for a finished one.
    """
    name = database_name(scale)
    if rebuild and exists(name):
        with admin() as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    if not exists(name):
        started = time.perf_counter()
        building = f"{name}_building"
        if scale == 1:
            load_real_shape(building)
        else:
            template = prepared_database(1, rebuild=False).rsplit("/", 1)[1]
            with admin() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {building} TEMPLATE {template}")
            with psycopg.connect(f"{PG_SERVER}/{building}", autocommit=True) as conn:
                replicate(conn, scale)
        with psycopg.connect(f"{PG_SERVER}/{building}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        with admin() as conn:
            conn.execute(f"ALTER DATABASE {building} RENAME TO {name}")
        print(f"built {name} in {time.perf_counter() - started:.0f} s")
    url = f"{PG_SERVER}/{name}"
    manage(["migrate", "--no-input", "-v0"], url)
    return url


def load_real_shape(name: str) -> None:
    """A new database with the 1× set, loaded by the import commands."""
    with admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{PG_SERVER}/{name}"
    manage(["migrate", "--no-input", "-v0"], url)
    data = data_set(1)
    for command, file in import_steps():
        manage([command, str(data / file)], url)


def replicate(conn: psycopg.Connection, scale: int) -> None:
    """Copies 2…scale of every store, its zone, hours and polls: copy k's keys are
    the original's plus (k − 1) × the largest key, its id the original's + "~k"."""
    n = names()
    (stride,) = conn.execute(f"SELECT max({n.store_pk}) FROM {n.stores}").fetchone() or (0,)
    copies = "generate_series(2, %(scale)s) AS k"
    key = "(k - 1) * %(stride)s"
    params = {"scale": scale, "stride": stride}
    conn.execute("SET maintenance_work_mem = '1GB'")  # index builds sort in memory
    with conn.transaction():
        restore = drop_poll_indexes(conn)
        conn.execute(
            f"""
            INSERT INTO {n.stores} ({n.store_pk}, {n.store_id}, {n.timezone})
            SELECT {n.store_pk} + {key}, {n.store_id} || '~' || k, {n.timezone}
            FROM {n.stores}, {copies}
            """,
            params,
        )
        conn.execute(
            f"""
            INSERT INTO {n.hours} ({n.hours_store}, {n.day}, {n.start}, {n.end})
            SELECT {n.hours_store} + {key}, {n.day}, {n.start}, {n.end} FROM {n.hours}, {copies}
            """,
            params,
        )
        conn.execute(
            f"""
            INSERT INTO {n.polls} ({n.poll_columns})
            SELECT {n.poll_store} + {key}, {n.poll_time}, {n.poll_active} FROM {n.polls}, {copies}
            """,
            params,
        )
        for statement in restore:
            conn.execute(statement)
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{n.stores}', 'id'), max({n.store_pk}))"
            f" FROM {n.stores}"
        )


def drop_poll_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the poll table's secondary indexes and constraints (rebuilding them
    afterwards is much faster than maintaining them row by row); the
    statements that restore them, indexes first."""
    table = names().polls
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
        [table],
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)",
        [table],
    ).fetchall()
    for name, _ in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]


def names() -> SqlNames:
    """The tables' and columns' names (Django's quoting is PostgreSQL's and SQLite's alike)."""
    django.setup()
    from monitor.db.names import sql_names

    return sql_names()


def peak_rss_mb(worker: Service) -> dict[int, float]:
    """VmHWM (the peak resident set) of the worker and each of its pool processes."""
    peaks = {}
    for pid in [worker.process.pid, *worker.children()]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) / 1024
    return peaks


def timed_run(api: Api, worker: Service, web: Service, timeout: float) -> Run:
    before = cpu_seconds(worker), cpu_seconds(web)
    seconds, rows = measure(api, as_of=None, timeout=timeout, poll=POLL_SECONDS)
    worker_cpu, web_cpu = cpu_seconds(worker) - before[0], cpu_seconds(web) - before[1]
    return Run(seconds, rows, os.getloadavg()[0], worker_cpu, web_cpu)


def cpu_seconds(service: Service) -> float:
    """User and system CPU time of a service's process and its children so far.

    Other jobs on the machine do not change it, as they change wall time: with
    the database server's share, it says what the report costs.
    """
    ticks = 0
    for pid in [service.process.pid, *service.children()]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def verdict(met: bool) -> str:
    return "met" if met else "UNMET"


def cpu_ratio_to_10x(scale: int, worker_cpu_s: float) -> str:
    """The worker's CPU per report against a 10× run's (which the load does not sway)."""
    ten = results_path(10)
    ten_cpu_s = json.loads(ten.read_text()).get("worker_cpu_s") if ten.exists() else None
    if scale == 10 or not ten_cpu_s:
        return ""
    return f"; worker CPU {worker_cpu_s / ten_cpu_s:.2f} × the 10× run's"


def time_target(scale: int) -> tuple[float | None, str]:
    """The scale's time target in seconds, and where it comes from."""
    if scale in TIME_TARGETS_S:
        return TIME_TARGETS_S[scale], "issue 13"
    ten = results_path(10)
    if scale == 30 and ten.exists():
        seconds = json.loads(ten.read_text())["seconds"]
        return SLOWDOWN_TARGET_30X * seconds, f"3.5 × the 10× figure {seconds:.2f} s"
    return None, "none (run --scale 10 first for the 30× target)" if scale == 30 else "none"


def results_path(scale: int) -> Path:
    return WORK / f"scale-{scale}x.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="store multiplier: 1, 10, 30…")
    parser.add_argument(
        "--runs", type=int, help="reports to time (default: 5 at 1×, 3 at 10×, 2 at 30×, else 1)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per report")
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    options = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    scale, runs = options.scale, options.runs or DEFAULT_RUNS.get(options.scale, 1)
    database_url = prepared_database(scale, rebuild=options.rebuild)
    label = f"{scale}x ({REAL_POLLED_STORES * scale:,})"
    log_dir = WORK / "scale"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(database_url=database_url, redis_url=options.redis_url)
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    shard = env.get("REPORT_SHARD_STORES", "default")
    print(
        f"{label:<16} gunicorn + Celery worker --concurrency 2, REPORT_SHARD_STORES={shard}, "
        f"the client polling every {POLL_SECONDS * 1000:.0f} ms"
    )
    with ExitStack() as stack:
        web = stack.enter_context(
            running(
                "gunicorn", web_command(f"127.0.0.1:{port}"), env=env, log_dir=log_dir, ready=api.up
            )
        )
        worker = stack.enter_context(
            running("celery-worker", worker_command(), env=env, log_dir=log_dir, ready=worker_ready)
        )
        results = []
        for number in range(1, runs + 1):
            run = timed_run(api, worker, web, options.timeout)
            results.append(run)
            print(
                f"{label:<16} run {number}/{runs}: trigger→Complete {run.seconds:6.2f} s "
                f"({run.rows:,} rows; CPU: worker {run.worker_cpu_s:.2f} s, gunicorn "
                f"{run.web_cpu_s:.2f} s)  load {run.load:.2f}"
            )
        peaks = peak_rss_mb(worker)
    best = min(run.seconds for run in results)
    worker_cpu = statistics.median(run.worker_cpu_s for run in results)
    target, source = time_target(scale)
    judged = (
        f"target ≤ {target:.2f} s ({source}) {verdict(best <= target)}"
        if target
        else f"target {source}"
    )
    print(
        f"{label:<16} trigger→Complete best {best:.2f} s, median "
        f"{statistics.median(run.seconds for run in results):.2f} s of {runs}; {judged}"
        f"{cpu_ratio_to_10x(scale, worker_cpu)}"
    )
    peak = max(peaks.values())
    print(
        f"{label:<16} peak RSS per worker process {peak:.0f} MB "
        f"({', '.join(f'{mb:.0f}' for mb in peaks.values())} MB); target ≤ {RSS_TARGET_MB} MB "
        f"{verdict(peak <= RSS_TARGET_MB)}"
    )
    print(f"{label:<16} load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")
    results_path(scale).write_text(
        json.dumps({"seconds": best, "peak_rss_mb": peak, "worker_cpu_s": worker_cpu})
    )


if __name__ == "__main__":
    main()
