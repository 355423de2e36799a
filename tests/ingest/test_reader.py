"""monitor.ingest.reader: headers, line numbers, blank lines, bad rows
(docs/report-semantics.md §1).

No database here: the files are read with the sources' own columns and parsers.
"""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.ingest import reader
from monitor.ingest.errors import FileRefusedError, RowError
from monitor.ingest.loaders import HOURS, POLLS, ZONES, Source
from monitor.ingest.reader import RowErrors, open_csv
from tests.conftest import WriteFile

POLLS_HEADER = "store_id,status,timestamp_utc\n"


def read(source: Source, path: Path) -> tuple[list[tuple[Any, ...]], RowErrors]:
    """Every parsed row, in order, and the rejections."""
    errors = RowErrors()
    with open_csv(path, source.columns) as csv_input:
        parse = source.row_parser(csv_input.positions)
        batches = list(csv_input.parsed_batches(parse, errors))
    return [row for batch in batches for row in batch], errors


def test_header_names_match_in_any_case_and_order_with_spaces_and_extra_columns(
    write_file: WriteFile,
) -> None:
    path = write_file(
        "polls.csv",
        " Timestamp_UTC ,comment, STATUS,Store_Id\n2023-01-22 12:09:39.388884 UTC,hello,active,1\n",
    )
    rows, errors = read(POLLS, path)
    assert rows == [(2, "1", "2023-01-22 12:09:39.388884", True)]
    assert errors.count == 0


@pytest.mark.parametrize(
    ("header", "used"),
    [
        ("store_id,day,start_time_local,end_time_local", "day"),
        ("store_id,dayOfWeek,start_time_local,end_time_local", "dayOfWeek"),
        ("store_id,day_of_week,start_time_local,end_time_local", "day_of_week"),
        ("store_id,DAYOFWEEK,start_time_local,end_time_local", "DAYOFWEEK"),
        # `day` first when several are present, wherever they are.
        ("store_id,dayOfWeek,day,start_time_local,end_time_local", "day"),
        ("store_id,day_of_week,dayOfWeek,start_time_local,end_time_local", "dayOfWeek"),
    ],
)
def test_the_day_column_goes_by_three_names_day_first(
    write_file: WriteFile, header: str, used: str
) -> None:
    names = header.split(",")
    values = {"store_id": "s", "start_time_local": "09:00", "end_time_local": "17:00"}
    # The column in use says 2, any other day column says 5.
    row = [values.get(name, "2" if name == used else "5") for name in names]
    path = write_file("hours.csv", f"{header}\n{','.join(row)}\n")
    rows, _ = read(HOURS, path)
    assert rows == [(2, "s", 2, "09:00:00", "17:00:00")]


@pytest.mark.parametrize(
    ("source", "header", "missing"),
    [
        (POLLS, "store_id,timestamp_utc", "'status'"),
        (POLLS, "store,status,timestamp_utc", "'store_id'"),
        (HOURS, "store_id,weekday,start_time_local,end_time_local", "'day' or 'dayOfWeek' or"),
        (HOURS, "store_id,day,start_time_local", "'end_time_local'"),
        (ZONES, "store_id,timezone", "'timezone_str'"),
    ],
)
def test_a_header_without_a_required_column_refuses_the_file(
    write_file: WriteFile, source: Source, header: str, missing: str
) -> None:
    path = write_file("input.csv", f"{header}\n1,2,3,4\n")
    with pytest.raises(FileRefusedError) as refused:
        read(source, path)
    message = str(refused.value)
    assert message.startswith(f"{path}: the header has no {missing}")
    assert "nothing was loaded" in message


def test_a_wrong_header_names_every_missing_column(write_file: WriteFile) -> None:
    path = write_file("hours.csv", "id,weekday,start_time_local\n1,2,09:00\n")
    with pytest.raises(FileRefusedError) as refused:
        read(HOURS, path)
    assert str(refused.value) == (
        f"{path}: the header has no 'store_id' column, no 'day' or 'dayOfWeek' or "
        "'day_of_week' column, no 'end_time_local' column (it has 'id', 'weekday', "
        "'start_time_local'); the file is refused, nothing was loaded"
    )


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_delimited_by_another_character_gets_a_hint(
    write_file: WriteFile, delimiter: str, name: str
) -> None:
    header = delimiter.join(["store_id", "timezone_str"])
    path = write_file("zones.csv", f"{header}\n1{delimiter}Asia/Kolkata\n")
    with pytest.raises(FileRefusedError) as refused:
        read(ZONES, path)
    message = str(refused.value)
    assert message.startswith(f"{path}: the header has no 'store_id' column, no 'timezone_str'")
    assert f"the values are separated by {name}; save the file as comma-separated CSV" in message


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_a_file_without_a_header_is_refused(write_file: WriteFile, content: str) -> None:
    with pytest.raises(FileRefusedError, match="the file is empty"):
        read(POLLS, write_file("empty.csv", content))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefusedError, match="cannot be read"):
        read(POLLS, tmp_path / "nowhere.csv")


