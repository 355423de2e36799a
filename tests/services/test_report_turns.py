"""Turns (services.report_turns): the cap on a client's reports waiting to start,
and the round-robin order in which different clients' reports start."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor.models import ApiKey, Report
from monitor.scope import PLATFORM, Scope
from monitor.services import report_parts, report_staleness
from monitor.services.api_keys import api_key_create
from monitor.services.organizations import organization_create
from monitor.services.report_trigger import QueueFullError, Triggered, report_trigger
from monitor.services.report_turns import Client, new_report_stage
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue

# Transactions commit, as in production: a report's job is sent once its row is.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _data() -> None:
    store_spec_examples()


def a_key(name: str) -> ApiKey:
    return api_key_create(name=name, scope=ApiKey.Scope.WRITE).api_key


def forced(*, api_key: ApiKey | None = None, scope: Scope = PLATFORM) -> Triggered:
    return report_trigger(scope=scope, as_of=SPEC_NOW, force=True, api_key=api_key)


def stages(*triggered: Triggered) -> list[str]:
    return [Report.objects.get(pk=each.report.pk).stage for each in triggered]


def start_order() -> list[str]:
    """The reports' ids in the order their jobs started."""
    started = Report.objects.exclude(started_at=None).order_by("started_at")
    return list(started.values_list("report_id", flat=True))


# ---- the cap ---------------------------------------------------------------------------------


def test_a_key_has_at_most_the_cap_waiting_and_the_next_trigger_is_refused(
    job_queue: FakeQueue,
) -> None:
    key = a_key("a")
    first, second, third = forced(api_key=key), forced(api_key=key), forced(api_key=key)

    with pytest.raises(QueueFullError) as refused:
        forced(api_key=key)

    message = str(refused.value)
    assert "REPORT_MAX_QUEUED_PER_KEY is 3" in message
    for waiting in (first, second, third):
        assert waiting.report.report_id in message
    assert "once one of them has started" in message
    assert Report.objects.count() == 3  # nothing half-made
    assert stages(first, second, third) == ["queued", "waiting", "waiting"]
    assert job_queue.keys(report_parts.REPORT_RUN) == [first.report.report_id]


def test_the_cap_is_a_setting(job_queue: FakeQueue, settings: Settings) -> None:
    settings.REPORT_MAX_QUEUED_PER_KEY = 1
    key = a_key("a")
    forced(api_key=key)
    with pytest.raises(QueueFullError, match="REPORT_MAX_QUEUED_PER_KEY is 1"):
        forced(api_key=key)


def test_a_reused_report_is_no_new_one_and_passes_the_cap(job_queue: FakeQueue) -> None:
    key = a_key("a")
    queued = [forced(api_key=key) for _ in range(3)]

    again = report_trigger(scope=PLATFORM, as_of=SPEC_NOW, api_key=key)

    assert again.reused
    assert again.report.report_id in {each.report.report_id for each in queued}
    assert Report.objects.count() == 3


def test_once_a_report_starts_its_key_may_trigger_again(job_queue: FakeQueue) -> None:
    key = a_key("a")
    first, *_ = [forced(api_key=key) for _ in range(3)]
    report_parts.report_run(job_queue.waiting.popleft()[1])  # its job starts

    fourth = forced(api_key=key)

    assert Report.objects.get(pk=first.report.pk).attempts == 1
    assert stages(fourth) == ["waiting"]


def test_each_key_has_its_own_cap_and_keyless_callers_have_one_per_organization(
    job_queue: FakeQueue,
) -> None:
    a, b = a_key("a"), a_key("b")
    acme = Scope(organization_create(slug="acme", name="Acme"))
    clients: list[dict[str, Any]] = [{"api_key": a}, {"api_key": b}, {}, {"scope": acme}]
    for client in clients:
        assert stages(*[forced(**client) for _ in range(3)]) == ["queued", "waiting", "waiting"]

    whom = ["this API key"] * 2 + ["the callers without"] * 2
    for client, who in zip(clients, whom, strict=True):
        with pytest.raises(QueueFullError, match=f"3 reports of {who}"):
            forced(**client)
    assert Report.objects.count() == 12


def test_a_finished_report_no_longer_counts(job_queue: FakeQueue) -> None:
    key = a_key("a")
    [forced(api_key=key) for _ in range(3)]
    job_queue.run_all()

    assert set(Report.objects.values_list("status", flat=True)) == {Report.Status.COMPLETE}
    assert stages(*[forced(api_key=key) for _ in range(3)]) == ["queued", "waiting", "waiting"]


# ---- turns -----------------------------------------------------------------------------------


def test_another_keys_report_starts_before_a_keys_second_and_third(job_queue: FakeQueue) -> None:
    a, b = a_key("a"), a_key("b")
    a1, a2, a3 = forced(api_key=a), forced(api_key=a), forced(api_key=a)
    b1 = forced(api_key=b)

    job_queue.run_all()  # one job at a time, in the queue's order: one worker slot

    expected = [a1, b1, a2, a3]
    assert start_order() == [each.report.report_id for each in expected]
    assert set(Report.objects.values_list("status", flat=True)) == {Report.Status.COMPLETE}


def test_three_clients_take_turns_round_robin(job_queue: FakeQueue) -> None:
    a, b = a_key("a"), a_key("b")
    a1, a2, a3 = forced(api_key=a), forced(api_key=a), forced(api_key=a)
    b1, b2 = forced(api_key=b), forced(api_key=b)
    anonymous = forced()  # the platform's keyless callers: a client of their own

    job_queue.run_all()

    expected = [a1, b1, anonymous, a2, b2, a3]
    assert start_order() == [each.report.report_id for each in expected]


