"""Loads and reports at the same time, on PostgreSQL with real concurrent connections
(one a thread): overlapping loads, concurrent replacements, a report's snapshot,
a report in parts while polls arrive.

SQLite runs one writer at a time (its database lock), so these run on PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import orjson
import pytest
from django.db import connection, connections, transaction

from monitor import selectors
from monitor.db.postgresql import _PostgreSQLPollsStaged
from monitor.models import BusinessHours, Report, StatusPoll
from monitor.selectors import report_csv
from monitor.services import report_parts
from monitor.services.imports import Body, ImportResult, business_hours_import, polls_import
from monitor.services.reports import report_generate
from tests.report_data import SPEC_NOW, store_random_data

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2023, 1, 25, tzinfo=UTC)
WAIT = 30  # seconds: a thread stuck that long is a failure, not a slow machine


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (DATABASE_URL=postgres://…)")


def polls_body(stores: range, hours: range, *, active: bool) -> Body:
    rows = [
        {
            "store_id": f"s{store:03}",
            "status": "active" if active else "inactive",
            "timestamp_utc": (START + timedelta(hours=hour)).isoformat(),
        }
        for store in stores
        for hour in hours
    ]
    return Body(orjson.dumps(rows), "application/json")


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """`work` on the thread's own database connection, closed at the end."""

    def run() -> Any:
        try:
            return work()
        finally:
            connections.close_all()

    return run


def at_once(
    pool: ThreadPoolExecutor, importer: Callable[[Body], ImportResult], bodies: list[Body]
) -> list[ImportResult]:
    """Each body loaded in a thread of its own, all starting at the same moment."""
    barrier = threading.Barrier(len(bodies))

    def load(body: Body) -> ImportResult:
        barrier.wait(WAIT)
        return importer(body)

    futures = [pool.submit(in_thread(partial(load, body))) for body in bodies]
    return [future.result(WAIT) for future in futures]


