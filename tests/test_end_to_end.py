"""End to end: generated CSVs → import commands → generate_report, against the
independent reference (tests/engine/reference.py) fed straight from the CSVs;
and the same data sent over HTTP instead, for the very same reports."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from io import StringIO
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from monitor.models import BusinessHours, StatusPoll, Store
from monitor.sample_data.generator import generate_sample_data
from monitor.services.reports import report_generate
from tests.engine.bridge import figures_of
from tests.engine.reference import HoursRow, Poll, StoreData, reference_csv, reference_report

pytestmark = pytest.mark.django_db(transaction=True)

END = datetime(2024, 3, 12, 9, 30, 15, 250000, tzinfo=UTC)  # the week holds a US DST jump


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix(" UTC")).replace(tzinfo=UTC)


def stores_from_csvs(folder: Path) -> list[StoreData]:
    """The generated files read the plain way, for the reference."""
    polls: dict[str, list[Poll]] = defaultdict(list)
    for row in read_rows(folder / "store_status.csv"):
        polls[row["store_id"]].append(
            Poll(parse_instant(row["timestamp_utc"]), row["status"] == "active")
        )
    hours: dict[str, list[HoursRow]] = defaultdict(list)
    for row in read_rows(folder / "menu_hours.csv"):
        hours[row["store_id"]].append(
            HoursRow(
                int(row["day"]),
                time.fromisoformat(row["start_time_local"]),
                time.fromisoformat(row["end_time_local"]),
            )
        )
    zones = {row["store_id"]: row["timezone_str"] for row in read_rows(folder / "timezones.csv")}
    return [
        StoreData(store_id, zones.get(store_id, ""), tuple(hours[store_id]), tuple(store_polls))
        for store_id, store_polls in polls.items()
    ]


def generate_report(*args: str) -> str:
    out = StringIO()
    call_command("generate_report", *args, stdout=out)
    return out.getvalue()


def import_files(folder: Path) -> None:
    """The generated files through `import_data`."""
    call_command(
        "import_data",
        "--timezones",
        str(folder / "timezones.csv"),
        "--hours",
        str(folder / "menu_hours.csv"),
        "--status",
        str(folder / "store_status.csv"),
        stdout=StringIO(),
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    generate_sample_data(folder, stores=60, seed=7, end=END)
    return folder


@pytest.mark.parametrize(
    "as_of",
    [END, END - timedelta(days=2, hours=3, microseconds=1), END - timedelta(days=9)],
    ids=["latest-poll", "inside-the-data", "before-most-polls"],
)
def test_report_of_imported_data_equals_the_reference(sample: Path, as_of: datetime) -> None:
    import_files(sample)
    expected = reference_report(stores_from_csvs(sample), as_of)

    # Exact to the half-microsecond, then as printed by the command.
    assert figures_of(report_generate(as_of=as_of).table) == expected
    as_of_arg = as_of.isoformat()
    assert generate_report("--as-of", as_of_arg) == reference_csv(expected)
    assert generate_report("--as-of", as_of_arg, "--units", "percent") == reference_csv(
        expected, percent=True
    )


def test_default_as_of_is_the_latest_imported_poll(sample: Path) -> None:
    call_command("import_store_status_data", str(sample / "store_status.csv"), stdout=StringIO())
    # Polls alone: every store open 24×7 in America/Chicago.
    polls_only = [
        StoreData(store.store_id, polls=store.polls) for store in stores_from_csvs(sample)
    ]
    assert generate_report() == reference_csv(reference_report(polls_only, END))


def reports_as_of(instants: list[datetime]) -> list[str]:
    return [
        report_generate(as_of=instant).csv(percent=percent)
        for instant in instants
        for percent in (False, True)
    ]


def test_data_posted_over_http_gives_the_same_report_as_the_files(
    sample: Path, client: Client
) -> None:
    instants = [END, END - timedelta(days=2, hours=3, microseconds=1)]
    import_files(sample)
    from_files = reports_as_of(instants)
    for model in (StatusPoll, BusinessHours, Store):
        model.objects.all().delete()

    def post(path: str, body: bytes, content_type: str) -> None:
        response = client.generic("POST", f"/api/monitor/{path}", body, content_type=content_type)
        assert response.status_code == 200, response.content
        assert response.json()["rejected"] == 0

    # Each source another way: NDJSON, the CSV file as it is, JSON in batches.
    zones = read_rows(sample / "timezones.csv")
    post("timezones", b"\n".join(map(orjson.dumps, zones)), "application/x-ndjson")
    post("business_hours", (sample / "menu_hours.csv").read_bytes(), "text/csv")
    polls = read_rows(sample / "store_status.csv")
    for start in range(0, len(polls), 2500):
        post("polls", orjson.dumps(polls[start : start + 2500]), "application/json")

    assert reports_as_of(instants) == from_files
