"""Turns on the production stack: two API keys, one Celery worker slot,
PostgreSQL and Redis. A key's backlog of reports does not hold up another
key's report, and a key at REPORT_MAX_QUEUED_PER_KEY is refused (429)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from monitor.models import ApiKey, Report
from monitor.services.api_keys import api_key_create
from store_monitoring.devstack import Api, Service, worker_command, worker_ready
from tests.integration.test_report_jobs import AS_OF, wait_until
from tests.report_data import store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def keyed(api: Api, name: str) -> Api:
    return dataclasses.replace(api, key=api_key_create(name=name, scope=ApiKey.Scope.WRITE).key)


def all_finished() -> bool:
    return not Report.objects.filter(status=Report.Status.RUNNING).exists()


def test_two_keys_reports_start_round_robin_on_one_worker_slot(
    start_api: Callable[..., Api], launch: Callable[..., Service]
) -> None:
    store_random_data(stores=20, seed=3)
    api = start_api(API_KEYS_REQUIRED="true")
    a, b = keyed(api, "a"), keyed(api, "b")

    # No worker yet: everything waits. A's three, then B's one.
    a_reports = [a.trigger(AS_OF, force=True) for _ in range(3)]
    refused = a.request("POST", "/api/monitor/trigger_report", {"as_of": AS_OF, "force": True})
    b_report = b.trigger(AS_OF, force=True)
    assert refused.status == 429
    assert "REPORT_MAX_QUEUED_PER_KEY is 3" in refused.json()["error"]
    assert [a.summary(report)["stage"] for report in a_reports] == ["queued", "waiting", "waiting"]
    assert b.summary(b_report)["stage"] == "queued"

    launch("worker", worker_command(concurrency=1), worker_ready)
    wait_until(all_finished, "every report to finish", timeout=120)

    started = Report.objects.order_by("started_at").values_list("report_id", "status")
    first, *rest = a_reports
    assert list(started) == [(report, "Complete") for report in [first, b_report, *rest]]
    # Once A's reports have started, A may trigger again.
    assert a.request("POST", "/api/monitor/trigger_report", {"force": True}).status == 200