@pytest.fixture(params=["on conflict", "plain insert first"])
def insert_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways a PostgreSQL load inserts polls: with ON CONFLICT from the start (a
    few rows), or plain first, then ON CONFLICT if one is stored already (many)."""
    fewest = 1 if request.param == "plain insert first" else 10**9
    monkeypatch.setattr(_PostgreSQLPollsStaged, "PLAIN_INSERT_MIN_ROWS", fewest)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def stored_polls() -> dict[tuple[str, datetime], bool]:
    rows = StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "active")
    return {(store, at): active for store, at, active in rows}


@pytest.mark.usefixtures("insert_path")
def test_overlapping_loads_both_succeed_and_the_first_committed_wins(
    pool: ThreadPoolExecutor,
) -> None:
    polls_import(polls_body(range(1), range(1), active=True))  # not an empty table
    first_loaded, second_started = threading.Event(), threading.Event()

    def first() -> ImportResult:
        with transaction.atomic():
            result = polls_import(polls_body(range(0, 60), range(1, 4), active=True))
            first_loaded.set()
            second_started.wait(WAIT)
            # The second load now waits on this one's rows: commit a moment later.
            threading.Event().wait(0.3)
        return result

    def second() -> ImportResult:
        first_loaded.wait(WAIT)
        second_started.set()
        return polls_import(polls_body(range(40, 100), range(1, 4), active=False))

    first_future, second_future = pool.submit(in_thread(first)), pool.submit(in_thread(second))
    first_result, second_result = first_future.result(WAIT), second_future.result(WAIT)
    # Both overlap on stores 40–59 at hours 1–3: 60 polls.
    assert (first_result.loaded, first_result.duplicates) == (180, 0)
    assert (second_result.loaded, second_result.duplicates) == (120, 60)
    stored = stored_polls()
    assert len(stored) == 1 + 100 * 3
    assert StatusPoll.objects.count() == len(stored)  # no duplicate
    overlap = [stored[f"s{store:03}", START + timedelta(hours=1)] for store in range(40, 60)]
    assert all(overlap)  # the first committed load's status


@pytest.mark.usefixtures("insert_path")
def test_loads_in_opposite_orders_at_once_never_deadlock(pool: ThreadPoolExecutor) -> None:
    polls_import(polls_body(range(1), range(1), active=True))
    ascending = polls_body(range(0, 200), range(1, 3), active=True)
    rows = orjson.loads(ascending.data)
    descending = Body(orjson.dumps(rows[::-1]), "application/json")
    for _ in range(5):
        StatusPoll.objects.filter(timestamp_utc__gt=START).delete()
        loaded = at_once(pool, polls_import, [ascending, descending])
        assert sum(result.loaded for result in loaded) == 400
        assert sum(result.duplicates for result in loaded) == 400
    assert StatusPoll.objects.count() == 1 + 400


def test_concurrent_replacements_of_a_store_s_hours_keep_one_set(
    pool: ThreadPoolExecutor,
) -> None:
    def hours(day: str) -> Body:
        rows = [
            {
                "store_id": f"s{s}",
                "day": day,
                "start_time_local": "09:00",
                "end_time_local": "17:00",
            }
            for s in range(50)
        ]
        return Body(orjson.dumps(rows), "application/json")

    for _ in range(5):
        at_once(pool, business_hours_import, [hours("1"), hours("2")])
        days = BusinessHours.objects.values_list("store__store_id", "day_of_week")
        per_store = {store: day for store, day in days}
        assert len(days) == 50  # one set, not both
        assert len(set(per_store.values())) == 1  # all from the same (the last) load


def test_a_report_reads_one_snapshot_and_does_not_hold_loads_up(
    pool: ThreadPoolExecutor,
) -> None:
    # Far more polls stored than a load brings: loads go through staging (a load at
    # least the table's size takes the direct path, whose exclusive lock waits for reads).
    polls_import(polls_body(range(100), range(-20, 2), active=True))
    as_of = START + timedelta(hours=10)

    with selectors.read_snapshot():
        before = selectors.report_inputs(as_of)
        # A load commits while the report is reading: it is not held up...
        loaded = pool.submit(
            in_thread(lambda: polls_import(polls_body(range(50, 150), range(2, 4), active=False)))
        ).result(WAIT)
        assert loaded.loaded == 200
        # ...and the report does not see any of it.
        during = selectors.report_inputs(as_of)
        assert len(during.store_ids) == len(before.store_ids) == 100
        assert np.array_equal(during.poll_time_us, before.poll_time_us)
        assert np.array_equal(during.poll_active, before.poll_active)
    after = selectors.report_inputs(as_of)
    assert len(after.store_ids) == 150
    assert len(after.poll_time_us) == len(before.poll_time_us) + 200


def test_polls_after_its_instant_arriving_throughout_do_not_hold_a_report_up(
    settings: Any,
) -> None:
    """Hourly ingestion: stores post their new polls one by one, after the
    report's instant, all through a report in ten parts. The report never reads
    them: it completes without running a part again, and is the report of its data."""
    settings.CELERY_BROKER_URL = ""
    settings.REPORT_SHARD_STORES = 4
    store_random_data(stores=40, seed=1)
    stop = threading.Event()
    posted: list[ImportResult] = []

    def post_polls() -> None:
        while not stop.is_set():
            instant = SPEC_NOW + timedelta(seconds=len(posted) + 1)
            row = {"store_id": "s0", "status": "active", "timestamp_utc": instant.isoformat()}
            posted.append(polls_import(Body(orjson.dumps([row]), "application/json")))
            stop.wait(0.05)

    report = Report.objects.create(requested_as_of=SPEC_NOW)
    with ThreadPoolExecutor(1) as pool:
        feeding = pool.submit(in_thread(post_polls))
        try:
            report_parts.report_run(report.report_id)
        finally:
            stop.set()
            feeding.result(timeout=WAIT)

    stored = Report.objects.get(pk=report.pk)
    assert (stored.status, stored.error, stored.part_count) == (Report.Status.COMPLETE, "", 10)
    assert len({part.data_version for part in stored.parts.all()}) > 1  # data did arrive
    assert stored.rounds == 0
    assert report_csv(stored) == report_generate(as_of=SPEC_NOW).csv()