def test_a_byte_order_mark_is_allowed(write_file: WriteFile) -> None:
    path = write_file("zones.csv", "\ufeffstore_id,timezone_str\n1,Asia/Kolkata\n")
    rows, _ = read(ZONES, path)
    assert rows == [(2, "1", "Asia/Kolkata")]


def test_blank_lines_are_not_rows_but_count_as_lines(write_file: WriteFile) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "\n"  # line 2
        "1,active,2023-01-22 12:00:00 UTC\n"  # line 3
        "   \n"  # line 4: spaces only
        "\n"  # line 5
        "2,bogus,2023-01-22 12:00:00 UTC\n"  # line 6
        "3,inactive,2023-01-22 12:00:00 UTC",  # line 7, no newline at the end
    )
    rows, errors = read(POLLS, path)
    assert [row[0] for row in rows] == [3, 7]
    assert errors.first == [RowError(6, "status 'bogus' is neither 'active' nor 'inactive'")]


def test_line_numbers_are_physical_lines_across_quoted_newlines(write_file: WriteFile) -> None:
    path = write_file(
        "zones.csv",
        "store_id,comment,timezone_str\r\n"  # line 1, CRLF line ends
        '1,"two\r\nlines",Asia/Kolkata\r\n'  # lines 2–3
        '2,"three\nshort\nlines",Mars/Olympus\r\n'  # lines 4–6
        "3,,America/Chicago\r\n",  # line 7
    )
    rows, errors = read(ZONES, path)
    assert [row[:2] for row in rows] == [(2, "1"), (7, "3")]
    assert [error.line for error in errors.first] == [4]


def test_values_are_trimmed_and_store_ids_kept_as_text(write_file: WriteFile) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "  007 , Active ,  2023-01-22 12:09:39 UTC \n"
        '"8419537941919820732",inactive,2023-01-22 12:09:39 UTC\n'
        "d84a4552-3668-4075-ad1d-16840294f818,active,2023-01-22 12:09:39 UTC\n",
    )
    rows, _ = read(POLLS, path)
    assert [row[1:] for row in rows] == [
        ("007", "2023-01-22 12:09:39", True),
        ("8419537941919820732", "2023-01-22 12:09:39", False),
        ("d84a4552-3668-4075-ad1d-16840294f818", "2023-01-22 12:09:39", True),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",active,2023-01-22 12:00:00 UTC", "store_id is empty"),
        ("1, ,2023-01-22 12:00:00 UTC", "status is empty"),
        ("1,active,", "timestamp_utc is empty"),
        (",,", "store_id is empty; status is empty; timestamp_utc is empty"),
        ("1,active", "timestamp_utc is missing (2 fields)"),
        ("1", "status is missing (1 fields); timestamp_utc is missing (1 fields)"),
        (
            "1,active,2023-01-22 12:00:00 UTC,extra",
            "4 fields where the header has 3",
        ),
        (
            "1,maybe,2023-01-22",
            "status 'maybe' is neither 'active' nor 'inactive'; timestamp_utc '2023-01-22' "
            "is not 'YYYY-MM-DD HH:MM:SS[.f][ UTC]' nor ISO 8601 "
            "'YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]' (.f: 1 to 6 digits)",
        ),
        ('"1\x002",active,2023-01-22 12:00:00 UTC', "store_id '1\\x002' contains U+0000 (NUL)"),
    ],
)
def test_a_bad_row_is_rejected_with_every_reason_and_the_others_still_load(
    write_file: WriteFile, row: str, reason: str
) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + "1,active,2023-01-22 11:00:00 UTC\n"
        f"{row}\n"
        "1,active,2023-01-22 13:00:00 UTC\n",
    )
    rows, errors = read(POLLS, path)
    assert [row[0] for row in rows] == [2, 4]
    assert errors.count == 1
    assert errors.first[0].line == 3
    assert errors.first[0].reason.startswith(reason)


