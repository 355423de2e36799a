"""Keys, throttles, probes, metrics and errors on the production stack: gunicorn
(2 workers), a Celery worker, Redis and PostgreSQL, over real HTTP.

Faults are real: the database refuses connections (ALLOW_CONNECTIONS false,
the app's sessions ended), a private redis-server is stopped (SIGSTOP) or
killed. Nothing is replaced by a stand-in.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from monitor.api.errors import DATABASE_UNAVAILABLE
from monitor.services.api_keys import api_key_create
from store_monitoring.devstack import Answer, Api, Service, free_port, worker_command, worker_ready
from tests.integration.conftest import APPLICATION_NAME, server_url
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def sample(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in metrics.splitlines():
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if metric == name and all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def timed(call: Callable[[], Answer]) -> tuple[Answer, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_keys_and_throttles_hold_across_both_web_workers(
    start_api: Callable[..., Api], redis_url: str
) -> None:
    key = api_key_create(name="integration", scope="read").key
    api = start_api(API_KEYS_REQUIRED="true", API_THROTTLE_READ="6/min", CACHE_URL=redis_url)
    keyed = dataclasses.replace(api, key=key)

    anonymous = api.request("GET", "/api/monitor/reports")
    statuses = [keyed.request("GET", "/api/monitor/reports").status for _ in range(7)]

    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    # Counted in Redis: the 2 gunicorn workers share one count.
    assert statuses == [200] * 6 + [429]
    throttled = keyed.request("GET", "/api/monitor/reports")
    assert throttled.json()["error"]
    assert int(throttled.headers["Retry-After"]) > 0


def test_concurrent_clients_get_exactly_the_throttles_limit(
    start_api: Callable[..., Api], redis_url: str
) -> None:
    api = start_api(API_THROTTLE_READ="20/min", CACHE_URL=redis_url)

    # 24 clients at once, over both workers and their threads; one address.
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda _: api.request("GET", "/api/monitor/reports"), range(60)))

    assert sorted(answer.status for answer in answers) == [200] * 20 + [429] * 40


def test_metrics_add_up_every_process(
    launch: Callable[..., Service], start_api: Callable[..., Api], tmp_path: Path
) -> None:
    store_random_data(stores=5, seed=3)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    launch("worker", worker_command(), worker_ready, **shared)
    api = start_api(**shared)
    report_id = api.trigger("2023-01-25T12:00:00Z")
    assert api.wait_finished(report_id, timeout=60).headers["X-Report-Status"] == "Complete"
    route = "api/monitor/get_report/<str:report_id>"
    before = api.request("GET", "/metrics").body.decode()

    for _ in range(30):  # spread over both gunicorn workers
        assert api.report(report_id).status == 200
    after = api.request("GET", "/metrics").body.decode()

    counted = "store_monitoring_http_requests_total"
    added = sample(after, counted, route=route, status="200") - sample(
        before, counted, route=route, status="200"
    )
    assert added == 30
    # Observed in the Celery worker's process, served by gunicorn's.
    assert sample(after, "store_monitoring_report_duration_seconds_count", status="Complete") == 1
    assert sample(after, "store_monitoring_report_queue_wait_seconds_count") == 1
    assert sample(after, "store_monitoring_reports", status="Complete") == 1


@pytest.fixture
def database_refusing() -> Iterator[Callable[[bool], None]]:
    """refuse(True): the test database takes no connection and the app's are ended."""
    name = connections["default"].settings_dict["NAME"]
    server = psycopg.connect(server_url(settings.DATABASES["default"]), autocommit=True)

    def refuse(down: bool) -> None:
        server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:
            server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [APPLICATION_NAME],
            )

    try:
        yield refuse
    finally:
        refuse(False)
        server.close()


