"""monitor.services.imports: what each import stores, skips and rejects
(docs/report-semantics.md §1), on the database of the run (SQLite by default,
PostgreSQL with DATABASE_URL)."""

from collections.abc import Callable
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from monitor.db import postgresql, sqlite
from monitor.db.base import LoadCounts
from monitor.ingest import loaders, reader, rules
from monitor.models import BusinessHours, StatusPoll, Store
from monitor.services.imports import (
    FileRefusedError,
    ImportResult,
    RowError,
    business_hours_import,
    dataset_import,
    polls_import,
    timezones_import,
)
from tests.conftest import WriteFile

POLLS_HEADER = "store_id,status,timestamp_utc\n"
HOURS_HEADER = "store_id,day,start_time_local,end_time_local\n"
ZONES_HEADER = "store_id,timezone_str\n"
V1_STORE = "8419537941919820732"
V2_STORE = "d84a4552-3668-4075-ad1d-16840294f818"


def at(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc,arg-type]


def stored_polls() -> list[tuple[str, datetime, bool]]:
    rows = StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "active")
    return sorted(rows)


def stored_hours() -> list[tuple[str, int, time | None, time | None]]:
    rows = BusinessHours.objects.values_list(
        "store__store_id", "day_of_week", "start_time_local", "end_time_local"
    )
    return sorted(rows)


def stored_zones() -> dict[str, str]:
    return dict(Store.objects.values_list("store_id", "timezone_str"))


