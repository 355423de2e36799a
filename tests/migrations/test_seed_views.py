"""Migration 0010: the original service's tables as read-only views on PostgreSQL.
`report` says what the report's CSV says; the others, the stored data."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from pytest_django.fixtures import Settings

from monitor.models import BusinessHours, Report, StatusPoll, Store
from monitor.selectors import report_csv
from monitor.services import report_parts
from tests.report_data import SPEC_NOW, store_random_data
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the views are PostgreSQL's (migration 0010)"
)

# Ids a CSV must quote (a comma, a quote, line breaks), and others it need not.
ODD_STORE_IDS = ["with,comma", 'with "quotes"', "two\nlines", "ünï ☃", "007"]
SEED_VIEWS = ["report", "report_status", "store_business_hour", "store_status", "timezones"]


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return sorted(cursor.fetchall())


def odd_stores() -> list[Store]:
    """Stores with ODD_STORE_IDS, polled every 40 minutes over 8 days, open 09–17 on weekdays."""
    stores = [Store.objects.create(store_id=store_id) for store_id in ODD_STORE_IDS]
    StatusPoll.objects.bulk_create(
        StatusPoll(
            store=store,
            timestamp_utc=SPEC_NOW - timedelta(minutes=40 * n + number),
            active=(n + number) % 5 != 0,
        )
        for number, store in enumerate(stores)
        for n in range(8 * 36)
    )
    BusinessHours.objects.bulk_create(
        BusinessHours(
            store=store, day_of_week=day, start_time_local=time(9), end_time_local=time(17)
        )
        for store in stores
        for day in range(5)
    )
    return stores


@postgresql_only
def test_the_seed_tables_read_the_stored_data() -> None:
    store_random_data(stores=6, seed=11)
    odd_stores()
    Report.objects.create(report_id="r-running")
    Report.objects.create(report_id="r-failed", status=Report.Status.FAILED)

    assert rows("SELECT store_id, status, timestamp_utc FROM store_status") == sorted(
        (store_id, "active" if active else "inactive", instant)
        for store_id, active, instant in StatusPoll.objects.values_list(
            "store__store_id", "active", "timestamp_utc"
        )
    )
    assert rows(
        "SELECT store_id, day, start_time_local, end_time_local FROM store_business_hour"
    ) == sorted(
        BusinessHours.objects.values_list(
            "store__store_id", "day_of_week", "start_time_local", "end_time_local"
        )
    )
    # Stores without a zone have no row, as in the original file.
    assert rows("SELECT store_id, timezone_str FROM timezones") == sorted(
        Store.objects.exclude(timezone_str="").values_list("store_id", "timezone_str")
    )
    assert rows("SELECT report_id, status FROM report_status") == [
        ("r-failed", "Failed"),
        ("r-running", "Running"),
    ]


@postgresql_only
def test_the_timestamps_are_instants() -> None:
    store = Store.objects.create(store_id="s")
    StatusPoll.objects.create(store=store, timestamp_utc=SPEC_NOW, active=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT timestamp_utc FROM store_status")
        ((read,),) = cursor.fetchall()
    assert read == SPEC_NOW  # timestamptz: an aware instant


@postgresql_only
def test_the_report_view_says_what_the_csv_says(settings: Settings, job_queue: FakeQueue) -> None:
    store_random_data(stores=9, seed=5)
    odd_stores()
    settings.REPORT_SHARD_STORES = 4  # several parts
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    running = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    job_queue.run_all()
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE
    assert report.part_count > 1

    header, *csv_rows = csv.reader(io.StringIO(report_csv(report), newline=""))
    viewed = rows(
        "SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week, "
        "downtime_last_hour, downtime_last_day, downtime_last_week FROM report "
        "WHERE report_id = %s",
        [report.report_id],
    )
    assert header[1:] == [
        "uptime_last_hour",
        "uptime_last_day",
        "uptime_last_week",
        "downtime_last_hour",
        "downtime_last_day",
        "downtime_last_week",
    ]
    # The same numbers to the cent (numeric keeps the CSV's two decimals).
    assert [(row[0], *map(str, row[1:])) for row in viewed] == sorted(map(tuple, csv_rows))
    assert {row[0] for row in viewed} >= set(ODD_STORE_IDS)
    # A report not Complete has no rows yet.
    assert rows("SELECT * FROM report WHERE report_id = %s", [running.report_id]) == []


@postgresql_only
@pytest.mark.parametrize("view", SEED_VIEWS)
def test_the_views_cannot_be_written_through(view: str) -> None:
    Report.objects.create(report_id="r")
    Store.objects.create(store_id="s", timezone_str="UTC")
    with (
        pytest.raises(DatabaseError, match="view"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {view}")
    assert Report.objects.filter(report_id="r").exists()
    assert Store.objects.filter(store_id="s").exists()


def test_the_views_are_there_on_postgresql_only() -> None:
    with connection.cursor() as cursor:
        views = connection.introspection.get_table_list(cursor)
    names = sorted(view.name for view in views if view.type == "v")
    assert names == (SEED_VIEWS if connection.vendor == "postgresql" else [])