@pytest.mark.parametrize(
    ("source", "header", "row", "reason"),
    [
        (HOURS, "store_id,day,start_time_local,end_time_local", "1,7,09:00,17:00", "day '7'"),
        (
            HOURS,
            "store_id,dayOfWeek,start_time_local,end_time_local",
            "1,x,09:00,17:00",
            "dayOfWeek 'x' is not an integer from 0 (Monday) to 6 (Sunday)",
        ),
        (
            HOURS,
            "store_id,day,start_time_local,end_time_local",
            "1,0,09:00,24:00",
            "end_time_local '24:00' is not H:MM or H:MM:SS[.f] (hour 0–23",
        ),
        (
            HOURS,
            "store_id,day,start_time_local,end_time_local",
            "1,0,9am,17:00",
            "start_time_local '9am' is not H:MM",
        ),
        (ZONES, "store_id,timezone_str", "1,Mars/Olympus", "timezone_str 'Mars/Olympus' is not"),
    ],
)
def test_hours_and_zones_rows_are_rejected_with_their_reason(
    write_file: WriteFile, source: Source, header: str, row: str, reason: str
) -> None:
    _, errors = read(source, write_file("input.csv", f"{header}\n{row}\n"))
    assert errors.count == 1
    assert errors.first[0].line == 2
    assert errors.first[0].reason.startswith(reason)


@pytest.fixture
def field_size_limit_50() -> Iterator[None]:
    previous = csv.field_size_limit(50)
    yield
    csv.field_size_limit(previous)


@pytest.mark.usefixtures("field_size_limit_50")
def test_a_malformed_row_is_rejected_and_reading_goes_on(write_file: WriteFile) -> None:
    path = write_file(
        "polls.csv",
        POLLS_HEADER + f"{'9' * 80},active,2023-01-22 12:00:00 UTC\n"
        "1,active,2023-01-22 12:00:00 UTC\n",
    )
    rows, errors = read(POLLS, path)
    assert [row[0] for row in rows] == [3]
    assert errors.first == [RowError(2, "malformed CSV: field larger than field limit (50)")]


def test_only_the_first_errors_are_kept_and_all_are_counted(write_file: WriteFile) -> None:
    bad_rows = "".join(f"{n},active,never\n" for n in range(25))
    rows, errors = read(POLLS, write_file("polls.csv", POLLS_HEADER + bad_rows))
    assert rows == []
    assert errors.count == 25
    assert [error.line for error in errors.first] == list(range(2, 22))


def test_rows_stream_in_batches_in_file_order(
    write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "BATCH_ROWS", 2)
    body = "".join(f"{n},active,2023-01-22 12:00:00 UTC\n" for n in range(5))
    errors = RowErrors()
    progress: list[tuple[Path, int, int]] = []
    path = write_file("polls.csv", POLLS_HEADER + body)
    with open_csv(path, POLLS.columns) as csv_input:
        parse = POLLS.row_parser(csv_input.positions)
        batches = list(csv_input.parsed_batches(parse, errors, lambda *args: progress.append(args)))
    assert [[row[1] for row in batch] for batch in batches] == [["0", "1"], ["2", "3"], ["4"]]
    size = path.stat().st_size
    assert progress[-1] == (path, size, size)
    assert {(file, total) for file, _, total in progress} == {(path, size)}
    read = [done for _, done, _ in progress]
    assert read == sorted(read)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (POLLS_HEADER.encode() + b"1,active,2023-01-22 12:00:00 UTC\n2,\xff,x\n", "0xff on line 3"),
        (b"store_id,st\xe9tus,timestamp_utc\n", "0xe9 on line 1"),
        # A character cut short by the end of the file.
        (POLLS_HEADER.encode() + b"1,active,2023-01-22 12:00:00 UTC\n\xe2\x82", "0xe2 on line 3"),
    ],
)
def test_a_file_that_is_not_utf8_is_refused_wherever_the_bad_byte_is(
    write_file: WriteFile, content: bytes, where: str
) -> None:
    path = write_file("latin1.csv", content)
    with pytest.raises(FileRefusedError) as refused:
        read(POLLS, path)
    assert str(refused.value) == (
        f"{path}: not UTF-8 text (byte {where}); the file is refused, nothing was loaded"
    )
