"""`manage.py explain_store`: a readable account that adds up to the report row."""

from __future__ import annotations

from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitor.models import BusinessHours, Exclusion, SpecialHours, StatusPoll, Store
from tests.report_data import SPEC_NOW, store_spec_examples

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("explain_store", *args, stdout=out)
    return out.getvalue()


def test_spec_example_1() -> None:
    store_spec_examples()

    text = run("example-1", "--as-of", "2023-01-25T18:00:00Z")

    assert text == (
        "store example-1\n"
        "zone: America/Chicago (the default: the store has no zone)\n"
        "business hours (local wall time, as stored):\n"
        "  no rows: open 24 hours, every day\n"
        "as of 2023-01-25 18:00:00 UTC\n"
        "\n"
        "business time of the last day (local time):\n"
        "  Tue 2023-01-24 12:00:00 -0600 → Wed 2023-01-25 12:00:00 -0600  (24 h 00.00 min)\n"
        "  total 24 h 00.00 min\n"
        "\n"
        "polls (the week window's and the last before it); each status holds until the "
        "midpoint with the next poll:\n"
        "  2023-01-25 17:10:00 UTC  active\n"
        "      switch to inactive at 2023-01-25 17:25:00 UTC (midpoint of 17:10:00 and 17:40:00)\n"
        "  2023-01-25 17:40:00 UTC  inactive\n"
        "\n"
        "outages of the last week (business time while inactive):\n"
        "  2023-01-25 17:25:00 UTC → 2023-01-25 18:00:00 UTC"
        "  (local Wed 2023-01-25 11:25:00 -0600 → Wed 2023-01-25 12:00:00 -0600)  35.00 min\n"
        "  1 outage(s), 35.00 min = 0.58 h in all\n"
        "\n"
        "figures (as the report CSV prints them; uptime + downtime = business time):\n"
        "  last hour: uptime 25.00 min + downtime 35.00 min = business 60.00 min\n"
        "  last day: uptime 23.42 h + downtime 0.58 h = business 24.00 h\n"
        "  last week: uptime 167.42 h + downtime 0.58 h = business 168.00 h\n"
    )


def test_hours_overnight_and_missing_days() -> None:
    store = Store.objects.create(store_id="night", timezone_str="Asia/Kolkata")
    BusinessHours.objects.create(
        store=store, day_of_week=2, start_time_local=time(22), end_time_local=time(2)
    )
    StatusPoll.objects.create(store=store, timestamp_utc=SPEC_NOW - timedelta(hours=3), active=True)

    text = run("night", "--as-of", "2023-01-25T18:00:00Z")

    assert "  Wed 22:00:00–02:00:00 (overnight, into the next day)\n" in text
    assert "  Mon, Tue, Thu, Fri, Sat, Sun: no rows, open the whole day\n" in text
    # Spec example 3: 0.5 h of Tuesday and 1.5 h of Wednesday night in the last day.
    assert (
        "  Tue 2023-01-24 23:30:00 +0530 → Wed 2023-01-25 00:00:00 +0530  (0 h 30.00 min)" in text
    )
    assert (
        "  Wed 2023-01-25 22:00:00 +0530 → Wed 2023-01-25 23:30:00 +0530  (1 h 30.00 min)" in text
    )
    assert "  total 2 h 00.00 min\n" in text
    assert "last day: uptime 2.00 h + downtime 0.00 h = business 2.00 h" in text


def test_store_not_reported() -> None:
    store_spec_examples()
    text = run("never-polled", "--as-of", "2023-01-25T18:00:00Z")
    assert text.endswith("no poll at or before this instant: the store is not in the report\n")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["nope"], "no store with id 'nope'"),
        (["example-1", "--as-of", "soon"], "'soon' is not an ISO 8601 instant"),
    ],
)
def test_errors(args: list[str], reason: str) -> None:
    store_spec_examples()
    with pytest.raises(CommandError, match=reason):
        run(*args)


@pytest.mark.parametrize(
    ("polls_before", "outage", "figure"),
    [
        # Switch 7.5 min before: 0.125 h down.
        ((600, 300), "7.50 min = 0.13 h", "last day: uptime 23.88 h + downtime 0.13 h"),
        # Switch 7.5 s before: 0.125 min down.
        ((15, 0), "0.13 min = 0.00 h", "last hour: uptime 59.88 min + downtime 0.13 min"),
    ],
)
def test_lengths_are_rounded_half_up_as_the_csv_prints_them(
    polls_before: tuple[int, int], outage: str, figure: str
) -> None:
    # Active, then inactive from the midpoint of the two polls (§5) to the
    # as-of instant. 0.125 is exact in binary, and a float's `:.2f` prints it
    # "0.12" (half to even); the CSV rounds the exact length half up: 0.13.
    store = Store.objects.create(store_id="halves", timezone_str="UTC")
    for seconds, active in zip(polls_before, (True, False), strict=True):
        StatusPoll.objects.create(
            store=store, timestamp_utc=SPEC_NOW - timedelta(seconds=seconds), active=active
        )

    text = run("halves", "--as-of", "2023-01-25T18:00:00Z")

    assert f"  {outage.split(' = ')[0]}\n" in text  # the outage's own line
    assert f"  1 outage(s), {outage} in all\n" in text
    assert figure in text


def test_the_weeks_calendar_is_told_and_an_exclusion_cuts_the_outage() -> None:
    store = Store.objects.create(store_id="cal", timezone_str="UTC")
    now = SPEC_NOW
    StatusPoll.objects.create(store=store, timestamp_utc=now - timedelta(hours=2), active=False)
    for day in range(7):
        BusinessHours.objects.create(
            store=store, day_of_week=day, start_time_local=time(9), end_time_local=time(17)
        )
    BusinessHours.objects.create(
        store=store, day_of_week=6, start_time_local=None, end_time_local=None
    )
    SpecialHours.objects.create(
        store=store, date=date(2023, 1, 24), start_time_local=None, end_time_local=None
    )
    SpecialHours.objects.create(
        store=store, date=date(2023, 1, 25), start_time_local=time(14), end_time_local=time(20)
    )
    Exclusion.objects.create(
        store=None,
        start_utc=now - timedelta(minutes=150),
        end_utc=now - timedelta(minutes=120),
        reason="poller down",
    )

    text = run("cal", "--as-of", "2023-01-25T18:00:00Z")

    assert "  Sun closed\n" in text
    assert (
        "special hours in the week (they replace the weekday's rows that date):\n"
        "  Tue 2023-01-24 closed\n"
        "  Wed 2023-01-25 14:00:00–20:00:00\n"
    ) in text
    assert "excluded in the week (neither uptime nor downtime):\n" in text
    assert "2023-01-25 15:30:00 UTC → 2023-01-25 16:00:00 UTC" in text
    assert "[every store: poller down]" in text
    # Wednesday 14:00–18:00 but the excluded 15:30–16:00: two outages, 3.5 h.
    assert "\n  2023-01-25 14:00:00 UTC → 2023-01-25 15:30:00 UTC" in text
    assert "\n  2023-01-25 16:00:00 UTC → 2023-01-25 18:00:00 UTC" in text
    assert "  last day: uptime 0.00 h + downtime 3.50 h = business 3.50 h\n" in text