def poll_table_schema() -> list[tuple[Any, ...]]:
    """The poll table's indexes and constraints, as Django's introspection sees them."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, StatusPoll._meta.db_table)
    return sorted(
        (tuple(info["columns"]), info["unique"], info["primary_key"], info["foreign_key"])
        for info in found.values()
    )


def snapshot() -> tuple[Any, ...]:
    return stored_polls(), stored_hours(), stored_zones(), poll_table_schema()


# ---- polls, on both load paths -------------------------------------------------


LoadPolls = Callable[[Path], ImportResult]


@pytest.fixture(
    params=["rebuilt", "kept", "kept, staged"],
    ids=["indexes rebuilt", "indexes kept", "indexes kept, several batches"],
)
def load_polls(
    request: pytest.FixtureRequest, db: None, monkeypatch: pytest.MonkeyPatch
) -> LoadPolls:
    """Each poll test runs on every load path (see monitor.db): the poll table's
    indexes dropped and rebuilt, or kept; kept, a load of one batch goes
    straight into the INSERT, a load of several through a staging table."""
    if request.param == "kept, staged":
        monkeypatch.setattr(reader, "BATCH_ROWS", 2)
    return partial(polls_import, rebuild_indexes=request.param == "rebuilt")


def test_polls_load_with_both_id_versions_and_microseconds(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + f"{V1_STORE},active,2023-01-22 12:09:39.388884 UTC\n"
        f"{V2_STORE},inactive,2024-10-14 23:55:18.727055 UTC\n"
        "007,active,2023-01-22 12:09:39.000001 UTC\n"
        "007,inactive,2023-01-22 12:09:40 UTC\n",
    )
    result = load_polls(path)
    assert result == ImportResult(str(path), loaded=4, duplicates=0, rejected=0, errors=[])
    assert stored_polls() == [
        ("007", at(2023, 1, 22, 12, 9, 39, 1), True),
        ("007", at(2023, 1, 22, 12, 9, 40), False),
        (V1_STORE, at(2023, 1, 22, 12, 9, 39, 388884), True),
        (V2_STORE, at(2024, 10, 14, 23, 55, 18, 727055), False),
    ]
    # Stores are created with no zone; "007" is not the number 7.
    assert stored_zones()["007"] == ""
    assert not Store.objects.filter(store_id="7").exists()


def test_every_spelling_of_one_instant_is_the_same_poll_and_the_first_line_wins(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "1,inactive,2023-01-22 12:09:39.5 UTC\n"
        "1,active,2023-01-22 12:09:39.500000 UTC\n"
        "1,active,2023-01-22T12:09:39.5Z\n"
        "1,active,2023-01-22T07:09:39.50-05:00\n"
        "1,active,2023-01-22T17:39:39.500+05:30\n"
        "1,active,2023-01-22 12:00:00 UTC\n"
        "1,inactive,2023-01-22T12:00:00Z\n",
    )
    result = load_polls(path)
    assert (result.loaded, result.duplicates, result.rejected) == (2, 5, 0)
    assert stored_polls() == [
        ("1", at(2023, 1, 22, 12, 0), True),
        ("1", at(2023, 1, 22, 12, 9, 39, 500000), False),
    ]


def test_reloading_a_file_adds_nothing(write_file: WriteFile, load_polls: LoadPolls) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "".join(f"{n % 3},active,2023-01-22 12:{n:02d}:00 UTC\n" for n in range(40)),
    )
    assert load_polls(path).loaded == 40
    before = stored_polls()
    again = load_polls(path)
    assert (again.loaded, again.duplicates, again.rejected) == (0, 40, 0)
    assert stored_polls() == before


def test_a_poll_loaded_earlier_wins_over_a_later_file(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    first = write_file("first.csv", POLLS_HEADER + "1,active,2023-01-22 12:00:00 UTC\n")
    later = write_file(
        "later.csv",
        POLLS_HEADER + "1,inactive,2023-01-22T12:00:00Z\n1,inactive,2023-01-22 13:00:00 UTC\n",
    )
    load_polls(first)
    result = load_polls(later)
    assert (result.loaded, result.duplicates) == (1, 1)
    assert stored_polls() == [
        ("1", at(2023, 1, 22, 12), True),
        ("1", at(2023, 1, 22, 13), False),
    ]


def test_a_bulk_load_keeps_the_polls_stored_before_it(write_file: WriteFile, db: None) -> None:
    """The rebuild path too: a file big enough to rebuild the indexes, which repeats a
    stored poll and one of its own, keeps the stored one and its first line."""
    store = Store.objects.create(store_id="1")
    StatusPoll.objects.create(store=store, timestamp_utc=at(2023, 1, 22, 12), active=False)
    body = "".join(f"2,active,2023-01-22 {n // 60:02d}:{n % 60:02d}:00 UTC\n" for n in range(200))
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "1,active,2023-01-22 12:00:00 UTC\n"
        "3,inactive,2023-01-22 12:00:00 UTC\n"
        f"{body}"
        "3,active,2023-01-22 12:00:00 UTC\n",
    )
    assert loaders._stored_polls_fewer_than(path.stat().st_size // loaders.POLL_LINE_BYTES)
    result = polls_import(path)
    assert (result.loaded, result.duplicates) == (201, 2)
    polls = stored_polls()
    assert ("1", at(2023, 1, 22, 12), False) in polls
    assert ("3", at(2023, 1, 22, 12), False) in polls
    assert len(polls) == 202


@pytest.mark.django_db(transaction=True)
def test_the_indexes_and_constraints_are_the_same_after_a_load(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    before = poll_table_schema()
    body = "".join(
        f"{n % 7},active,2023-01-22 12:{n % 60:02d}:{n // 60:02d} UTC\n" for n in range(300)
    )
    load_polls(write_file("polls.csv", POLLS_HEADER + body))
    assert poll_table_schema() == before
    first = StatusPoll.objects.filter(store__store_id="0").first()
    assert first is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusPoll.objects.create(store=first.store, timestamp_utc=first.timestamp_utc, active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusPoll.objects.create(store_id=10**9, timestamp_utc=first.timestamp_utc, active=True)


@pytest.mark.parametrize(
    "spelled", ["2023-01-22 12:09:39 UTC", "2023-01-22 12:09:39.000000 UTC", "2023-01-22T12:09:39Z"]
)
def test_an_orm_poll_and_an_imported_poll_at_one_instant_collide(
    write_file: WriteFile, load_polls: LoadPolls, spelled: str
) -> None:
    """Whole seconds included: SQLite compares instants as the text Django writes."""
    instant = at(2023, 1, 22, 12, 9, 39)
    store = Store.objects.create(store_id="1")
    StatusPoll.objects.create(store=store, timestamp_utc=instant, active=False)
    result = load_polls(write_file("polls.csv", f"{POLLS_HEADER}1,active,{spelled}\n"))
    assert (result.loaded, result.duplicates) == (0, 1)
    assert StatusPoll.objects.filter(store=store, timestamp_utc=instant).count() == 1
    # And the other way round: the ORM finds the imported poll.
    load_polls(write_file("more.csv", f"{POLLS_HEADER}2,active,{spelled}\n"))
    assert StatusPoll.objects.filter(store__store_id="2", timestamp_utc=instant).exists()


def test_bad_poll_rows_are_reported_and_the_others_load(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "1,active,2023-01-22 12:00:00 UTC\n"
        "\n"
        "2,up,2023-01-22 12:00:00 UTC\n"
        "3,active,2023-02-30 12:00:00 UTC\n"
        ",active,2023-01-22 12:00:00 UTC\n"
        "4,inactive,2023-01-22 12:00:00 UTC\n",
    )
    result = load_polls(path)
    assert (result.loaded, result.duplicates, result.rejected) == (2, 0, 3)
    assert result.errors == [
        RowError(4, "status 'up' is neither 'active' nor 'inactive'"),
        RowError(
            5,
            "timestamp_utc '2023-02-30 12:00:00 UTC' is not a real instant "
            "(day is out of range for month)",
        ),
        RowError(6, "store_id is empty"),
    ]
    assert [poll[0] for poll in stored_polls()] == ["1", "4"]
    # A store is created only from a valid row.
    assert not Store.objects.filter(store_id__in=["2", "3"]).exists()


def test_formula_like_store_ids_are_rejected_and_stored_nowhere(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    """Amendment 1 of §1: after trimming, no store id begins with =, +, - or @."""
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "=1+1,active,2023-01-22 12:00:00 UTC\n"
        " +7,active,2023-01-22 12:00:00 UTC\n"
        "-42,active,2023-01-22 12:00:00 UTC\n"
        "@A1,active,2023-01-22 12:00:00 UTC\n"
        "a=1,active,2023-01-22 12:00:00 UTC\n",
    )
    result = load_polls(path)
    assert (result.loaded, result.rejected) == (1, 4)
    assert [error.line for error in result.errors] == [2, 3, 4, 5]
    assert result.errors[1].reason == (
        "store_id '+7' begins with '+': a spreadsheet opening a report would run it as a formula"
    )
    assert list(Store.objects.values_list("store_id", flat=True)) == ["a=1"]


def test_timestamps_without_a_zone_designator_are_utc(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    """Amendment 2 of §1: both spellings, with or without a fraction of 1 to 6 digits."""
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "1,active,2023-01-22 12:09:39\n"
        "1,active,2023-01-22T12:09:39\n"  # the same instant: a duplicate
        "1,inactive,2023-01-22 12:09:40.5\n"
        "1,active,2023-01-31T23:59:59.123456\n"
        "1,active,2023-01-22 12:09:39Z\n"  # still invalid
        "1,active,2023-01-22T12:09:39 UTC\n"
        "1,active,2023-01-22 12:09 UTC\n",
    )
    result = load_polls(path)
    assert (result.loaded, result.duplicates, result.rejected) == (3, 1, 3)
    assert [error.line for error in result.errors] == [6, 7, 8]
    assert stored_polls() == [
        ("1", at(2023, 1, 22, 12, 9, 39), True),
        ("1", at(2023, 1, 22, 12, 9, 40, 500000), False),
        ("1", at(2023, 1, 31, 23, 59, 59, 123456), True),
    ]


def test_a_file_with_a_header_only_loads_nothing(
    write_file: WriteFile, load_polls: LoadPolls
) -> None:
    result = load_polls(write_file("polls.csv", POLLS_HEADER))
    assert (result.loaded, result.duplicates, result.rejected) == (0, 0, 0)
    assert stored_polls() == []


# ---- business hours -------------------------------------------------------------


@pytest.mark.parametrize("day_column", ["day", "dayOfWeek"])
def test_hours_load_with_either_day_column(
    write_file: WriteFile, db: None, day_column: str
) -> None:
    path = write_file(
        "hours.csv",
        f"store_id,{day_column},start_time_local,end_time_local\n"
        f"{V1_STORE},0,00:00:00,00:10:00\n"
        f"{V2_STORE},6,09:00,23:59:59\n"
        f"{V2_STORE},6,09:00,23:59:59\n"  # a repeated row is stored once, and counted
        "007,3,22:00,02:00:00.5\n",
    )
    result = business_hours_import(path)
    assert result == ImportResult(str(path), loaded=3, duplicates=1, rejected=0, errors=[])
    assert stored_hours() == [
        ("007", 3, time(22), time(2, 0, 0, 500000)),
        (V1_STORE, 0, time(0), time(0, 10)),
        (V2_STORE, 6, time(9), time(23, 59, 59)),
    ]


def test_hours_may_have_a_one_digit_hour(write_file: WriteFile, db: None) -> None:
    """Amendment 2 of §1: `9:00`, `9:00:00.5`; `24:00` stays invalid."""
    path = write_file(
        "hours.csv",
        "store_id,day,start_time_local,end_time_local\n"
        "1,0,9:00,17:30\n"
        "1,1,9:00:00.5,9:30\n"
        "1,2,9:00,24:00\n",
    )
    result = business_hours_import(path)
    assert (result.loaded, result.rejected) == (2, 1)
    assert result.errors[0].line == 4
    assert stored_hours() == [
        ("1", 0, time(9), time(17, 30)),
        ("1", 1, time(9, 0, 0, 500000), time(9, 30)),
    ]


def test_hours_replace_the_whole_set_of_each_store_the_file_names(
    write_file: WriteFile, db: None
) -> None:
    business_hours_import(
        write_file(
            "first.csv",
            HOURS_HEADER + "a,0,09:00,17:00\na,1,09:00,17:00\nb,0,08:00,12:00\nd,5,10:00,11:00\n",
        )
    )
    result = business_hours_import(
        write_file(
            "second.csv",
            HOURS_HEADER + "a,2,10:00,18:00\n"
            "c,4,07:00,08:00\n"
            "d,9,10:00,11:00\n",  # d: no valid row, so its hours stay
        )
    )
    assert (result.loaded, result.rejected) == (2, 1)
    assert stored_hours() == [
        ("a", 2, time(10), time(18)),
        ("b", 0, time(8), time(12)),
        ("c", 4, time(7), time(8)),
        ("d", 5, time(10), time(11)),
    ]


# ---- time zones ---------------------------------------------------------------------


def test_zones_are_upserted_and_a_stores_last_valid_row_wins(
    write_file: WriteFile, db: None
) -> None:
    Store.objects.create(store_id="kept", timezone_str="Europe/Paris")
    Store.objects.create(store_id="moved", timezone_str="Europe/Paris")
    path = write_file(
        "zones.csv",
        ZONES_HEADER + "moved,Asia/Kolkata\n"
        f"{V1_STORE},America/Chicago\n"
        f"{V1_STORE},America/Denver\n"
        f"{V1_STORE},America/denver\n"  # invalid: does not count as the last row
        f"{V2_STORE},America/Boise\n",
    )
    result = timezones_import(path)
    assert (result.loaded, result.duplicates, result.rejected) == (3, 0, 1)
    assert result.errors[0].line == 5
    assert stored_zones() == {
        "kept": "Europe/Paris",
        "moved": "Asia/Kolkata",
        V1_STORE: "America/Denver",
        V2_STORE: "America/Boise",
    }


# ---- nothing half-written ------------------------------------------------------------


@pytest.fixture
def stored_before(db: None) -> tuple[Any, ...]:
    """Some data of every kind, and its snapshot."""
    store = Store.objects.create(store_id="1", timezone_str="Asia/Kolkata")
    StatusPoll.objects.create(store=store, timestamp_utc=at(2023, 1, 20, 10), active=True)
    BusinessHours.objects.create(
        store=store, day_of_week=0, start_time_local=time(9), end_time_local=time(17)
    )
    return snapshot()


IMPORTS: list[tuple[Callable[..., ImportResult], str, str]] = [
    (
        polls_import,
        POLLS_HEADER,
        "1,inactive,2023-01-20 10:00:00 UTC\n2,active,2023-01-20 11:00:00 UTC\n",
    ),
    (business_hours_import, HOURS_HEADER, "1,0,10:00,11:00\n2,1,10:00,11:00\n"),
    (timezones_import, ZONES_HEADER, "1,America/Chicago\n2,America/Chicago\n"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("importer", "header", "rows"), IMPORTS)
def test_a_file_whose_last_line_is_not_utf8_loads_nothing(
    write_file: WriteFile,
    stored_before: tuple[Any, ...],
    importer: Callable[..., ImportResult],
    header: str,
    rows: str,
) -> None:
    many = rows * 200  # many rows, read before the refusal
    path = write_file("input.csv", (header + many).encode() + b"3,caf\xe9\n")
    with pytest.raises(FileRefusedError, match=f"line {1 + many.count(chr(10)) + 1}"):
        importer(path)
    assert snapshot() == stored_before


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "BATCH_ROWS", 3)


def interrupt_on_call(number: int, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, but the `number`th call raises KeyboardInterrupt (a Ctrl-C)."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == number:
            raise KeyboardInterrupt
        return function(*args, **kwargs)

    return wrapper


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("rebuild_indexes", [True, False])
def test_ctrl_c_in_the_middle_of_a_polls_file_leaves_the_database_as_it_was(
    write_file: WriteFile,
    stored_before: tuple[Any, ...],
    monkeypatch: pytest.MonkeyPatch,
    rebuild_indexes: bool,
) -> None:
    body = "".join(f"{n},active,2023-01-22 12:00:{n % 60:02d} UTC\n" for n in range(20))
    path = write_file("polls.csv", POLLS_HEADER + body)
    # Row 10 is parsed after three batches of new stores and polls were sent.
    monkeypatch.setattr(rules, "utc_timestamp", interrupt_on_call(10, rules.utc_timestamp))
    with pytest.raises(KeyboardInterrupt):
        polls_import(path, rebuild_indexes=rebuild_indexes)
    assert snapshot() == stored_before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rebuild_indexes", [True, False])
def test_ctrl_c_once_the_polls_are_written_leaves_the_database_as_it_was(
    write_file: WriteFile,
    stored_before: tuple[Any, ...],
    monkeypatch: pytest.MonkeyPatch,
    rebuild_indexes: bool,
) -> None:
    load_kind: type[Any] = {
        ("postgresql", True): postgresql._PostgreSQLPollsDirect,
        ("postgresql", False): postgresql._PostgreSQLPollsStaged,
    }.get((connection.vendor, rebuild_indexes), sqlite._SQLitePolls)
    finish = load_kind.finish

    def finish_then_interrupt(self: Any) -> LoadCounts:
        finish(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(load_kind, "finish", finish_then_interrupt)
    body = "".join(f"{n},active,2023-01-22 12:00:{n % 60:02d} UTC\n" for n in range(20))
    with pytest.raises(KeyboardInterrupt):
        polls_import(write_file("polls.csv", POLLS_HEADER + body), rebuild_indexes=rebuild_indexes)
    assert snapshot() == stored_before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize(("importer", "header", "rows"), IMPORTS[1:])
def test_ctrl_c_in_the_middle_of_an_hours_or_zones_file_loads_nothing(
    write_file: WriteFile,
    stored_before: tuple[Any, ...],
    importer: Callable[..., ImportResult],
    header: str,
    rows: str,
) -> None:
    # Progress is reported after each batch: the second call comes once two
    # batches went to the database.
    interrupt = interrupt_on_call(2, lambda *_: None)
    with pytest.raises(KeyboardInterrupt):
        importer(write_file("input.csv", header + rows * 10), on_progress=interrupt)
    assert snapshot() == stored_before


# ---- a whole data set -----------------------------------------------------------


def test_a_data_set_loads_zones_then_hours_then_polls(write_file: WriteFile, db: None) -> None:
    results = dataset_import(
        timezones=write_file("zones.csv", ZONES_HEADER + "1,Asia/Kolkata\n"),
        hours=write_file("hours.csv", HOURS_HEADER + "1,0,9:00,17:00\n"),
        polls=write_file("polls.csv", POLLS_HEADER + "1,active,2023-01-22 12:00:00\n"),
    )
    assert [Path(result.source).name for result in results] == [
        "zones.csv",
        "hours.csv",
        "polls.csv",
    ]
    assert [result.loaded for result in results] == [1, 1, 1]
    assert stored_zones() == {"1": "Asia/Kolkata"}
    assert stored_hours() == [("1", 0, time(9), time(17))]
    assert stored_polls() == [("1", at(2023, 1, 22, 12), True)]


def test_a_refused_polls_file_loads_none_of_the_data_set(
    write_file: WriteFile, stored_before: tuple[Any, ...]
) -> None:
    with pytest.raises(FileRefusedError, match=r"polls\.csv: the header has no 'status' column"):
        dataset_import(
            timezones=write_file("zones.csv", ZONES_HEADER + "9,Asia/Kolkata\n"),
            hours=write_file("hours.csv", HOURS_HEADER + "9,0,9:00,17:00\n"),
            polls=write_file("polls.csv", "store_id,timestamp_utc\n9,2023-01-22 12:00:00\n"),
        )
    assert snapshot() == stored_before