def test_a_report_triggered_later_joins_the_round(job_queue: FakeQueue) -> None:
    a, b = a_key("a"), a_key("b")
    a1, a2, a3 = forced(api_key=a), forced(api_key=a), forced(api_key=a)
    report_parts.report_run(job_queue.waiting.popleft()[1])  # a1 starts: a2 is sent
    b1 = forced(api_key=b)

    job_queue.run_all()

    expected = [a1, a2, b1, a3]
    assert start_order() == [each.report.report_id for each in expected]


# ---- nothing waits for ever ------------------------------------------------------------------


def test_when_the_queue_refuses_the_next_report_it_fails_and_so_do_the_rest(
    job_queue: FakeQueue,
) -> None:
    key = a_key("a")
    first, second, third = forced(api_key=key), forced(api_key=key), forced(api_key=key)
    job_queue.refusing = True  # the broker went away

    report_parts.report_run(first.report.report_id)  # first starts: its turn passes on

    after = {
        each.report.report_id: Report.objects.get(pk=each.report.pk) for each in (second, third)
    }
    for report in after.values():
        assert (report.status, report.error) == (
            Report.Status.FAILED,
            "the job queue is unreachable; try again later",
        )
    assert not Report.objects.filter(stage=Report.Stage.WAITING, status="Running").exists()


def test_a_lost_job_fails_after_the_queue_timeout_and_the_next_report_gets_its_turn(
    job_queue: FakeQueue, settings: Settings
) -> None:
    settings.REPORT_QUEUE_TIMEOUT = 3600
    key = a_key("a")
    first, second = forced(api_key=key), forced(api_key=key)
    job_queue.drop()  # the broker lost the first report's job
    an_hour_ago = timezone.now() - timedelta(seconds=3601)
    Report.objects.update(heartbeat_at=an_hour_ago)

    read = report_staleness.report_get_failing_lost(first.report.report_id, scope=PLATFORM)

    assert read is not None
    assert read.status == Report.Status.FAILED
    assert stages(second) == ["queued"]  # released, its queue timeout from now
    assert job_queue.keys(report_parts.REPORT_RUN) == [second.report.report_id]
    job_queue.run_all()
    assert Report.objects.get(pk=second.report.pk).status == Report.Status.COMPLETE


def test_a_waiting_report_nothing_released_gets_its_turn_when_read(job_queue: FakeQueue) -> None:
    key = a_key("a")
    first, second = forced(api_key=key), forced(api_key=key)
    # Its job started and failed before passing the turn on (the process died).
    Report.objects.filter(pk=first.report.pk).update(attempts=1, status=Report.Status.FAILED)
    job_queue.drop()

    read = report_staleness.report_get_failing_lost(second.report.report_id, scope=PLATFORM)

    assert read is not None
    assert (read.status, read.stage) == (Report.Status.RUNNING, Report.Stage.QUEUED)
    assert job_queue.keys(report_parts.REPORT_RUN) == [second.report.report_id]


def test_a_waiting_report_fails_after_the_queue_timeout_like_a_queued_one(
    job_queue: FakeQueue, settings: Settings
) -> None:
    settings.REPORT_QUEUE_TIMEOUT = 3600
    key = a_key("a")
    forced(api_key=key)
    second = forced(api_key=key)
    Report.objects.update(heartbeat_at=timezone.now() - timedelta(seconds=3601))

    assert report_staleness.reports_fail_stale(report_ids=[second.report.report_id]) == 1
    failed = Report.objects.get(pk=second.report.pk)
    assert (failed.status, failed.stage) == (Report.Status.FAILED, Report.Stage.WAITING)
    assert "no worker started the report's job within 3600 s" in failed.error


def test_a_restarted_process_requeues_the_queued_not_the_waiting(job_queue: FakeQueue) -> None:
    key = a_key("a")
    first, _second = forced(api_key=key), forced(api_key=key)

    left = report_staleness.reports_left_queued(before=timezone.now())

    assert left == [first.report.report_id]


# ---- concurrent triggers ---------------------------------------------------------------------


def test_concurrent_triggers_of_one_key_pass_exactly_the_cap(
    job_queue: FakeQueue, settings: Settings
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite takes one writer at a time)")
    settings.REPORT_MAX_QUEUED_PER_KEY = 5
    key = a_key("a")
    clients = 24
    barrier = threading.Barrier(clients)

    def trigger(_: int) -> str:
        try:
            barrier.wait(30)
            forced(api_key=key)
            return "passed"
        except QueueFullError:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(trigger, range(clients)))

    assert outcomes.count("passed") == 5
    assert outcomes.count("refused") == clients - 5
    mine = Report.objects.filter(api_key=key)
    assert mine.count() == 5
    assert list(mine.values_list("stage", flat=True).order_by("stage")) == [
        "queued",
        *["waiting"] * 4,
    ]


def test_concurrent_reports_of_one_client_count_under_its_lock_alone(
    job_queue: FakeQueue, settings: Settings
) -> None:
    # A trigger also holds the data version's row while it decides; this is
    # the client's lock on its own, as when an import holds that row.
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite takes one writer at a time)")
    key = a_key("a")
    client = Client(key.pk, None)
    writers = 16
    barrier = threading.Barrier(writers)

    def create(_: int) -> str:
        try:
            barrier.wait(30)
            with transaction.atomic():
                stage = new_report_stage(client, may_refuse=True)
                Report.objects.create(stage=stage, api_key=key)
            return stage
        except QueueFullError:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=writers) as pool:
        outcomes = sorted(pool.map(create, range(writers)))

    assert outcomes == ["enqueuing", *["refused"] * (writers - 3), "waiting", "waiting"]
