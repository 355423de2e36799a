"""The calendar over HTTP (docs/report-semantics.md §9, §10): special hours and exclusions
posted like the other sources, a store's dates set and removed, exclusions listed and removed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from monitor.models import Exclusion, SpecialHours, StatusPoll, Store
from monitor.services.reports import report_generate

pytestmark = pytest.mark.django_db

SPECIAL = "/api/monitor/special_hours"
EXCLUSIONS = "/api/monitor/exclusions"
NOW = datetime(2023, 1, 25, 18, tzinfo=UTC)


def test_special_hours_in_json_ndjson_and_csv_give_the_same_answer(client: Client) -> None:
    rows = [
        {"store_id": "s", "date": "2023-12-25", "start_time_local": "", "end_time_local": ""},
        {"store_id": "s", "date": "2023-12-24", "start_time_local": "9:00", "end_time_local": ""},
    ]
    ndjson = "".join(f"{json.dumps(row)}\n" for row in rows)
    csv = "store_id,date,start_time_local,end_time_local\ns,2023-12-25,,\ns,2023-12-24,9:00,\n"
    answers = [
        client.post(SPECIAL, rows, content_type="application/json").json(),
        client.post(SPECIAL, ndjson, content_type="application/x-ndjson").json(),
        client.post(SPECIAL, csv, content_type="text/csv").json(),
    ]
    assert [answer["loaded"] for answer in answers] == [1, 1, 1]
    assert [answer["rejected"] for answer in answers] == [1, 1, 1]
    assert {answer["errors"][0]["reason"] for answer in answers} == {
        "end_time_local is empty while start_time_local is not (both empty: closed, or neither)"
    }
    assert SpecialHours.objects.count() == 1


def test_exclusions_posted_counted_listed_and_removed(client: Client) -> None:
    rows = [
        {"store_id": "*", "start_utc": "2023-01-25 17:00:00", "end_utc": "2023-01-25 17:30:00"},
        {
            "store_id": "s",
            "start_utc": "2023-01-25T10:00:00Z",
            "end_utc": "2023-01-25T11:00:00Z",
            "reason": "maintenance",
        },
        {"store_id": "*", "start_utc": "2023-01-25T17:00:00Z", "end_utc": "2023-01-25T17:30:00Z"},
    ]
    answer = client.post(EXCLUSIONS, rows, content_type="application/json").json()
    assert answer == {"loaded": 2, "duplicates": 1, "rejected": 0, "errors": []}
    Store.objects.create(store_id="other")

    listed = client.get(EXCLUSIONS, {"store_id": "s"}).json()
    assert listed["total"] == 2
    assert [(e["store_id"], e["start_utc"], e["reason"]) for e in listed["exclusions"]] == [
        ("s", "2023-01-25T10:00:00+00:00", "maintenance"),
        ("*", "2023-01-25T17:00:00+00:00", ""),
    ]
    assert client.get(EXCLUSIONS, {"store_id": "other"}).json()["total"] == 1
    assert client.get(EXCLUSIONS, {"store_id": "*"}).json()["total"] == 1
    assert client.get(EXCLUSIONS).json()["total"] == 2
    page = client.get(EXCLUSIONS, {"limit": 1, "offset": 1}).json()
    assert (page["total"], [e["store_id"] for e in page["exclusions"]]) == (2, ["*"])
    assert client.get(EXCLUSIONS, {"store_id": "nowhere"}).status_code == 404
    assert client.get(EXCLUSIONS, {"limit": 0}).status_code == 400
    for blank in ("offset", "store_id"):  # empty is no value: not the default, nor "no store"
        answer = client.get(f"{EXCLUSIONS}?{blank}=")
        assert answer.status_code == 400
        assert answer.json() == {"error": f"{blank}: This field may not be blank."}
    huge = client.get(EXCLUSIONS, {"offset": 10**30})  # past SQLite's 64-bit OFFSET
    assert huge.status_code == 400

    first = listed["exclusions"][0]["id"]
    assert client.delete(f"{EXCLUSIONS}/{first}").status_code == 204
    missing = client.delete(f"{EXCLUSIONS}/{first}")
    assert missing.status_code == 404
    assert missing.json() == {"error": f"no exclusion with id {first}"}
    assert Exclusion.objects.count() == 1


def test_a_store_date_set_listed_and_removed_and_the_figures_come_back(client: Client) -> None:
    store = Store.objects.create(store_id="s", timezone_str="UTC")
    StatusPoll.objects.create(store=store, timestamp_utc=NOW - timedelta(days=8), active=True)
    StatusPoll.objects.create(store=store, timestamp_utc=NOW, active=True)
    before = report_generate(as_of=NOW).csv()
    url = "/api/monitor/stores/s/special_hours"

    closed = client.put(
        f"{url}/2023-01-24",
        [{"start_time_local": "", "end_time_local": ""}],
        content_type="application/json",
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json() == {
        "store_id": "s",
        "date": "2023-01-24",
        "closed": True,
        "rows": [{"start_time_local": "", "end_time_local": ""}],
    }
    assert report_generate(as_of=NOW).csv().splitlines()[1] == "s,60.00,18.00,144.00,0.00,0.00,0.00"
    opened = client.put(
        f"{url}/2023-01-24",
        [{"start_time_local": "9:00", "end_time_local": "17:00", "store_id": "ignored"}],
        content_type="application/json",
    )
    assert opened.json()["rows"] == [{"start_time_local": "09:00:00", "end_time_local": "17:00:00"}]
    assert client.get(url).json() == {
        "store_id": "s",
        "special_hours": [
            {
                "date": "2023-01-24",
                "closed": False,
                "rows": [{"start_time_local": "09:00:00", "end_time_local": "17:00:00"}],
            }
        ],
    }

    assert client.delete(f"{url}/2023-01-24").status_code == 204
    assert report_generate(as_of=NOW).csv() == before
    missing = client.delete(f"{url}/2023-01-24")
    assert missing.status_code == 404
    assert missing.json() == {"error": "store 's' has no special hours on 2023-01-24"}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        (
            "2023-02-30",
            [{"start_time_local": "", "end_time_local": ""}],
            "date '2023-02-30' is not a real date",
        ),
        ("2023-01-24", [], "a non-empty JSON array"),
        ("2023-01-24", [{"start_time_local": "9:00"}], "item 1: end_time_local is missing"),
    ],
)
def test_a_bad_date_or_body_is_refused_whole(
    client: Client, path: str, body: object, error: str
) -> None:
    answer = client.put(
        f"/api/monitor/stores/s/special_hours/{path}", body, content_type="application/json"
    )
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert not SpecialHours.objects.exists()


def test_a_store_without_a_row_is_404(client: Client) -> None:
    assert client.get("/api/monitor/stores/nowhere/special_hours").status_code == 404
    assert client.delete("/api/monitor/stores/nowhere/special_hours/2023-01-24").status_code == 404


def test_closed_rows_in_business_hours_over_http(client: Client) -> None:
    rows = [
        {"store_id": "s", "day": "2", "start_time_local": "", "end_time_local": ""},
        {"store_id": "s", "day": "3", "start_time_local": "", "end_time_local": "12:00"},
    ]
    answer = client.post("/api/monitor/business_hours", rows, content_type="application/json")
    assert (answer.json()["loaded"], answer.json()["rejected"]) == (1, 1)
    put = client.put(
        "/api/monitor/stores/s/business_hours",
        [{"day": "6", "start_time_local": "", "end_time_local": ""}],
        content_type="application/json",
    )
    assert put.json()["business_hours"] == [
        {"day": "6", "start_time_local": "", "end_time_local": ""}
    ]
