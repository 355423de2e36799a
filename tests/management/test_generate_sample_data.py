"""`manage.py generate_sample_data`."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate_sample_data", *args, stdout=out)
    return out.getvalue()


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_writes_the_three_files_and_says_what_it_wrote(tmp_path: Path) -> None:
    output = run("--stores", "20", "--days", "1", "--seed", "4", "--out", str(tmp_path))
    status, hours, zones = (
        tmp_path / name for name in ("store_status.csv", "menu_hours.csv", "timezones.csv")
    )
    assert f"{status}: {lines_of(status) - 1:,} polls" in output
    assert f"{hours}: {lines_of(hours) - 1:,} business hours rows" in output
    assert f"{zones}: {lines_of(zones) - 1:,} time zones" in output
    assert "20 stores polled" in output
    assert output.rstrip().endswith(" s")


def test_seed_makes_it_repeatable(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        run("--stores", "10", "--seed", "9", "--out", str(tmp_path / folder))
    for name in ("store_status.csv", "menu_hours.csv", "timezones.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_sources_are_copied_through(tmp_path: Path) -> None:
    hours = tmp_path / "hours.csv"
    hours.write_text("store_id,dayOfWeek,start_time_local,end_time_local\nabc,3,08:00,12:00\n")
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str\nabc,Europe/London\n")
    out = tmp_path / "out"
    run(
        "--stores",
        "3",
        "--hours-from",
        str(hours),
        "--timezones-from",
        str(zones),
        "--out",
        str(out),
    )
    assert (out / "menu_hours.csv").read_text() == (
        "store_id,day,start_time_local,end_time_local\nabc,3,08:00,12:00\n"
    )
    assert (out / "timezones.csv").read_text() == "store_id,timezone_str\nabc,Europe/London\n"
    assert "abc," in (out / "store_status.csv").read_text()


def test_a_bad_source_is_a_command_error(tmp_path: Path) -> None:
    zones = tmp_path / "zones.csv"
    zones.write_text("store,zone\n")
    with pytest.raises(CommandError, match=r"zones\.csv: the header has no 'store_id' column"):
        run("--stores", "3", "--timezones-from", str(zones), "--out", str(tmp_path / "out"))
