"""The store story service: its figures are the report CSV's row, its outages add up."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from monitor.models import BusinessHours, StatusPoll, Store
from monitor.scope import PLATFORM
from monitor.services.reports import report_generate
from monitor.services.stores import (
    StoreListError,
    StoreNotFoundError,
    store_story,
    stores_list,
)
from tests.report_data import SPEC_NOW, store_random_data, store_spec_examples

pytestmark = pytest.mark.django_db
TICKS_PER_HOUR = 3600 * 2_000_000


def csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {row["store_id"]: row for row in csv.DictReader(io.StringIO(text))}


def test_spec_example_1_figures_outage_and_switch() -> None:
    store_spec_examples()

    story = store_story("example-1", SPEC_NOW, scope=PLATFORM)

    assert story.figures is not None
    assert story.figures.columns == {
        "uptime_last_hour": "25.00",
        "uptime_last_day": "23.42",
        "uptime_last_week": "167.42",
        "downtime_last_hour": "35.00",
        "downtime_last_day": "0.58",
        "downtime_last_week": "0.58",
    }
    assert story.figures.business == {
        "business_last_hour": "60.00",
        "business_last_day": "24.00",
        "business_last_week": "168.00",
    }
    (outage,) = story.outages
    assert (outage.start, outage.end) == (SPEC_NOW - timedelta(minutes=35), SPEC_NOW)
    assert outage.start_local.isoformat() == "2023-01-25T11:25:00-06:00"
    assert outage.minutes == 35
    assert (story.timezone, story.timezone_is_default) == ("America/Chicago", True)
    first, last = story.polls
    assert first.holds_until == last.holds_from == SPEC_NOW - timedelta(minutes=35)
    assert story.last_poll == last
    assert story.last_poll_age_seconds == 20 * 60


@pytest.mark.parametrize(
    "end", [SPEC_NOW, datetime(2024, 3, 12, 12, tzinfo=UTC), datetime(2024, 11, 4, 12, tzinfo=UTC)]
)
def test_figures_equal_the_report_csv_and_outages_add_up(end: datetime) -> None:
    store_random_data(stores=12, seed=11, end=end)
    as_of = end - timedelta(hours=5, microseconds=1)
    report = report_generate(as_of=as_of)
    rows = csv_rows(report.csv())
    downtime = dict(
        zip(report.table.store_ids.tolist(), report.table.downtime.tolist(), strict=True)
    )

    for store_id, row in rows.items():
        story = store_story(store_id, as_of, scope=PLATFORM)
        assert story.figures is not None
        assert story.figures.columns == {k: v for k, v in row.items() if k != "store_id"}
        assert sum(outage.ticks for outage in story.outages) == downtime[store_id][2]
        assert sum(s.ticks for s in story.segments) == story.figures.business_ticks[2]
        assert sum(i.ticks for i in story.business_intervals) == story.figures.business_ticks[2]


def test_unknown_store_and_store_without_polls() -> None:
    store_spec_examples()

    with pytest.raises(StoreNotFoundError):
        store_story("nope", SPEC_NOW, scope=PLATFORM)
    story = store_story("never-polled", SPEC_NOW, scope=PLATFORM)
    assert story.figures is None
    assert story.last_poll is None
    assert (story.outages, story.segments, story.polls) == ((), (), ())
    assert story.as_of == SPEC_NOW
    assert not story.reported


def test_poll_after_as_of_does_not_exist() -> None:
    store_spec_examples()

    story = store_story("example-2", SPEC_NOW - timedelta(hours=4), scope=PLATFORM)

    assert story.figures is None  # its only poll is at 15:00
    assert story.polls == ()


def test_default_as_of_is_the_latest_poll_and_hours_are_as_stored() -> None:
    store_spec_examples()

    story = store_story("example-2", scope=PLATFORM)

    assert story.as_of == SPEC_NOW - timedelta(minutes=20)
    assert story.business_hours[0].start_time_local == time(9)
    assert len(story.business_hours) == 7
    assert story.timezone == "America/New_York"


def test_without_any_poll_stored_there_is_no_as_of() -> None:
    Store.objects.create(store_id="alone")

    story = store_story("alone", scope=PLATFORM)

    assert (story.as_of, story.figures) == (None, None)


def test_half_microsecond_boundary_is_truncated_and_length_exact() -> None:
    store = Store.objects.create(store_id="half")
    BusinessHours.objects.create(
        store=store, day_of_week=2, start_time_local=time(0), end_time_local=time(0)
    )
    StatusPoll.objects.bulk_create(
        [
            StatusPoll(store=store, timestamp_utc=SPEC_NOW - timedelta(minutes=30), active=True),
            StatusPoll(
                store=store,
                timestamp_utc=SPEC_NOW - timedelta(minutes=30, microseconds=-1),
                active=False,
            ),
        ]
    )

    (outage,) = store_story("half", SPEC_NOW, scope=PLATFORM).outages

    assert outage.start == SPEC_NOW - timedelta(minutes=30)
    assert outage.ticks == 30 * 60 * 2_000_000 - 1


# stores_list


def test_list_search_is_an_exact_prefix_and_pages() -> None:
    for store_id in ["ab1", "ab2", "AB3", "b", "a_c"]:
        Store.objects.create(store_id=store_id)

    assert [s.store_id for s in stores_list(scope=PLATFORM, search="ab").stores] == ["ab1", "ab2"]
    assert [s.store_id for s in stores_list(scope=PLATFORM, search="a_").stores] == ["a_c"]
    page = stores_list(scope=PLATFORM, limit=2, offset=1)
    assert page.total == 5
    assert [s.store_id for s in page.stores] == ["a_c", "ab1"]


def test_list_last_poll_and_week_count() -> None:
    store_spec_examples()
    old = Store.objects.create(store_id="old", timezone_str="Asia/Kolkata")
    StatusPoll.objects.create(store=old, timestamp_utc=SPEC_NOW - timedelta(days=9), active=False)

    listed = {s.store_id: s for s in stores_list(scope=PLATFORM).stores}

    assert listed["example-1"].last_poll_at == SPEC_NOW - timedelta(minutes=20)
    assert listed["example-1"].last_poll_active is False
    assert listed["example-1"].polls_last_week == 2
    assert listed["old"].polls_last_week == 0
    assert listed["never-polled"].last_poll_at is None
    ordered = [s.store_id for s in stores_list(scope=PLATFORM, order="last_poll").stores]
    assert ordered == ["never-polled", "old", "example-2", "example-1"]
    newest = [s.store_id for s in stores_list(scope=PLATFORM, order="-last_poll").stores]
    assert newest == ["example-1", "example-2", "old", "never-polled"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"order": "name"}, "order must be one of"),
        ({"limit": 0}, "limit must be between 1 and 500"),
        ({"limit": 501}, "limit must be between 1 and 500"),
        ({"offset": -1}, "offset must be between 0 and 1000000000"),
        ({"offset": 10**9 + 1}, "offset must be between 0 and 1000000000"),
    ],
)
def test_list_rejects_bad_parameters(params: dict[str, Any], reason: str) -> None:
    with pytest.raises(StoreListError, match=reason):
        stores_list(scope=PLATFORM, **params)


def test_as_of_without_offset_is_refused() -> None:
    store_spec_examples()

    with pytest.raises(ValueError, match="no UTC offset"):
        store_story("example-1", datetime(2023, 1, 25, 18), scope=PLATFORM)
    assert store_story("example-1", SPEC_NOW.astimezone(UTC), scope=PLATFORM).as_of == SPEC_NOW
