"""docs/production.md runs as written: its runbook blocks, on PostgreSQL and Redis.

The blocks marked ```sh runbook (and the one ```sh runbook-background, `honcho
start`) are taken from the page and run with bash, each in a fresh shell as an
operator pasting them would, in a copy of the checkout. Only the database
name, the Redis URLs and the port are replaced, so that the run is private;
each replacement must find its text, or the page changed and this test with
it. The run ends with the smoke test's Complete report; every process it
started is stopped, and its database dropped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from django.conf import settings

from monitor.sample_data.generator import generate_sample_data
from store_monitoring.devstack import ROOT, free_port
from tests.integration.conftest import server_url, unavailable

pytestmark = pytest.mark.integration

PAGE = ROOT / "docs" / "production.md"
BLOCK = re.compile(r"^```sh (runbook(?:-background)?)\n(.*?)^```$", re.M | re.S)
# Left out of the copy: the virtualenv is linked instead, the rest is local state.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "var", ".env", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def runbook_blocks() -> list[tuple[str, str]]:
    """(kind, text) of every runbook block of the page, in order."""
    return [(match[1], match[2]) for match in BLOCK.finditer(PAGE.read_text())]


def made_private(text: str, replacements: dict[str, str], used: set[str]) -> str:
    """`text` with every replacement made in one pass: a replaced value is never
    matched again (redis://…/0 made redis://…/15 must not then read as …/1 + "5")."""
    pattern = re.compile("|".join(map(re.escape, sorted(replacements, key=len, reverse=True))))

    def replaced(match: re.Match[str]) -> str:
        used.add(match.group())
        return replacements[match.group()]

    return pattern.sub(replaced, text)


@pytest.fixture
def database_name() -> Iterator[str]:
    """A database of the test's own on the test server, dropped at the end."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the runbook test needs PostgreSQL (DATABASE_URL=postgres://…)")
    name = f"store_monitoring_runbook_{os.getpid()}"
    try:
        server = psycopg.connect(server_url(database), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is unreachable ({error})")
    with server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        yield name
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the checkout, as an operator's, with the sample data's three files."""
    copy = tmp_path / "store_monitoring"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
    # The files of step 3: timezones.csv, menu_hours.csv and store_status.csv.
    generate_sample_data(copy, stores=200, seed=7)
    return copy


def processes_in(folder: Path) -> list[int]:
    """Pids of the processes whose working directory is in `folder`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                    pids.append(int(entry.name))
    return pids


def stop(process: subprocess.Popen[bytes], folder: Path) -> list[int]:
    """Ctrl-C honcho, as the page says, then kill whatever is left; the pids that were."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    left = processes_in(folder)
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return left


def test_the_production_runbook_runs_as_written(
    database_name: str, checkout: Path, redis_url: str
) -> None:
    database = urlsplit(server_url(settings.DATABASES["default"]))
    redis.Redis.from_url(redis_url).flushdb()
    replacements = {
        "postgres://postgres@127.0.0.1:5432/store_monitoring": (
            f"{database.scheme}://{database.netloc}/{database_name}"
        ),
        "-U postgres store_monitoring": f"-U postgres {database_name}",
        "redis://127.0.0.1:6379/0": redis_url,
        "redis://127.0.0.1:6379/1": redis_url,
        "PORT=8000": f"PORT={free_port()}",
    }
    used: set[str] = set()
    blocks = [(kind, made_private(text, replacements, used)) for kind, text in runbook_blocks()]
    assert [kind for kind, _ in blocks].count("runbook-background") == 1
    assert used == set(replacements), f"not found in {PAGE.name}: {set(replacements) - used}"
    # An operator's shell: none of the test suite's settings.
    environment = {"PATH": os.environ["PATH"], "HOME": str(checkout.parent), "LANG": "C.UTF-8"}
    log = checkout.parent / "honcho.log"

    def run(text: str) -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", text],
            cwd=checkout,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (
            f"{text}\nexited {done.returncode}:\n{done.stdout}\n{done.stderr}\n"
            f"honcho's log:\n{log.read_text() if log.exists() else ''}"
        )
        return done.stdout

    background: subprocess.Popen[bytes] | None = None
    outputs = []
    try:
        for kind, text in blocks:
            if kind == "runbook-background":
                with log.open("wb") as output:
                    background = subprocess.Popen(
                        ["bash", "-c", text],
                        cwd=checkout,
                        env=environment,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                time.sleep(1)
                assert background.poll() is None, log.read_text()
            else:
                outputs.append(run(text))
    finally:
        left = stop(background, checkout) if background is not None else []

    assert re.search(r"report \S+: Complete", outputs[-1]), outputs[-1]
    assert "\nstore_id,uptime_last_hour," in outputs[-1]
    processes = log.read_text()
    for name in ("web.1", "worker.1", "beat.1"):
        assert re.search(rf"{name} +\| ", processes), f"{name} never logged:\n{processes}"
    assert "beat: Starting..." in processes
    assert left == [], f"still running after Ctrl-C: {left}\n{processes}"
    assert (checkout / ".env").stat().st_mode & 0o777 == 0o600
