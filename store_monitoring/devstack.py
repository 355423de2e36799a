"""For development only: the production stack as child processes (gunicorn,
a Celery worker and beat) on a checkout, never used by the service itself.

The commands are those of docs/production.md, run from the checkout's
.venv; the integration tests (tests/integration/) and the benchmarks
(`python -m bench.api`, bench.loadtest, …) start them through here, and talk
to the API over real HTTP.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The key of processes started from a shell with none set (the test suite and
# `make` set their own). Production refuses to start without DJANGO_SECRET_KEY,
# or with one shorter than 50 characters.
LOCAL_SECRET_KEY = "local-test-key-of-the-test-suite-never-use-it-in-production"
BIN = Path(sys.executable).parent  # .venv/bin: gunicorn and celery live beside python


def web_command(bind: str) -> list[str]:
    settings = "python:store_monitoring.gunicorn_conf"
    return [str(BIN / "gunicorn"), "-c", settings, "store_monitoring.wsgi", "--bind", bind]


def worker_command(concurrency: int = 2) -> list[str]:
    arguments = ["-A", "store_monitoring", "worker", "--loglevel", "INFO"]
    arguments += ["--concurrency", str(concurrency)]
    return [str(BIN / "celery"), *arguments]


def beat_command(schedule: Path) -> list[str]:
    """Celery beat, keeping its schedule's state in the file `schedule`."""
    arguments = [
        "-A",
        "store_monitoring",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(schedule),
    ]
    return [str(BIN / "celery"), *arguments]


def stack_environment(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """This process's environment, pointed at one database and one broker.

    API keys and throttles are off unless the caller turns them on (`extra`):
    the tests and benchmarks about other things send no key and many requests.
    """
    return {
        "API_KEYS_REQUIRED": "false",
        "API_THROTTLE_READ": "off",
        "API_THROTTLE_TRIGGER": "off",
        "API_THROTTLE_WRITE": "off",
        **os.environ,
        # The production settings, not the test suite's (pytest-django exports those).
        "DJANGO_SETTINGS_MODULE": "store_monitoring.settings",
        # A private stack's own key: a shorter development key in the shell would be refused.
        "DJANGO_SECRET_KEY": LOCAL_SECRET_KEY,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    """A child process in its own session, so a signal reaches it and all its children."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker and its pool children), as a crash would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait()

    def stop(self, grace_seconds: float = 5.0) -> None:
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self.kill()
        else:  # the leader is gone; its children may not be
            self._signal_group(signal.SIGKILL)

    def children(self) -> list[int]:
        """Pids of the process's children (a worker's pool processes)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def _signal_group(self, number: signal.Signals) -> None:
        with suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, number)


@contextmanager
def running(
    name: str,
    command: list[str],
    *,
    env: dict[str, str],
    log_dir: Path,
    ready: Callable[[Service], bool],
    timeout: float = 60.0,
) -> Iterator[Service]:
    """Start `command`, wait until `ready`, and always stop it (and its children) at the end."""
    log_path = log_dir / f"{name}.log"
    # A fresh log: `ready` must not find the line a previous run wrote.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    service = Service(name, process, log_path)
    try:
        deadline = time.monotonic() + timeout
        while not ready(service):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{service.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{service.log()}")
            time.sleep(0.1)
        yield service
    finally:
        service.stop()


def worker_ready(service: Service) -> bool:
    return re.search(r"celery@\S+ ready\.", service.log()) is not None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass(frozen=True)
class Api:
    """The report API over HTTP."""

    base_url: str
    key: str | None = None  # an API key, sent with every request

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.base_url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def up(self, _: Service | None = None) -> bool:
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def trigger(self, as_of: str | None = None, *, force: bool = False) -> str:
        body = ({} if as_of is None else {"as_of": as_of}) | ({"force": True} if force else {})
        answer = self.request("POST", "/api/monitor/trigger_report", body or None)
        if answer.status != 200:
            raise RuntimeError(f"trigger_report answered {answer.status}: {answer.body!r}")
        return str(answer.json()["report_id"])

    def report(self, report_id: str, *, percent: bool = False) -> Answer:
        units = "?units=percent" if percent else ""
        return self.request("GET", f"/api/monitor/get_report/{report_id}{units}")

    def summary(self, report_id: str) -> dict[str, Any]:
        """The report's row in the recent reports listing."""
        listing = self.request("GET", "/api/monitor/reports?limit=500").json()
        reports: list[dict[str, Any]] = listing["reports"]
        for report in reports:
            if report["report_id"] == report_id:
                return report
        raise LookupError(report_id)

    def wait_finished(self, report_id: str, *, timeout: float, poll: float = 0.05) -> Answer:
        """Poll get_report until the report is no longer Running."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.report(report_id)
            if answer.headers.get("X-Report-Status") != "Running":
                return answer
            if time.monotonic() > deadline:
                raise TimeoutError(f"report {report_id} still Running after {timeout:.0f} s")
            time.sleep(poll)
