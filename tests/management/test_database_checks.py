"""Commands run against a database that is not migrated, or does not exist: a
clean message that says what to run, exit status 2, no traceback."""

import os
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import WriteFile
from tests.management.test_import_commands import manage

COMMANDS = [
    ("import_store_status_data", "{polls}"),
    ("import_store_business_hours_data", "{hours}"),
    ("import_store_timezone_data", "{zones}"),
    ("import_data", "--status={polls}", "--hours={hours}", "--timezones={zones}"),
    ("load_sample_data", "--stores=2"),
    ("generate_report",),
]


@pytest.fixture
def files(write_file: WriteFile) -> dict[str, str]:
    return {
        "polls": str(write_file("polls.csv", "store_id,status,timestamp_utc\n")),
        "hours": str(write_file("hours.csv", "store_id,day,start_time_local,end_time_local\n")),
        "zones": str(write_file("zones.csv", "store_id,timezone_str\n")),
    }


def command_line(command: tuple[str, ...], files: dict[str, str]) -> list[str]:
    return [argument.format(**files) for argument in command]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_an_unmigrated_database_says_to_migrate_first(
    tmp_path: Path, files: dict[str, str], command: tuple[str, ...]
) -> None:
    database = tmp_path / "new.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    run = manage(env, *command_line(command, files))
    assert run.returncode == 2
    assert run.stderr == (
        f'CommandError: the database "{database}" is not migrated: run `manage.py migrate` first\n'
    )


@pytest.mark.parametrize("command", COMMANDS[::3], ids=lambda command: command[0])
def test_a_database_that_does_not_exist_says_to_create_it(
    files: dict[str, str], command: tuple[str, ...]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL run's server is needed (SQLite creates a missing file)")
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env = {**os.environ, "DATABASE_URL": f"{server}/sm_no_such_database"}
    run = manage(env, *command_line(command, files))
    assert run.returncode == 2
    assert run.stderr == (
        'CommandError: the database "sm_no_such_database" does not exist: create it '
        "(`createdb sm_no_such_database`), then run `manage.py migrate`\n"
    )
