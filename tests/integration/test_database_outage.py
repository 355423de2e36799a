"""A report while its database restarts: a private PostgreSQL server (initdb and
pg_ctl on a port of its own, in a temporary directory) under gunicorn and a
Celery worker, stopped in the middle of the report's parts and started again.

To stop it mid-report the test holds a lock on the business hours table, which
only the parts read: every pool process of the worker is then inside a part.
Stopping the server ("fast": every session ended) cuts their connections; the
parts, and those still queued, must try again until it is back.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from store_monitoring.devstack import ROOT, Api, Service, free_port, web_command
from tests.integration.conftest import unavailable
from tests.integration.test_report_jobs import lock_waiters, start_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOURS_TABLE = "monitor_businesshours"  # read by the parts only
STALE_AFTER_SECONDS = 90
OUTAGE_SECONDS = 40  # longer than the five quick retries (31 s at most) that gave up before


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL server of the test's own, run as the postgres user when the test is root."""

    bin_dir: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def pg_ctl(self, *arguments: str) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", *arguments]
        subprocess.run([*as_postgres(), *command], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", str(self.data.parent / "postgres.log"), "-o", options, "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


def as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextmanager
def private_postgres() -> Iterator[PostgresServer]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("PostgreSQL's initdb is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="store-monitoring-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    server = PostgresServer(Path(found[-1]).parent, directory / "data", free_port())
    try:
        initdb = [str(server.bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres"]
        subprocess.run(
            [*as_postgres(), *initdb, "-A", "trust", "--no-sync"], check=True, capture_output=True
        )
        server.start()
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):
            server.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def manage(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def test_a_report_completes_across_its_database_restarting_mid_report(
    launch: Callable[..., Service], stack_env: dict[str, str]
) -> None:
    with private_postgres() as server:
        with psycopg.connect(f"{server.url}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE store_monitoring")
        url = f"{server.url}/store_monitoring"
        env = {
            "DATABASE_URL": url,
            "REPORT_SHARD_STORES": "5",
            "REPORT_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
        }
        manage({**stack_env, **env}, "migrate", "--no-input", "-v0")
        manage({**stack_env, **env}, "load_sample_data", "--stores", "40", "--seed", "7")
        port = free_port()
        api = Api(f"http://127.0.0.1:{port}")
        launch("gunicorn", web_command(f"127.0.0.1:{port}"), api.up, **env)
        start_worker(launch, **env)

        blocker = psycopg.connect(url)
        blocker.execute(f"LOCK TABLE {HOURS_TABLE} IN ACCESS EXCLUSIVE MODE")
        report_id = api.trigger()
        wait_until(lambda: lock_waiters(blocker, HOURS_TABLE) >= 2, "both pool processes in a part")
        server.stop()  # ends every session: the parts' and the lock's
        with suppress(psycopg.Error):
            blocker.close()
        assert api.request("GET", "/readyz").status == 503  # the database is down indeed
        time.sleep(OUTAGE_SECONDS)
        server.start()

        answer = api.wait_finished(report_id, timeout=STALE_AFTER_SECONDS, poll=0.5)

        assert answer.headers["X-Report-Status"] == "Complete", answer.body
        assert answer.body.decode() == manage({**stack_env, **env}, "generate_report")
