"""The probes and the metrics, in this process (tests/integration has them with
gunicorn, Celery, a stopped database and a stopped broker)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.metrics import ensure_multiprocess_dir
from monitor.models import Report
from monitor.services import report_parts
from store_monitoring.devstack import free_port
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text, 0 when absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric == name and ",".join(sorted(label_text.rstrip("}").split(","))) == wanted:
            return float(value)
    return 0.0


def scrape(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def test_healthz_answers_200(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers_and_no_broker_is_set(client: Client) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_naming_a_broker_that_does_not_answer(
    client: Client, settings: Settings
) -> None:
    unused_tcp_port = free_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{unused_tcp_port}/0"  # nobody listens

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert "broker" in body["error"]
    assert str(unused_tcp_port) not in response.content.decode()  # no internals


def test_metrics_count_requests_by_route_and_status(client: Client) -> None:
    route = "api/monitor/get_report/<str:report_id>"
    before = scrape(client)

    client.get("/api/monitor/get_report/nosuchreport")
    client.get("/api/monitor/get_report/nosuchreport")
    client.get("/nowhere")
    after = scrape(client)

    def count(metrics: str, **labels: str) -> float:
        return sample(metrics, "store_monitoring_http_requests_total", **labels)

    assert (
        count(after, route=route, method="GET", status="404")
        - count(before, route=route, method="GET", status="404")
        == 2
    )
    assert (
        count(after, route="unmatched", method="GET", status="404")
        - count(before, route="unmatched", method="GET", status="404")
        == 1
    )


def test_metrics_show_reports_by_status_and_their_durations(client: Client) -> None:
    store_spec_examples()
    before = scrape(client)
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    Report.objects.create(requested_as_of=SPEC_NOW)  # Running

    after = scrape(client)

    assert sample(after, "store_monitoring_reports", status="Complete") == 1
    assert sample(after, "store_monitoring_reports", status="Running") == 1
    assert sample(after, "store_monitoring_reports", status="Failed") == 0
    duration = "store_monitoring_report_duration_seconds_count"
    assert (
        sample(after, duration, status="Complete") - sample(before, duration, status="Complete")
        == 1
    )
    wait = "store_monitoring_report_queue_wait_seconds_count"
    assert sample(after, wait) - sample(before, wait) == 1


def test_metrics_count_the_live_workers_and_when_the_queue_was_last_served(
    client: Client, job_queue: FakeQueue
) -> None:
    job_queue.workers = 3
    serving = scrape(client)
    job_queue.serving, job_queue.workers = False, 0
    job_queue.served_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    stalled = scrape(client)

    assert sample(serving, "store_monitoring_workers_live") == 3
    assert sample(stalled, "store_monitoring_workers_live") == 0
    last_served = "store_monitoring_job_queue_last_served_timestamp_seconds"
    assert sample(stalled, last_served) == job_queue.served_at.timestamp()


def test_metrics_count_imported_and_rejected_rows_per_source(
    client: Client,
    write_file: Callable[..., Path],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    polls = write_file(
        "polls.csv",
        "store_id,status,timestamp_utc\n"
        "s1,active,2023-01-25 12:00:00 UTC\n"
        "s2,inactive,2023-01-25 12:00:00 UTC\n"
        "s3,maybe,2023-01-25 12:00:00 UTC\n",
    )
    before = scrape(client)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError),  # exit status 1: a row was rejected
    ):
        call_command("import_store_status_data", str(polls))
    after = scrape(client)

    for name, added in [("rows_imported", 2), ("rows_rejected", 1)]:
        metric = f"store_monitoring_{name}_total"
        assert sample(after, metric, source="polls") - sample(before, metric, source="polls") == (
            added
        )


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_by_address_under_production_settings(
    client: Client, settings: Settings, path: str
) -> None:
    """An orchestrator probes http://<pod address>/healthz: no allowed Host, no HTTPS."""
    settings.ALLOWED_HOSTS = ["monitoring.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path, HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200


def test_metrics_by_address_still_need_a_key(client: Client, settings: Settings) -> None:
    settings.ALLOWED_HOSTS = ["monitoring.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.API_KEYS_REQUIRED = True

    response = client.get("/metrics", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 401
    assert "error" in response.json()


def test_probe_requests_are_counted_under_their_route(client: Client) -> None:
    before = sample(
        scrape(client),
        "store_monitoring_http_requests_total",
        route="healthz",
        method="GET",
        status="200",
    )

    client.get("/healthz")

    after = sample(
        scrape(client),
        "store_monitoring_http_requests_total",
        route="healthz",
        method="GET",
        status="200",
    )
    assert after == before + 1


def test_other_paths_by_address_are_still_refused(client: Client, settings: Settings) -> None:
    settings.ALLOWED_HOSTS = ["monitoring.example.com"]

    response = client.get("/api/monitor/reports", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 400
    assert "DJANGO_ALLOWED_HOSTS" in response.json()["error"]


def test_the_metrics_directory_is_made_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set before the directory exists, the variable crashed every command (migrate too)."""
    directory = tmp_path / "run" / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))

    ensure_multiprocess_dir()

    assert directory.is_dir()


def test_a_metrics_directory_that_cannot_be_made_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(blocker / "metrics"))

    with pytest.raises(ImproperlyConfigured, match="PROMETHEUS_MULTIPROC_DIR"):
        ensure_multiprocess_dir()
