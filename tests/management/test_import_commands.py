"""The import commands: output, exit status, progress bar, and import_data's one transaction."""

import os
import pty
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitor.ingest import rules
from monitor.models import BusinessHours, StatusPoll, Store
from tests.conftest import WriteFile

ROOT = Path(__file__).resolve().parents[2]
POLLS = "store_id,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n1,0,09:00,17:00\n"
ZONES = "store_id,timezone_str\n1,Asia/Kolkata\n"
SPECIAL = "store_id,date,start_time_local,end_time_local\n1,2023-12-25,,\n"
EXCLUSIONS = "store_id,start_utc,end_utc,reason\n*,2023-01-22 11:00:00,2023-01-22 12:00:00,x\n"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=out, stderr=err)
    return failure.value.returncode, f"{out.getvalue()}", f"{err.getvalue()}{failure.value}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "content", "summary"),
    [
        (
            "import_store_status_data",
            POLLS,
            "loaded 1, skipped 0 duplicates, rejected 0 invalid rows",
        ),
        ("import_store_business_hours_data", HOURS, "loaded 1, skipped 0 duplicates, rejected 0"),
        ("import_store_timezone_data", ZONES, "loaded 1, skipped 0 duplicates, rejected 0"),
        ("import_store_special_hours_data", SPECIAL, "loaded 1, skipped 0 duplicates, rejected 0"),
        ("import_store_exclusions_data", EXCLUSIONS, "loaded 1, skipped 0 duplicates, rejected 0"),
    ],
)
def test_a_clean_file_prints_the_summary_only(
    write_file: WriteFile, command: str, content: str, summary: str
) -> None:
    out, err = run(command, str(write_file("input.csv", content)))
    assert out.startswith(summary)
    assert out.count("\n") == 1
    assert err == ""


@pytest.mark.django_db
def test_duplicates_are_counted_in_the_summary(write_file: WriteFile) -> None:
    path = str(write_file("polls.csv", POLLS + "1,inactive,2023-01-22T12:00:00Z\n"))
    assert run("import_store_status_data", path)[0] == (
        "loaded 1, skipped 1 duplicates, rejected 0 invalid rows\n"
    )
    assert run("import_store_status_data", path)[0] == (
        "loaded 0, skipped 2 duplicates, rejected 0 invalid rows\n"
    )


@pytest.mark.django_db
def test_rejected_rows_are_listed_with_file_and_line_and_exit_1(write_file: WriteFile) -> None:
    bad = "".join(f"{n},active,tomorrow\n" for n in range(23))
    path = write_file("polls.csv", POLLS + bad)
    status, out, err = run_failing("import_store_status_data", str(path))
    assert status == 1
    assert out == "loaded 1, skipped 0 duplicates, rejected 23 invalid rows\n"
    lines = err.splitlines()
    assert lines[0] == (
        f"{path}:3: timestamp_utc 'tomorrow' is not 'YYYY-MM-DD HH:MM:SS[.f][ UTC]' nor "
        "ISO 8601 'YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]' (.f: 1 to 6 digits)"
    )
    assert [line.split(":")[1] for line in lines[:20]] == [str(n) for n in range(3, 23)]
    assert lines[20] == "… and 3 more"
    assert StatusPoll.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "content", "why"),
    [
        ("import_store_status_data", "store_id,state,timestamp_utc\n1,active,x\n", "no 'status'"),
        (
            "import_store_business_hours_data",
            "store_id,day,start_time_local\n",
            "no 'end_time_local'",
        ),
        ("import_store_timezone_data", b"store_id,timezone_str\n\xff,UTC\n", "not UTF-8 text"),
    ],
)
def test_a_refused_file_loads_nothing_and_exits_2(
    write_file: WriteFile, command: str, content: str | bytes, why: str
) -> None:
    path = write_file("input.csv", content)
    status, out, err = run_failing(command, str(path))
    assert status == 2
    assert out == ""
    assert f"{path}: " in err
    assert why in err
    assert "nothing was loaded" in err
    assert not Store.objects.exists()


@pytest.mark.django_db
def test_import_data_loads_zones_then_hours_then_polls(write_file: WriteFile) -> None:
    out, err = run(
        "import_data",
        "--status",
        str(write_file("polls.csv", POLLS)),
        "--hours",
        str(write_file("hours.csv", HOURS)),
        "--timezones",
        str(write_file("zones.csv", ZONES)),
    )
    assert [line.split(": ")[0].rsplit("/", 1)[1] for line in out.splitlines()] == [
        "zones.csv",
        "hours.csv",
        "polls.csv",
    ]
    assert all(
        line.endswith(": loaded 1, skipped 0 duplicates, rejected 0 invalid rows")
        for line in out.splitlines()
    )
    assert err == ""
    store = Store.objects.get(store_id="1")
    assert store.timezone_str == "Asia/Kolkata"
    assert store.business_hours.count() == 1
    assert store.polls.count() == 1


