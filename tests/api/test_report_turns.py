"""trigger_report and the cap on a key's reports waiting to start (services.report_turns)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import ApiKey, Report
from monitor.services.api_keys import api_key_create
from tests.report_data import store_spec_examples
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db

TRIGGER = "/api/monitor/trigger_report"
AS_OF = {"as_of": "2023-01-25T18:13:22Z"}


def trigger(client: Client, key: str, body: Mapping[str, object]) -> tuple[int, dict[str, Any]]:
    answer = client.post(
        TRIGGER, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    return answer.status_code, answer.json()


def test_a_key_beyond_the_cap_gets_429_naming_the_limit_and_what_to_do(
    client: Client, settings: Settings, job_queue: FakeQueue
) -> None:
    settings.API_KEYS_REQUIRED = True
    store_spec_examples()
    mine = api_key_create(name="mine", scope=ApiKey.Scope.WRITE).key
    other = api_key_create(name="other", scope=ApiKey.Scope.WRITE).key
    forced: dict[str, object] = {**AS_OF, "force": True}
    waiting = [trigger(client, mine, forced)[1]["report_id"] for _ in range(3)]

    status, body = trigger(client, mine, forced)

    assert status == 429
    assert set(body) == {"error"}
    error = str(body["error"])
    assert "REPORT_MAX_QUEUED_PER_KEY is 3" in error
    assert all(report_id in error for report_id in waiting)
    assert "trigger again once one of them has started" in error
    # A reused report is handed out all the same; another key has a cap of its own.
    assert trigger(client, mine, AS_OF)[0] == 200
    assert trigger(client, other, forced)[0] == 200
    assert Report.objects.filter(api_key__name="mine").count() == 3
