"""Data for the report job and API tests (stored through the ORM), and a helper."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from monitor import jobqueue
from monitor.models import BusinessHours, Report, StatusPoll, Store

SPEC_NOW = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)
# Worked examples 1 and 2 of docs/report-semantics.md (§7) as of SPEC_NOW,
# as generate_report writes them.
SPEC_CSV = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week\n"
    "example-1,25.00,23.42,167.42,35.00,0.58,0.58\n"
    "example-2,60.00,8.00,56.00,0.00,0.00,0.00\n"
)
ZONES = ["", "America/Chicago", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def store_spec_examples() -> None:
    """Worked examples 1 and 2 of docs/report-semantics.md, plus a store that was never polled."""
    plain = Store.objects.create(store_id="example-1")
    StatusPoll.objects.bulk_create(
        [
            StatusPoll(store=plain, timestamp_utc=SPEC_NOW - timedelta(minutes=50), active=True),
            StatusPoll(store=plain, timestamp_utc=SPEC_NOW - timedelta(minutes=20), active=False),
        ]
    )
    new_york = Store.objects.create(store_id="example-2", timezone_str="America/New_York")
    StatusPoll.objects.create(
        store=new_york, timestamp_utc=SPEC_NOW - timedelta(hours=3), active=True
    )
    BusinessHours.objects.bulk_create(
        BusinessHours(
            store=new_york, day_of_week=day, start_time_local=time(9), end_time_local=time(17)
        )
        for day in range(7)
    )
    Store.objects.create(store_id="never-polled")


def store_random_data(*, stores: int, seed: int, end: datetime = SPEC_NOW) -> None:
    """`stores` stores polled about hourly for 8 days up to `end`, with outages,
    zones (some missing) and business hours (some overnight, some days missing)."""
    rng = random.Random(seed)
    created = Store.objects.bulk_create(
        Store(store_id=f"{rng.getrandbits(63)}", timezone_str=rng.choice(ZONES))
        for _ in range(stores)
    )
    polls: list[StatusPoll] = []
    hours: list[BusinessHours] = []
    for store in created:
        active = True
        for hour in range(8 * 24):
            if rng.random() < 0.1:  # outages and recoveries come as runs
                active = not active
            instant = end - timedelta(hours=hour, seconds=rng.randrange(3600))
            polls.append(StatusPoll(store=store, timestamp_utc=instant, active=active))
        for day in rng.sample(range(7), rng.randrange(8)):
            start, end_hour = rng.randrange(24), rng.randrange(24)
            hours.append(
                BusinessHours(
                    store=store,
                    day_of_week=day,
                    start_time_local=time(start, rng.choice([0, 30])),
                    end_time_local=time(end_hour, rng.choice([0, 45])),
                )
            )
    StatusPoll.objects.bulk_create(polls, batch_size=5000)
    BusinessHours.objects.bulk_create(hours)


def wait_for_embedded_jobs(*report_ids: str, timeout: float = 30.0) -> None:
    """Wait until the embedded set-up's job threads have finished every queued
    job, and check that each of `report_ids` is finished.

    Tests wait for the jobs rather than poll the database meanwhile: the
    SQLite test database is in memory with a shared cache, where a write that
    meets a concurrent read fails at once ("table is locked") instead of
    waiting as it does on the real database file (WAL and a busy timeout).
    """
    assert jobqueue.embedded().join(timeout), "embedded report jobs still running"
    # Safe to read now: no job thread writes any more.
    for report_id in report_ids:
        status = Report.objects.get(pk=report_id).status
        assert status != Report.Status.RUNNING, f"report {report_id} is still Running"