@pytest.mark.django_db
def test_import_data_exits_1_when_any_file_had_rejected_rows(write_file: WriteFile) -> None:
    hours = write_file("hours.csv", HOURS + "2,8,09:00,17:00\n")
    status, out, err = run_failing(
        "import_data",
        "--status",
        str(write_file("polls.csv", POLLS)),
        "--hours",
        str(hours),
        "--timezones",
        str(write_file("zones.csv", ZONES)),
    )
    assert status == 1
    assert f"{hours}:3: dayOfWeek '8' is not an integer from 0 (Monday) to 6 (Sunday)" in err
    assert f"{hours}: loaded 1, skipped 0 duplicates, rejected 1 invalid rows" in out
    assert StatusPoll.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_import_data_loads_nothing_when_the_last_file_is_refused(write_file: WriteFile) -> None:
    status, out, err = run_failing(
        "import_data",
        "--status",
        str(write_file("polls.csv", "store_id,timestamp_utc\n")),
        "--hours",
        str(write_file("hours.csv", HOURS)),
        "--timezones",
        str(write_file("zones.csv", ZONES)),
    )
    assert status == 2
    assert out == ""
    assert "polls.csv: the header has no 'status' column" in err
    assert not Store.objects.exists()
    assert not BusinessHours.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_during_import_data_loads_nothing(
    write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(value: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(rules, "utc_timestamp", interrupted)  # once zones and hours are in
    status, _, err = run_failing(
        "import_data",
        "--status",
        str(write_file("polls.csv", POLLS)),
        "--hours",
        str(write_file("hours.csv", HOURS)),
        "--timezones",
        str(write_file("zones.csv", ZONES)),
    )
    assert status == 130
    assert "polls.csv: interrupted, nothing was loaded" in err
    assert not Store.objects.exists()


# ---- as a process: exit status and terminal output -----------------------------------


@pytest.fixture(scope="module")
def sqlite_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A process environment with a migrated SQLite database of its own (the test
    database is not visible to another process)."""
    database = tmp_path_factory.mktemp("db") / "commands.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_exit_status_of_the_process(write_file: WriteFile, sqlite_env: dict[str, str]) -> None:
    clean = manage(sqlite_env, "import_store_timezone_data", str(write_file("ok.csv", ZONES)))
    assert (clean.returncode, clean.stdout, clean.stderr) == (
        0,
        "loaded 1, skipped 0 duplicates, rejected 0 invalid rows\n",
        "",
    )
    rejected = manage(
        sqlite_env, "import_store_timezone_data", str(write_file("bad.csv", ZONES + "2,Nowhere\n"))
    )
    assert rejected.returncode == 1
    assert "bad.csv:3: timezone_str 'Nowhere' is not an IANA time zone name" in rejected.stderr
    refused = manage(
        sqlite_env, "import_store_timezone_data", str(write_file("refused.csv", "id,zone\n"))
    )
    assert refused.returncode == 2
    assert "refused.csv: the header has no 'store_id' column" in refused.stderr


def test_a_dash_reads_standard_input(sqlite_env: dict[str, str]) -> None:
    def pipe(command: str, data: bytes) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "manage.py", command, "-"],
            cwd=ROOT,
            env=sqlite_env,
            input=data,
            capture_output=True,
        )
        return done.returncode, done.stdout.decode(), done.stderr.decode()

    assert pipe("import_store_status_data", POLLS.replace("1,", "piped,").encode()) == (
        0,
        "loaded 1, skipped 0 duplicates, rejected 0 invalid rows\n",
        "",
    )
    status, _, err = pipe("import_store_status_data", f"{POLLS}2,up,2023-01-22 12:00\n".encode())
    assert status == 1
    assert "<stdin>:3: status 'up' is neither 'active' nor 'inactive'" in err
    status, _, err = pipe("import_store_timezone_data", b"id,zone\n")
    assert status == 2
    assert "<stdin>: the header has no 'store_id' column" in err
    status, _, err = pipe("import_store_timezone_data", ZONES.encode() + b"3,Asia/Kolk\xe0ta\n")
    assert status == 2
    assert "<stdin>: not UTF-8 text" in err
    assert pipe("import_store_exclusions_data", (EXCLUSIONS * 2).encode())[:2] == (
        1,  # the second header is a row (rejected), and the second exclusion a duplicate
        "loaded 1, skipped 1 duplicates, rejected 1 invalid rows\n",
    )
    assert pipe("import_store_exclusions_data", EXCLUSIONS.encode())[:2] == (
        0,
        "loaded 0, skipped 1 duplicates, rejected 0 invalid rows\n",
    )
    status, out, err = pipe(
        "import_store_special_hours_data", SPECIAL.encode() + b"1,2023-12-26,9:00,\n"
    )
    assert (status, out) == (1, "loaded 1, skipped 0 duplicates, rejected 1 invalid rows\n")
    assert "<stdin>:3: end_time_local is empty while start_time_local is not" in err


@pytest.mark.django_db
def test_import_data_takes_the_calendar_files(write_file: WriteFile) -> None:
    out, _ = run(
        "import_data",
        "--status", str(write_file("polls.csv", POLLS)),
        "--hours", str(write_file("hours.csv", HOURS)),
        "--timezones", str(write_file("zones.csv", ZONES)),
        "--special-hours", str(write_file("special.csv", SPECIAL)),
        "--exclusions", str(write_file("exclusions.csv", EXCLUSIONS)),
    )  # fmt: skip
    assert [line.split(": ")[0].rsplit("/", 1)[1] for line in out.splitlines()] == [
        "zones.csv",
        "hours.csv",
        "special.csv",
        "exclusions.csv",
        "polls.csv",
    ]


def test_a_progress_bar_shows_on_a_terminal_only(
    write_file: WriteFile, sqlite_env: dict[str, str]
) -> None:
    path = str(write_file("zones.csv", ZONES))
    assert "zones.csv" not in manage(sqlite_env, "import_store_timezone_data", path).stdout
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "manage.py", "import_store_timezone_data", path],
        cwd=ROOT,
        env={**sqlite_env, "COLUMNS": "120", "TERM": "xterm"},
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    ) as child:
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
        assert child.wait() == 0
    os.close(controller)
    assert b"zones.csv" in shown  # the bar's label
    assert b"loaded 1, skipped 0 duplicates, rejected 0 invalid rows" in shown


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the child closed its end of the terminal
        return b""