def test_a_dead_database_gives_json_503_and_the_service_recovers(
    start_api: Callable[..., Api], database_refusing: Callable[[bool], None]
) -> None:
    api = start_api()
    assert api.request("GET", "/api/monitor/reports").status == 200

    database_refusing(True)
    answers = [api.request("GET", "/api/monitor/reports") for _ in range(4)]
    ready = api.request("GET", "/readyz")
    trigger = api.request("POST", "/api/monitor/trigger_report")
    live = api.request("GET", "/healthz")

    for answer in [*answers, trigger]:
        assert answer.status == 503
        assert answer.json() == {"error": DATABASE_UNAVAILABLE}
    assert ready.status == 503
    assert ready.json()["failing"] == ["database"]
    assert live.status == 200  # the process still serves

    database_refusing(False)
    # Every thread of every web process recovers: each one's kept connection died.
    after = [api.request("GET", "/api/monitor/reports").status for _ in range(24)]
    assert after == [200] * len(after)
    assert api.request("GET", "/readyz").status == 200


@pytest.fixture
def private_redis(launch: Callable[..., Service], tmp_path: Path) -> tuple[Service, str]:
    """A redis-server of this test's own, which it may stop or kill."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    service = launch("redis", command, lambda s: "Ready to accept connections" in s.log())
    return service, f"redis://127.0.0.1:{port}/0"


def test_a_stopped_broker_fails_readiness_quickly_and_reads_do_not_wait(
    start_api: Callable[..., Api], private_redis: tuple[Service, str]
) -> None:
    redis_service, url = private_redis
    api = start_api(CELERY_BROKER_URL=url, CACHE_URL=url, API_THROTTLE_READ="1000/min")
    assert api.request("GET", "/readyz").status == 200

    redis_service.process.send_signal(signal.SIGSTOP)
    try:
        ready, ready_seconds = timed(lambda: api.request("GET", "/readyz"))
        reads = [timed(lambda: api.request("GET", "/api/monitor/reports")) for _ in range(6)]
    finally:
        redis_service.process.send_signal(signal.SIGCONT)

    assert ready.status == 503
    assert ready.json()["failing"] == ["broker"]
    assert url.rsplit(":", 1)[1].split("/")[0] not in ready.body.decode()  # no port
    assert ready_seconds < 3
    # Reads never need the broker; the throttles' cache gives up after 0.5 s once
    # and then stands aside.
    assert all(answer.status == 200 for answer, _ in reads)
    assert sum(seconds for _, seconds in reads) < 3
    assert api.request("GET", "/readyz").status == 200  # recovered


def test_a_missing_broker_gives_a_quick_json_503_without_its_address(
    start_api: Callable[..., Api],
) -> None:
    port = free_port()  # nobody listens
    api = start_api(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")

    answer, seconds = timed(lambda: api.request("POST", "/api/monitor/trigger_report"))

    assert answer.status == 503
    body = answer.body.decode()
    assert str(port) not in body
    assert "127.0.0.1" not in body
    assert seconds < 3
    (report,) = api.request("GET", "/api/monitor/reports").json()["reports"]
    assert report["status"] == "Failed"
    assert str(port) not in report["error"]
    assert api.request("GET", "/readyz").json()["failing"] == ["broker"]


@pytest.mark.parametrize(
    ("report_id", "status"),
    [
        ("a" * 8_000, 404),  # fits gunicorn's longest request line: the app's 404
        ("a" * 10_000, 414),  # beyond it: gunicorn refuses it, in JSON too
    ],
)
def test_an_id_no_report_can_have_gets_json_however_long(
    api: Api, report_id: str, status: int
) -> None:
    answer = api.request("GET", f"/api/monitor/get_report/{report_id}")

    assert answer.status == status
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]
    assert b"<" not in answer.body


def test_every_request_gunicorn_refuses_is_answered_in_json(api: Api) -> None:
    host, port = urlsplit(api.base_url).hostname or "", urlsplit(api.base_url).port
    refused = {
        431: b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
        400: b"GET /healthz NOT-HTTP\r\nHost: x\r\n\r\n",
    }
    for status, request in refused.items():
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.sendall(request)
            response = http.client.HTTPResponse(connection)
            response.begin()
            body = response.read()

        assert response.status == status, body
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]
