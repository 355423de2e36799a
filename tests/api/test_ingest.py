"""The ingestion API (docs/report-semantics.md §9): each content type, refusal and edit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import BusinessHours, DataVersion, StatusPoll, Store
from monitor.services.imports import polls_import
from monitor.services.reports import report_generate
from tests.conftest import WriteFile

pytestmark = pytest.mark.django_db

POLLS = "/api/monitor/polls"
HOURS = "/api/monitor/business_hours"
ZONES = "/api/monitor/timezones"
POLL = {"store_id": "s1", "status": "active", "timestamp_utc": "2023-01-25T18:00:00Z"}


def post(client: Client, path: str, body: bytes | str, content_type: str) -> tuple[int, Any]:
    data = body.encode() if isinstance(body, str) else body
    response = client.generic("POST", path, data, content_type=content_type)
    return response.status_code, response.json()


def post_json(client: Client, path: str, rows: Any) -> tuple[int, Any]:
    return post(client, path, orjson.dumps(rows), "application/json")


def stored_polls() -> list[tuple[str, datetime, bool]]:
    return sorted(StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "active"))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2023, 1, 25, hour, minute, tzinfo=UTC)


# ---- the three content types ------------------------------------------------------


def test_json_rows_are_stored_and_bad_items_listed_by_position(client: Client) -> None:
    rows = [
        POLL,
        {**POLL, "timestamp_utc": "2023-01-25 18:00:00 UTC"},  # the same instant: a duplicate
        {**POLL, "status": "up"},
        5,
        {"store_id": 7, "status": None},
        {" Store_ID ": "s2", "STATUS": "Inactive", "timestamp_utc": "2023-01-25T19:30:00+01:00"},
    ]
    status, answer = post_json(client, POLLS, rows)

    assert status == 200
    assert answer == {
        "loaded": 2,
        "duplicates": 1,
        "rejected": 3,
        "errors": [
            {"row": 3, "reason": "status 'up' is neither 'active' nor 'inactive'"},
            {"row": 4, "reason": "5 (a number) where an object is expected"},
            {
                "row": 5,
                "reason": "store_id is 7 (a number), not a string; status is null, not a string; "
                "timestamp_utc is missing",
            },
        ],
    }
    assert stored_polls() == [("s1", at(18), True), ("s2", at(18, 30), False)]


def test_ndjson_rows_are_numbered_by_line_and_blank_lines_skipped(client: Client) -> None:
    lines = [orjson.dumps(POLL), b"", orjson.dumps({**POLL, "status": "?"}), b"  "]
    status, answer = post(client, POLLS, b"\n".join(lines) + b"\n", "application/x-ndjson")

    assert status == 200
    assert answer["loaded"] == 1
    assert answer["errors"] == [
        {"row": 3, "reason": "status '?' is neither 'active' nor 'inactive'"}
    ]


def test_csv_is_read_as_a_file_with_line_numbers(client: Client) -> None:
    body = (
        "\ufeffStore_Id,status,timestamp_utc,extra\ns1,active,2023-01-25T18:00:00Z,x\n\ns1,up,x,y\n"
    )
    status, answer = post(client, POLLS, body, "text/csv; charset=utf-8")

    assert status == 200
    assert (answer["loaded"], answer["rejected"]) == (1, 1)
    assert answer["errors"][0]["row"] == 4


def test_a_csv_body_gets_the_same_reasons_as_the_same_file(
    client: Client, write_file: WriteFile
) -> None:
    content = (
        "store_id,status,timestamp_utc\n"
        "s1,active,2023-01-25T18:00:00Z\n"
        ",active,2023-01-25T18:00:00Z\n"
        "s1,sleeping,2023-01-25 18:00:00Z\n"
        "s1,active,2023-01-25T18:00:00Z,extra\n"
        "s1,active\n"
    )
    _, answer = post(client, POLLS, content, "text/csv")
    from_file = polls_import(write_file("polls.csv", content))

    assert answer["errors"] == [{"row": e.line, "reason": e.reason} for e in from_file.errors]
    assert (answer["loaded"], answer["duplicates"], answer["rejected"]) == (1, 0, 4)
    assert (from_file.loaded, from_file.duplicates) == (0, 1)  # the body's poll came first


def test_json_and_csv_rows_store_the_same_data(client: Client) -> None:
    rows = [
        {"store_id": "s1", "day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
        {
            "store_id": "s1",
            "dayOfWeek": "6",
            "start_time_local": "22:00",
            "end_time_local": "02:00",
        },
    ]
    post_json(client, HOURS, rows)
    from_json = sorted(BusinessHours.objects.values_list("day_of_week", "start_time_local"))
    BusinessHours.objects.all().delete()
    csv = "store_id,day,start_time_local,end_time_local\ns1,0,09:00,17:00\ns1,6,22:00,02:00\n"
    post(client, HOURS, csv, "text/csv")

    assert from_json == [(0, time(9)), (6, time(22))]
    assert sorted(BusinessHours.objects.values_list("day_of_week", "start_time_local")) == from_json


def test_json_polls_parsed_a_column_at_a_time_store_what_csv_rows_store(client: Client) -> None:
    """A JSON body whose rows are all valid, in the common spellings, is parsed a
    column at a time; a CSV body row by row: both store the same polls."""
    spellings = [
        ("s1", "active", "2023-01-25 18:00:00.5 UTC"),
        ("s1", "inactive", "2023-01-25T18:00:00.500000Z"),  # the same instant: a duplicate
        ("s2", "inactive", "2023-01-25T18:00:00+00:00"),
        ("s2", "active", "2023-01-31 23:59:59.000000"),
        ("s3", "active", "2023-01-25T18:00:00.12345"),
    ]
    keys = ["store_id", "status", "timestamp_utc"]
    rows = [dict(zip(keys, row, strict=True)) for row in spellings]
    _, from_json = post_json(client, POLLS, rows)
    stored = stored_polls()
    StatusPoll.objects.all().delete()
    csv = "store_id,status,timestamp_utc\n" + "".join(f"{','.join(row)}\n" for row in spellings)
    _, from_csv = post(client, POLLS, csv, "text/csv")

    assert from_json == from_csv == {"loaded": 4, "duplicates": 1, "rejected": 0, "errors": []}
    assert stored_polls() == stored
    assert stored[0] == ("s1", datetime(2023, 1, 25, 18, 0, 0, 500_000, tzinfo=UTC), True)


def test_hours_replace_each_named_store_and_zones_upsert_the_last_row(client: Client) -> None:
    def hours_row(store: str, day: str) -> dict[str, str]:
        return {
            "store_id": store,
            "day": day,
            "start_time_local": "09:00",
            "end_time_local": "17:00",
        }

    post_json(client, HOURS, [hours_row("s1", "0"), hours_row("s1", "1"), hours_row("s2", "2")])
    status, answer = post_json(client, HOURS, [hours_row("s1", "3")])
    assert (status, answer["loaded"]) == (200, 1)
    assert sorted(BusinessHours.objects.values_list("store__store_id", "day_of_week")) == [
        ("s1", 3),
        ("s2", 2),
    ]

    zones = [
        {"store_id": "s1", "timezone_str": "Asia/Kolkata"},
        {"store_id": "s1", "timezone_str": "America/Denver"},
        {"store_id": "s1", "timezone_str": "Mars/Olympus"},
    ]
    status, answer = post_json(client, ZONES, zones)
    assert (status, answer["loaded"], answer["rejected"]) == (200, 1, 1)
    assert Store.objects.get(store_id="s1").timezone_str == "America/Denver"


def test_the_answer_lists_the_first_100_errors(client: Client) -> None:
    status, answer = post_json(client, POLLS, [{**POLL, "status": "?"}] * 150)

    assert (status, answer["rejected"], len(answer["errors"])) == (200, 150, 100)
    assert answer["errors"][-1]["row"] == 100


def test_posted_polls_are_in_the_next_report(client: Client) -> None:
    post_json(client, POLLS, [POLL, {**POLL, "store_id": "s2"}])

    report = report_generate().csv()
    assert [line.split(",")[0] for line in report.splitlines()[1:]] == ["s1", "s2"]


# ---- refused whole ----------------------------------------------------------------

VALID_CSV = "store_id,status,timestamp_utc\ns1,active,2023-01-25T18:00:00Z\n"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b'[{"store_id": "s1",', "application/json", "not JSON"),
        (b'{"store_id": "s1"}', "application/json", "a JSON array of objects is expected"),
        (orjson.dumps(POLL) + b"\n{oops\n", "application/x-ndjson", "line 2 is not JSON"),
        (b"store_id,state,timestamp_utc\ns1,active,x\n", "text/csv", "no 'status' column"),
        (VALID_CSV.encode() + b"s2,active,2023-01-25T18:00:00\xff\n", "text/csv", "not UTF-8"),
        (b"", "application/json", "the body is empty"),
    ],
    ids=["json-syntax", "json-not-array", "ndjson-syntax", "csv-header", "csv-utf8", "empty"],
)
def test_an_unreadable_body_is_400_and_nothing_stored(
    client: Client, body: bytes, content_type: str, reason: str
) -> None:
    status, answer = post(client, POLLS, body, content_type)

    assert status == 400
    assert set(answer) == {"error"}
    assert reason in answer["error"]
    assert not StatusPoll.objects.exists()
    assert not Store.objects.exists()


def as_body(content_type: str, rows: list[dict[str, str]]) -> bytes:
    if content_type == "application/json":
        return orjson.dumps(rows)
    if content_type == "application/x-ndjson":
        return b"\n".join(map(orjson.dumps, rows))
    return (
        "store_id,status,timestamp_utc\n" + "".join(",".join(r.values()) + "\n" for r in rows)
    ).encode()


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", "text/csv"])
def test_more_rows_than_ingest_max_rows_is_413_and_nothing_stored(
    client: Client, settings: Settings, content_type: str
) -> None:
    settings.INGEST_MAX_ROWS = 3
    rows = [{**POLL, "store_id": f"s{n}"} for n in range(4)]

    status, answer = post(client, POLLS, as_body(content_type, rows), content_type)
    assert status == 413
    assert "more than 3 rows" in answer["error"]
    assert "INGEST_MAX_ROWS" in answer["error"]
    assert not StatusPoll.objects.exists()
    assert post(client, POLLS, as_body(content_type, rows[:3]), content_type)[0] == 200


def test_more_rows_than_a_csv_batch_still_counts_every_row(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.ingest import reader

    monkeypatch.setattr(reader, "BATCH_ROWS", 2)  # the limit is passed within the stream
    settings.INGEST_MAX_ROWS = 5
    rows = [{**POLL, "store_id": f"s{n}"} for n in range(5)] + [{**POLL, "status": "?"}]

    status, _ = post(client, POLLS, as_body("text/csv", rows), "text/csv")
    assert status == 413
    assert not StatusPoll.objects.exists()


def test_a_body_over_ingest_max_bytes_is_413(client: Client, settings: Settings) -> None:
    settings.INGEST_MAX_BYTES = 100
    status, answer = post(client, POLLS, VALID_CSV * 3, "text/csv")

    assert status == 413
    assert "over 100 bytes" in answer["error"]
    assert "INGEST_MAX_BYTES" in answer["error"]
    assert post(client, POLLS, VALID_CSV, "text/csv")[0] == 200


@pytest.mark.parametrize("path", [POLLS, HOURS, ZONES])
def test_another_content_type_is_415_listing_the_accepted_ones(client: Client, path: str) -> None:
    status, answer = post(client, path, VALID_CSV, "text/plain")

    assert status == 415
    assert answer["error"].endswith(
        "Content-Type: application/json, application/x-ndjson or text/csv."
    )


@pytest.mark.parametrize("path", [POLLS, HOURS, ZONES])
def test_another_method_is_405(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"POST", "OPTIONS"}


# ---- one store's hours and zone -----------------------------------------------------


def put(client: Client, path: str, body: Any) -> tuple[int, Any]:
    response = client.put(path, orjson.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_put_hours_replaces_the_store_hours_and_answers_them(client: Client) -> None:
    day = {"day": "2", "start_time_local": "22:00", "end_time_local": "02:00:00.5"}
    put(client, "/api/monitor/stores/s1/business_hours", [{**day, "day": "0"}])
    status, answer = put(
        client, "/api/monitor/stores/s1/business_hours", [day, {**day, "day": "1"}]
    )

    assert status == 200
    assert answer == {
        "store_id": "s1",
        "business_hours": [
            {"day": "1", "start_time_local": "22:00:00", "end_time_local": "02:00:00.500000"},
            {"day": "2", "start_time_local": "22:00:00", "end_time_local": "02:00:00.500000"},
        ],
    }
    assert sorted(BusinessHours.objects.values_list("day_of_week", flat=True)) == [1, 2]


def test_put_an_empty_list_removes_the_hours_open_all_week(client: Client) -> None:
    row = {"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"}
    put(client, "/api/monitor/stores/s1/business_hours", [row])
    status, answer = put(client, "/api/monitor/stores/s1/business_hours", [])

    assert (status, answer) == (200, {"store_id": "s1", "business_hours": []})
    assert not BusinessHours.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            [
                {"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
                {"day": "7", "start_time_local": "09:00", "end_time_local": "17:00"},
            ],
            "item 2: day '7' is not an integer from 0 (Monday) to 6 (Sunday)",
        ),
        ([{"day": 0, "start_time_local": "09:00"}], "item 1: day is 0 (a number), not a string"),
        ({"day": "0"}, "a JSON array"),
    ],
)
def test_put_invalid_hours_is_400_and_changes_nothing(
    client: Client, body: Any, reason: str
) -> None:
    row = {"day": "5", "start_time_local": "09:00", "end_time_local": "17:00"}
    put(client, "/api/monitor/stores/s1/business_hours", [row])
    status, answer = put(client, "/api/monitor/stores/s1/business_hours", body)

    assert status == 400
    assert reason in answer["error"]
    assert list(BusinessHours.objects.values_list("day_of_week", flat=True)) == [5]


def test_put_timezone_sets_it_and_answers_it(client: Client) -> None:
    status, answer = put(
        client, "/api/monitor/stores/s1/timezone", {"timezone_str": "Asia/Kolkata"}
    )

    assert (status, answer) == (200, {"store_id": "s1", "timezone_str": "Asia/Kolkata"})
    assert Store.objects.get(store_id="s1").timezone_str == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"timezone_str": "asia/kolkata"}, "did you mean 'Asia/Kolkata'?"),
        ({"timezone_str": 5}, "timezone_str is 5 (a number), not a string"),
        ({"timezone": "Asia/Kolkata"}, '{"timezone_str": "<IANA zone name>"} is expected'),
        (["Asia/Kolkata"], '{"timezone_str": "<IANA zone name>"} is expected'),
    ],
)
def test_put_an_invalid_timezone_is_400_and_changes_nothing(
    client: Client, body: Any, reason: str
) -> None:
    status, answer = put(client, "/api/monitor/stores/s1/timezone", body)

    assert status == 400
    assert reason in answer["error"]
    assert not Store.objects.exists()


def test_put_with_a_body_that_is_not_json(client: Client) -> None:
    path = "/api/monitor/stores/s1/timezone"
    response = client.put(path, b"{", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]
    response = client.put(path, b"Asia/Kolkata", content_type="text/plain")
    assert response.status_code == 415


def test_put_to_a_blank_store_id_is_400(client: Client) -> None:
    status, answer = put(client, "/api/monitor/stores/%20/timezone", {"timezone_str": "UTC"})
    assert (status, answer) == (400, {"error": "store_id is empty"})


def data_version() -> int:
    row = DataVersion.objects.first()
    return row.version if row is not None else 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", POLLS, [POLL]),
        (
            "POST",
            HOURS,
            [
                {
                    "store_id": "s1",
                    "day": "0",
                    "start_time_local": "09:00",
                    "end_time_local": "17:00",
                }
            ],
        ),
        ("POST", ZONES, [{"store_id": "s1", "timezone_str": "Asia/Kolkata"}]),
        (
            "PUT",
            "/api/monitor/stores/s1/business_hours",
            [{"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"}],
        ),
        ("PUT", "/api/monitor/stores/s1/business_hours", []),
        ("PUT", "/api/monitor/stores/s1/timezone", {"timezone_str": "Asia/Kolkata"}),
    ],
)
def test_every_write_bumps_the_data_version_once(
    client: Client, method: str, path: str, body: Any
) -> None:
    """So that no report made before it is reused after it (services.data_version)."""
    before = data_version()
    response = client.generic(method, path, orjson.dumps(body), content_type="application/json")

    assert response.status_code == 200
    assert data_version() == before + 1


def test_a_store_id_with_a_slash_is_edited_and_still_read(client: Client) -> None:
    status, answer = put(client, "/api/monitor/stores/a/b/timezone", {"timezone_str": "UTC"})

    assert (status, answer) == (200, {"store_id": "a/b", "timezone_str": "UTC"})
    read = client.get("/api/monitor/stores/a/b")  # the store API's view, not an edit view
    assert (read.status_code, read.json()["timezone"]) == (200, "UTC")


def test_data_bodies_have_their_own_limit_not_the_api_s(client: Client, settings: Settings) -> None:
    # Polls arrive by the hour in large batches: the general body limit (that
    # trigger_report's body has) must not cut them, INGEST_MAX_BYTES does.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    assert post(client, POLLS, VALID_CSV, "text/csv")[0] == 200
    refused = client.post(
        "/api/monitor/stores/s1/timezone", {"timezone_str": "Asia/Kolkata"}, "application/json"
    )
    assert refused.status_code == 413


# ---- amendment 5: what may not get in, by any way in --------------------------------

OUT_OF_RANGE_POLLS = [
    ({**POLL, "timestamp_utc": "9999-12-31T00:00:00Z"}, "is after"),
    ({**POLL, "timestamp_utc": "0001-01-01 00:00:00"}, "is before 1970-01-01 00:00:00 UTC"),
    ({**POLL, "timestamp_utc": "1969-12-31T23:59:59.999999Z"}, "is before 1970"),
    ({**POLL, "store_id": "s\u202e1"}, "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ({**POLL, "store_id": "s\u200b1"}, "U+200B (ZERO WIDTH SPACE)"),
    ({**POLL, "store_id": "s" * 256}, "has 256 characters; a store id has at most 255"),
]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", "text/csv"])
@pytest.mark.parametrize(("row", "reason"), OUT_OF_RANGE_POLLS)
def test_polls_against_amendment_5_are_rejected_in_every_content_type(
    client: Client, content_type: str, row: dict[str, str], reason: str
) -> None:
    status, answer = post(client, POLLS, as_body(content_type, [POLL, row]), content_type)

    assert status == 200
    assert (answer["loaded"], answer["rejected"]) == (1, 1)
    assert reason in answer["errors"][0]["reason"]
    assert stored_polls() == [("s1", at(18), True)]


def test_a_poll_a_day_ahead_is_kept_and_a_later_one_rejected(client: Client) -> None:
    now = datetime.now(UTC)
    ahead = [
        {**POLL, "timestamp_utc": f"{now + timedelta(hours=23, minutes=59):%Y-%m-%dT%H:%M:%S}Z"},
        {**POLL, "timestamp_utc": f"{now + timedelta(hours=24, minutes=1):%Y-%m-%dT%H:%M:%S}Z"},
    ]
    status, answer = post_json(client, POLLS, ahead)

    assert (status, answer["loaded"], answer["rejected"]) == (200, 1, 1)
    assert "24 hours after it was loaded" in answer["errors"][0]["reason"]


def test_a_zone_that_names_no_place_is_rejected_by_post_and_put(client: Client) -> None:
    status, answer = post_json(client, ZONES, [{"store_id": "s1", "timezone_str": "localtime"}])
    assert (status, answer["rejected"]) == (200, 1)
    assert answer["errors"][0]["reason"].startswith("timezone_str 'localtime' names no place")

    status, answer = put(client, "/api/monitor/stores/s1/timezone", {"timezone_str": "Factory"})
    assert status == 400
    assert "'Factory' names no place" in answer["error"]
    assert not Store.objects.exists()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/api/monitor/stores/s%E2%80%AE1/timezone", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("/api/monitor/stores/s%0A1/timezone", "U+000A (LINE FEED)"),
        (f"/api/monitor/stores/{'7' * 300}/timezone", "has 300 characters"),
    ],
)
def test_a_put_to_a_store_id_against_amendment_5_is_400(
    client: Client, path: str, reason: str
) -> None:
    status, answer = put(client, path, {"timezone_str": "UTC"})

    assert status == 400
    assert reason in answer["error"]
    assert not Store.objects.exists()


# ---- duplicate rows are stored once ---------------------------------------------------


def test_a_put_of_10_000_identical_hours_rows_stores_one(client: Client) -> None:
    row = {"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"}
    other = {"day": "0", "start_time_local": "9:00", "end_time_local": "18:00"}
    status, answer = put(
        client, "/api/monitor/stores/s1/business_hours", [row] * 10_000 + [other, other]
    )

    assert status == 200
    assert [r["end_time_local"] for r in answer["business_hours"]] == ["17:00:00", "18:00:00"]
    assert BusinessHours.objects.count() == 2


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", "text/csv"])
def test_repeated_hours_rows_of_a_body_are_stored_once_and_counted(
    client: Client, content_type: str
) -> None:
    rows = [
        {"store_id": "s1", "day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
        {"store_id": "s1", "day": "0", "start_time_local": "09:00:00", "end_time_local": "17:00"},
        {"store_id": "s2", "day": "0", "start_time_local": "09:00", "end_time_local": "17:00"},
        {"store_id": "s1", "day": "1", "start_time_local": "09:00", "end_time_local": "17:00"},
    ]
    if content_type == "application/json":
        body = orjson.dumps(rows)
    elif content_type == "application/x-ndjson":
        body = b"\n".join(map(orjson.dumps, rows))
    else:
        body = (
            "store_id,day,start_time_local,end_time_local\n"
            + "".join(",".join(r.values()) + "\n" for r in rows)
        ).encode()
    status, answer = post(client, HOURS, body, content_type)

    assert (status, answer["loaded"], answer["duplicates"]) == (200, 3, 1)
    assert sorted(BusinessHours.objects.values_list("store__store_id", "day_of_week")) == [
        ("s1", 0),
        ("s1", 1),
        ("s2", 0),
    ]
