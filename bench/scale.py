"""`python -m bench.scale --scale N`: one report over Celery workers at N× the real shape.

The database (PostgreSQL, <BENCH_PG_DATABASE>_<N>x, made afresh each run):
the scale's data set (bench.data_set: at 1× the real hours and zones when
they are there, generated polls; at N× N times the stores, all generated)
loaded by one `import_data`, as a new user loads theirs, and nothing else:
no VACUUM or ANALYZE but what the import itself does.

Then gunicorn and one Celery worker (`--concurrency 2`, the production
commands of docs/production.md through store_monitoring.devstack) serve `--runs` reports,
each triggered with force (a computation each time) and polled until its
CSV comes back: the first is the first report after the fresh import, the
others the steady state. Printed against the targets (issue 22, for the
first report): each run's
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

import psycopg

from bench.__main__ import PG_DATABASE, PG_SERVER, REAL_POLLED_STORES, WORK, data_set
from bench.api import measure
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

RSS_TARGET_MB = 1024
# (scale → seconds) from issue 13; 30× is judged against its 10× figure.
# The first report right after a fresh import (issue 22; issue 13 set them for
# a vacuumed database).
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
    return f"{PG_DATABASE}_{scale}x"


def admin() -> psycopg.Connection:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def manage(args: list[str], database_url: str) -> str:
    """Run a manage.py command on `database_url`; its standard output."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "store_monitoring.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return done.stdout


def freshly_imported(scale: int, label: str) -> str:
    """A new database with the scale's data set (bench.data_set) loaded by one
    `import_data`, as a new user loads theirs; its URL. Nothing else touches it
    before the first report: no VACUUM, no ANALYZE but what the import does."""
    name = database_name(scale)
    with admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{PG_SERVER}/{name}"
    manage(["migrate", "--no-input", "-v0"], url)
    data = data_set(scale)
    files = {"--timezones": "timezones.csv", "--hours": "menu_hours.csv"}
    files["--status"] = "store_status.csv"
    started = time.perf_counter()
    out = manage(
        ["import_data", *(part for flag, f in files.items() for part in (flag, str(data / f)))],
        url,
    )
    seconds = time.perf_counter() - started
    ready = [line for line in out.splitlines() if line.startswith("database ready")]
    print(f"{label:<16} import_data (a fresh database) {seconds:.1f} s; {'; '.join(ready)}")
    return url


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
        return TIME_TARGETS_S[scale], "issue 22"
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
        "--runs",
        type=int,
        help="reports to time, the first right after the import (default: 5 at 1×, 3 at 10×, "
        "2 at 30×, else 1)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per report")
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    options = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    scale, runs = options.scale, options.runs or DEFAULT_RUNS.get(options.scale, 1)
    label = f"{scale}x ({REAL_POLLED_STORES * scale:,})"
    print(f"{label:<16} load average before the import {load_averages()} (2 cores)")
    database_url = freshly_imported(scale, label)
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
            what = "first report after the fresh import" if number == 1 else "steady state"
            print(
                f"{label:<16} run {number}/{runs} ({what}): trigger→Complete {run.seconds:6.2f} s "
                f"({run.rows:,} rows; CPU: worker {run.worker_cpu_s:.2f} s, gunicorn "
                f"{run.web_cpu_s:.2f} s)  load {run.load:.2f}"
            )
        peaks = peak_rss_mb(worker)
    target, source = time_target(scale)
    first, steady = results[0], results[1:]
    print(
        f"{label:<16} first report after a fresh import: {first.seconds:.2f} s; "
        + (
            f"target ≤ {target:.2f} s ({source}) {verdict(first.seconds <= target)}"
            if target
            else f"target {source}"
        )
    )
    if steady:
        best = min(run.seconds for run in steady)
        print(
            f"{label:<16} steady state (the runs after it): best {best:.2f} s, median "
            f"{statistics.median(run.seconds for run in steady):.2f} s of {len(steady)}"
            f"{cpu_ratio_to_10x(scale, statistics.median(run.worker_cpu_s for run in steady))}"
        )
    else:
        best = first.seconds
    peak = max(peaks.values())
    print(
        f"{label:<16} peak RSS per worker process {peak:.0f} MB "
        f"({', '.join(f'{mb:.0f}' for mb in peaks.values())} MB); target ≤ {RSS_TARGET_MB} MB "
        f"{verdict(peak <= RSS_TARGET_MB)}"
    )
    print(f"{label:<16} load average now {load_averages()} (2 cores)")
    worker_cpu = statistics.median(run.worker_cpu_s for run in steady or results)
    results_path(scale).write_text(
        json.dumps(
            {
                "seconds": best,
                "first_seconds": first.seconds,
                "peak_rss_mb": peak,
                "worker_cpu_s": worker_cpu,
            }
        )
    )


def load_averages() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
