"""A store's real calendar (docs/report-semantics.md §10) from the files to the report.

§10.4's worked examples through the import services and report_generate (on
whichever database the suite runs), the sources' load rules (replace per
date, duplicates, the reasons of rejected rows, `*`), and removing a date or
an exclusion giving back the figures without it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from monitor.models import BusinessHours, Exclusion, SpecialHours, Store
from monitor.services.imports import (
    Body,
    FileRefusedError,
    business_hours_import,
    dataset_import,
    exclusions_import,
    polls_import,
    special_hours_import,
    timezones_import,
)
from monitor.services.reports import report_generate
from tests.conftest import WriteFile

pytestmark = pytest.mark.django_db(transaction=False)

NOW = datetime(2023, 1, 25, 18, tzinfo=UTC)
HOURS_HEADER = "store_id,day,start_time_local,end_time_local\n"
SPECIAL_HEADER = "store_id,date,start_time_local,end_time_local\n"
EXCLUSIONS_HEADER = "store_id,start_utc,end_utc,reason\n"


def _load(write_file: WriteFile, importer: object, name: str, text: str) -> None:
    result = importer(write_file(name, text))  # type: ignore[operator]
    assert result.rejected == 0, result.errors


def _polls(store_id: str, active: bool, *, every_minutes: int = 30) -> str:
    status = "active" if active else "inactive"
    lines = [
        f"{store_id},{status},{(NOW - timedelta(minutes=m)).isoformat()}"
        for m in range(0, 8 * 24 * 60, every_minutes)
    ]
    return "store_id,status,timestamp_utc\n" + "\n".join(lines) + "\n"


def _utc_store(write_file: WriteFile, store_id: str, hours: str, polls: str) -> None:
    _load(write_file, timezones_import, "zones.csv", f"store_id,timezone_str\n{store_id},UTC\n")
    _load(write_file, business_hours_import, "hours.csv", HOURS_HEADER + hours)
    _load(write_file, polls_import, "polls.csv", polls)


def _every_day(store_id: str, start: str, end: str) -> str:
    return "".join(f"{store_id},{day},{start},{end}\n" for day in range(7))


def _row(store_id: str, *, percent: bool = False) -> list[str]:
    report = report_generate(as_of=NOW)
    csv = report.csv(percent=percent)
    (line,) = [line for line in csv.splitlines() if line.startswith(f"{store_id},")]
    return line.split(",")[1:]


def test_example_1_closed_on_a_special_date(write_file: WriteFile) -> None:
    _utc_store(write_file, "s", _every_day("s", "09:00", "17:00"), _polls("s", False))
    _load(write_file, special_hours_import, "special.csv", f"{SPECIAL_HEADER}s,2023-01-25,,\n")
    cells = _row("s")
    assert (cells[1], cells[4]) == ("0.00", "0.00")  # the day's uptime and downtime
    assert _row("s", percent=True)[1] == _row("s", percent=True)[4] == ""


def test_example_2_special_rows_replace_the_dates_own_shift(write_file: WriteFile) -> None:
    _utc_store(write_file, "s", _every_day("s", "20:00", "02:00"), _polls("s", True))
    assert _row("s")[2] == "42.00"
    _load(
        write_file,
        special_hours_import,
        "special.csv",
        f"{SPECIAL_HEADER}s,2023-01-24,12:00,14:00\n",
    )
    assert _row("s")[2] == "38.00"
    # Removing the date gives back its regular rows.
    SpecialHours.objects.filter(date=date(2023, 1, 24)).delete()
    assert _row("s")[2] == "42.00"


def test_example_3_an_exclusion_of_every_store(write_file: WriteFile) -> None:
    polls = f"store_id,status,timestamp_utc\ns,inactive,{(NOW - timedelta(hours=2)).isoformat()}\n"
    _load(write_file, timezones_import, "zones.csv", "store_id,timezone_str\ns,UTC\n")
    _load(write_file, polls_import, "polls.csv", polls)
    assert _row("s")[3] == "60.00"
    _load(
        write_file,
        exclusions_import,
        "exclusions.csv",
        f"{EXCLUSIONS_HEADER}*,2023-01-25 17:00:00,2023-01-25 17:30:00,poller broken\n",
    )
    assert (_row("s")[0], _row("s")[3]) == ("0.00", "30.00")
    # A store added later is excluded too.
    polls_import(
        Body(b"store_id,status,timestamp_utc\nlater,inactive,2023-01-25 16:00:00\n", "text/csv")
    )
    assert _row("later")[3] == "30.00"
    # Removing the exclusion gives back the hour.
    Exclusion.objects.all().delete()
    assert _row("s")[3] == "60.00"


def test_example_4_closed_rows(write_file: WriteFile) -> None:
    polls = f"store_id,status,timestamp_utc\ns,active,{(NOW - timedelta(hours=7)).isoformat()}\n"
    _utc_store(write_file, "s", "s,2,,\ns,2,10:00,12:00\n", polls)
    assert _row("s")[1] == "8.00"  # Tuesday 18:00–24:00, then Wednesday 10:00–12:00
    _load(write_file, business_hours_import, "hours.csv", f"{HOURS_HEADER}s,2,,\n")
    assert _row("s")[1] == "6.00"  # closed all Wednesday
    assert list(BusinessHours.objects.values_list("start_time_local", "end_time_local")) == [
        (None, None)
    ]


def test_without_the_calendar_nothing_changes(write_file: WriteFile) -> None:
    _utc_store(write_file, "s", _every_day("s", "20:00", "02:00"), _polls("s", True))
    before = report_generate(as_of=NOW).csv()
    _load(write_file, special_hours_import, "special.csv", f"{SPECIAL_HEADER}other,2023-01-24,,\n")
    _load(
        write_file,
        exclusions_import,
        "exclusions.csv",
        f"{EXCLUSIONS_HEADER}other,2023-01-25 17:00:00,2023-01-25 17:30:00,\n",
    )
    assert report_generate(as_of=NOW).csv() == before


# ---- the sources' load rules -------------------------------------------------------------


def test_special_hours_replace_each_named_date_and_keep_the_others(write_file: WriteFile) -> None:
    first = f"{SPECIAL_HEADER}s,2023-12-25,,\ns,2023-12-24,09:00,12:00\ns,2023-12-24,13:00,15:00\n"
    assert special_hours_import(write_file("a.csv", first)).loaded == 3
    result = special_hours_import(
        write_file("b.csv", f"{SPECIAL_HEADER}s,2023-12-24,10:00,11:00\n")
    )
    assert (result.loaded, result.duplicates, result.rejected) == (1, 0, 0)
    stored = sorted(SpecialHours.objects.values_list("date", "start_time_local", "end_time_local"))
    assert stored == [
        (date(2023, 12, 24), time(10), time(11)),
        (date(2023, 12, 25), None, None),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("s,2023-02-30,,", "date '2023-02-30' is not a real date"),
        ("s,2023-1-5,,", "date '2023-1-5' is not a date YYYY-MM-DD"),
        ("s,2200-01-01,,", "date '2200-01-01' is outside the years 1970 to 2199"),
        ("s,2023-12-24,09:00,", "end_time_local is empty while start_time_local is not"),
        ("s,2023-12-24,,9:00", "start_time_local is empty while end_time_local is not"),
        ("*,2023-12-24,,", "store_id '*' means every store, and only in exclusions"),
    ],
)
def test_special_hours_rows_rejected(write_file: WriteFile, row: str, reason: str) -> None:
    result = special_hours_import(write_file("s.csv", f"{SPECIAL_HEADER}{row}\n"))
    assert (result.loaded, result.rejected) == (0, 1)
    assert result.errors[0].line == 2
    assert reason in result.errors[0].reason


def test_exclusions_duplicates_are_skipped_and_counted(write_file: WriteFile) -> None:
    rows = (
        f"{EXCLUSIONS_HEADER}"
        "s,2023-01-25 17:00:00,2023-01-25 17:30:00,maintenance\n"
        "s,2023-01-25T17:00:00Z,2023-01-25T17:30:00+00:00,the same period\n"
        "*,2023-01-25 17:00:00,2023-01-25 17:30:00,\n"
        "*,2023-01-25 17:00:00 UTC,2023-01-25 17:30:00 UTC,\n"
    )
    result = exclusions_import(write_file("e.csv", rows))
    assert (result.loaded, result.duplicates, result.rejected) == (2, 2, 0)
    again = exclusions_import(write_file("e.csv", rows))
    assert (again.loaded, again.duplicates) == (0, 4)
    assert set(Exclusion.objects.values_list("store__store_id", "reason")) == {
        (None, ""),
        ("s", "maintenance"),
    }


def test_exclusions_without_a_reason_column(write_file: WriteFile) -> None:
    rows = "store_id,start_utc,end_utc\ns,2023-01-25 17:00:00,2023-01-25 18:00:00\n"
    assert exclusions_import(write_file("e.csv", rows)).loaded == 1
    json = (
        b'[{"store_id": "s", "start_utc": "2023-01-26 17:00:00", "end_utc": "2023-01-26 18:00:00"}]'
    )
    assert exclusions_import(Body(json, "application/json")).loaded == 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("s,2023-01-25 18:00:00,2023-01-25 18:00:00,", "end_utc is not after start_utc"),
        ("s,2023-01-25 18:00:00,2023-01-25 17:00:00,", "end_utc is not after start_utc"),
        ("s,1969-12-31 23:00:00,2023-01-25 17:00:00,", "is outside the years 1970 to 2199"),
        ("s,2023-01-25 17:00:00,2200-01-01 00:00:00,", "is outside the years 1970 to 2199"),
        ("s,2023-01-25 17:00,2023-01-25 18:00:00,", "start_utc '2023-01-25 17:00' is not"),
        (",2023-01-25 17:00:00,2023-01-25 18:00:00,", "store_id is empty"),
    ],
)
def test_exclusions_rows_rejected(write_file: WriteFile, row: str, reason: str) -> None:
    result = exclusions_import(write_file("e.csv", f"{EXCLUSIONS_HEADER}{row}\n"))
    assert (result.loaded, result.rejected) == (0, 1)
    assert reason in result.errors[0].reason


@pytest.mark.parametrize(
    ("importer", "text"),
    [
        (business_hours_import, f"{HOURS_HEADER}*,0,09:00,17:00\n"),
        (timezones_import, "store_id,timezone_str\n*,UTC\n"),
        (polls_import, "store_id,status,timestamp_utc\n*,active,2023-01-25 17:00:00\n"),
    ],
)
def test_a_star_is_no_store_in_the_other_sources(
    write_file: WriteFile, importer: object, text: str
) -> None:
    result = importer(write_file("f.csv", text))  # type: ignore[operator]
    assert (result.loaded, result.rejected) == (0, 1)
    assert "'*' means every store, and only in exclusions" in result.errors[0].reason
    assert not Store.objects.filter(store_id="*").exists()


def test_hours_with_exactly_one_time_empty_are_rejected(write_file: WriteFile) -> None:
    result = business_hours_import(write_file("h.csv", f"{HOURS_HEADER}s,2,,12:00\ns,3,,\n"))
    assert (result.loaded, result.rejected) == (1, 1)
    assert "start_time_local is empty while end_time_local is not" in result.errors[0].reason
    json = b'[{"store_id": "s", "day": "2", "start_time_local": "", "end_time_local": "12:00"}]'
    body = business_hours_import(Body(json, "application/json"))
    assert body.rejected == 1
    assert body.errors[0].reason == result.errors[0].reason


def test_import_data_loads_the_calendar_in_the_same_transaction(write_file: WriteFile) -> None:
    files = {
        "timezones": write_file("z.csv", "store_id,timezone_str\ns,UTC\n"),
        "hours": write_file("h.csv", f"{HOURS_HEADER}s,2,,\n"),
        "special_hours": write_file("sp.csv", f"{SPECIAL_HEADER}s,2023-01-25,10:00,11:00\n"),
        "exclusions": write_file(
            "e.csv", f"{EXCLUSIONS_HEADER}*,2023-01-25 10:30:00,2023-01-25 10:45:00,x\n"
        ),
        "polls": write_file(
            "p.csv", "store_id,status,timestamp_utc\ns,active,2023-01-25 10:00:00\n"
        ),
    }
    results = dataset_import(
        timezones=files["timezones"],
        hours=files["hours"],
        special_hours=files["special_hours"],
        exclusions=files["exclusions"],
        polls=files["polls"],
    )
    assert [r.loaded for r in results] == [1, 1, 1, 1, 1]
    assert _row("s")[1] == "6.75"  # Tuesday from 18:00, and Wednesday 10:00–11:00 but 15 minutes
    # A refused file loads none of them.
    Exclusion.objects.all().delete()
    with pytest.raises(FileRefusedError, match="end_utc"):
        dataset_import(
            timezones=files["timezones"],
            hours=files["hours"],
            exclusions=write_file("bad.csv", "store_id,start_utc\n"),
            polls=files["polls"],
        )
    assert not Exclusion.objects.exists()
