"""The store API: each figure equals the report CSV's cell, outages add up, errors are JSON."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.test import Client

from monitor.api.store_serializers import (
    ExcludedPeriodSerializer,
    FiguresSerializer,
    IntervalSerializer,
    PollSerializer,
    SegmentSerializer,
    StoreStorySerializer,
)
from monitor.models import Exclusion, SpecialHours, Store
from monitor.sample_data.generator import generate_sample_data
from monitor.services.reports import report_generate
from tests.report_data import SPEC_NOW, store_random_data, store_spec_examples

pytestmark = pytest.mark.django_db

STORES = "/api/monitor/stores"
TICKS_PER_HOUR = 3600 * 2_000_000


def store_url(store_id: str, **params: str) -> str:
    query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
    return f"{STORES}/{quote(store_id)}" + (f"?{query}" if query else "")


@pytest.mark.parametrize(
    "end",
    [
        SPEC_NOW,
        datetime(2024, 3, 12, 12, tzinfo=UTC),  # US clocks jumped forward on the 10th
        datetime(2024, 11, 4, 12, tzinfo=UTC),  # and back on the 3rd
    ],
)
def test_every_figure_is_the_report_csv_cell_and_outages_add_up(
    client: Client, end: datetime
) -> None:
    store_random_data(stores=15, seed=5, end=end)
    assert_store_answers_match_the_report(client, end - timedelta(hours=2, microseconds=3), 15)


def test_imported_sample_data_in_a_dst_week(client: Client, tmp_path: Path) -> None:
    end = datetime(2024, 3, 31, 9, tzinfo=UTC)  # Europe's clocks jumped at 01:00 UTC
    generate_sample_data(tmp_path, stores=40, seed=3, end=end)
    call_command(
        "import_data",
        "--timezones",
        str(tmp_path / "timezones.csv"),
        "--hours",
        str(tmp_path / "menu_hours.csv"),
        "--status",
        str(tmp_path / "store_status.csv"),
        stdout=io.StringIO(),
    )
    assert_store_answers_match_the_report(client, end - timedelta(minutes=30), 40)


def assert_store_answers_match_the_report(client: Client, as_of: datetime, stores: int) -> None:
    """Each store's figures are its CSV row's cells; its outages add up to its downtime."""
    report = report_generate(as_of=as_of)
    rows = list(csv.DictReader(io.StringIO(report.csv())))
    downtime_week = dict(
        zip(report.table.store_ids.tolist(), report.table.downtime[:, 2].tolist(), strict=True)
    )
    assert len(rows) == stores

    for row in rows:
        response = client.get(store_url(row["store_id"], as_of=as_of.isoformat()))
        assert response.status_code == 200
        body = response.json()
        assert body["reported"] is True
        figures = body["figures"]
        assert {key: figures[key] for key in row if key != "store_id"} == {
            key: value for key, value in row.items() if key != "store_id"
        }
        # The outages' minutes add up to the week's downtime (up to float rounding;
        # the service's exact ticks are checked in tests/services/test_stores.py).
        minutes = sum(outage["minutes"] for outage in body["outages"])
        assert minutes == pytest.approx(
            float(Fraction(downtime_week[row["store_id"]], TICKS_PER_HOUR) * 60), abs=1e-6
        )
        down = [s for s in body["segments"] if s["status"] == "inactive"]
        assert [(s["start"], s["end"]) for s in down] == [
            (o["start"], o["end"]) for o in body["outages"]
        ]


def test_spec_example_answer(client: Client) -> None:
    store_spec_examples()

    body = client.get(store_url("example-1", as_of="2023-01-25T18:00:00Z")).json()

    assert body["store_id"] == "example-1"
    assert (body["timezone"], body["timezone_is_default"]) == ("America/Chicago", True)
    assert body["business_hours"] == []
    assert body["last_poll"] == {
        "at": "2023-01-25T17:40:00+00:00",
        "status": "inactive",
        "age_seconds": 1200.0,
    }
    assert body["figures"]["uptime_last_hour"] == "25.00"
    assert body["figures"]["business_last_week"] == "168.00"
    assert body["outages"] == [
        {
            "start": "2023-01-25T17:25:00+00:00",
            "end": "2023-01-25T18:00:00+00:00",
            "start_local": "2023-01-25T11:25:00-06:00",
            "end_local": "2023-01-25T12:00:00-06:00",
            "minutes": 35.0,
        }
    ]
    assert [p["holds_from"] for p in body["polls"]] == [None, "2023-01-25T17:25:00+00:00"]


def test_store_without_poll_by_as_of_answers_without_figures(client: Client) -> None:
    store_spec_examples()

    response = client.get(store_url("never-polled", as_of="2023-01-25T18:00:00Z"))

    assert response.status_code == 200
    body = response.json()
    assert (body["reported"], body["figures"], body["last_poll"]) == (False, None, None)
    assert "not reported" in body["message"]


def test_store_ids_are_opaque_text(client: Client) -> None:
    Store.objects.create(store_id="a/b c?")
    assert client.get(store_url("a/b c?")).json()["store_id"] == "a/b c?"


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        (store_url("nope"), 404, "no store with id 'nope'"),
        (
            store_url("example-1", as_of="yesterday"),
            400,
            "as_of: 'yesterday' is not an ISO 8601 instant",
        ),
        (store_url("example-1", asof="2023-01-25T18:00:00Z"), 400, "unknown parameter(s): asof"),
        (f"{STORES}?order=name", 400, "order: "),
        (f"{STORES}?limit=0", 400, "limit: "),
        (f"{STORES}?limit=x", 400, "limit: "),
        (f"{STORES}?offset=-1", 400, "offset: "),
        (f"{STORES}?offset=99999999999999999999", 400, "offset: "),
        (store_url("a\x00b"), 404, "no store with id 'a\\x00b'"),
        (f"{STORES}?search=%00", 400, "search: "),
        (f"{STORES}?page=2", 400, "unknown parameter(s): page"),
    ],
)
def test_errors_are_json(client: Client, url: str, status: int, reason: str) -> None:
    store_spec_examples()

    response = client.get(url)

    assert response.status_code == status
    assert reason in response.json()["error"]


def test_wrong_method(client: Client) -> None:
    assert client.post(STORES).status_code == 405
    assert "error" in client.post(store_url("x")).json()


def test_store_list(client: Client) -> None:
    store_spec_examples()

    body = client.get(f"{STORES}?search=example&order=-last_poll&limit=1&offset=1").json()

    assert body["total"] == 2
    assert body["as_of"] == "2023-01-25T17:40:00+00:00"
    assert body["stores"] == [
        {
            "store_id": "example-2",
            "timezone": "America/New_York",
            "timezone_is_default": False,
            "last_poll_at": "2023-01-25T15:00:00+00:00",
            "last_poll_status": "active",
            "polls_last_week": 1,
        }
    ]


def test_hand_rendered_items_have_the_documented_fields(client: Client) -> None:
    store_spec_examples()

    body = client.get(store_url("example-1", as_of="2023-01-25T18:00:00Z")).json()

    assert set(body) == set(StoreStorySerializer().fields)
    assert set(body["figures"]) == set(FiguresSerializer().fields)
    for key, serializer in [
        ("business_intervals", IntervalSerializer),
        ("outages", IntervalSerializer),
        ("segments", SegmentSerializer),
        ("polls", PollSerializer),
    ]:
        assert body[key], key
        assert all(set(item) == set(serializer().fields) for item in body[key]), key


def test_the_weeks_special_dates_and_exclusions_are_in_the_story(client: Client) -> None:
    store_spec_examples()
    store = Store.objects.get(store_id="example-1")
    SpecialHours.objects.create(
        store=store, date=date(2023, 1, 24), start_time_local=time(9), end_time_local=time(12)
    )
    SpecialHours.objects.create(
        store=store, date=date(2023, 1, 10), start_time_local=None, end_time_local=None
    )
    Exclusion.objects.create(
        store=None,
        start_utc=SPEC_NOW - timedelta(minutes=20),
        end_utc=SPEC_NOW - timedelta(minutes=10),
        reason="poller down",
    )
    Exclusion.objects.create(
        store=store, start_utc=SPEC_NOW - timedelta(days=30), end_utc=SPEC_NOW - timedelta(days=29)
    )

    body = client.get(store_url("example-1", as_of="2023-01-25T18:00:00Z")).json()

    assert body["special_dates"] == [
        {
            "date": "2023-01-24",
            "closed": False,
            "rows": [{"start_time_local": "09:00:00", "end_time_local": "12:00:00"}],
        }
    ]
    (excluded,) = body["exclusions"]
    assert set(excluded) == set(ExcludedPeriodSerializer().fields)
    assert (excluded["store_id"], excluded["reason"], excluded["minutes"]) == (
        "*",
        "poller down",
        10.0,
    )
    # The outage of the last hour stops at the exclusion and resumes after it.
    assert [(o["start"], o["end"]) for o in body["outages"]] == [
        ("2023-01-25T17:25:00+00:00", "2023-01-25T17:40:00+00:00"),
        ("2023-01-25T17:50:00+00:00", "2023-01-25T18:00:00+00:00"),
    ]
    assert body["figures"]["downtime_last_hour"] == "25.00"
