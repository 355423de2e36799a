"""store_monitoring/settings.py: strict environment values and a refused unsafe start.

Each test runs the settings module afresh (runpy) under its own environment;
the settings the suite runs on are untouched.
"""

import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import ConnectionHandler
from pytest_django import DjangoDbBlocker

from store_monitoring.devstack import BIN, LOCAL_SECRET_KEY, ROOT

KEY = LOCAL_SECRET_KEY  # a key the settings accept in production (50 characters or more)

SETTINGS = Path(__file__).resolve().parent.parent / "store_monitoring" / "settings.py"


@pytest.fixture
def load_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """load_settings(**env): the settings' values under a bare environment plus `env`."""

    def load(**env: str) -> dict[str, Any]:
        for name in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("STORE_MONITORING_VAR_DIR", str(tmp_path / "var"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS))

    return load


def test_production_refuses_to_start_without_a_secret_key(load_settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is not set"):
        load_settings(DJANGO_DEBUG="false")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is not set"):
        load_settings()  # DJANGO_DEBUG is off by default


def test_debug_mode_runs_on_a_local_key(load_settings: Any) -> None:
    assert load_settings(DJANGO_DEBUG="true")["SECRET_KEY"]


def test_the_key_from_the_environment_is_used(load_settings: Any) -> None:
    assert load_settings(DJANGO_SECRET_KEY=KEY)["SECRET_KEY"] == KEY


@pytest.mark.parametrize(
    "weak",
    ["local-development-key-never-use-in-production", "k" * 49, "abcd" * 20],
    ids=["46 characters", "49 characters", "4 different characters"],
)
def test_production_refuses_to_start_on_a_weak_key(load_settings: Any, weak: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is too weak"):
        load_settings(DJANGO_SECRET_KEY=weak)
    assert load_settings(DJANGO_SECRET_KEY=weak, DJANGO_DEBUG="true")["SECRET_KEY"] == weak


GUNICORN = [str(BIN / "gunicorn"), "-c", "python:store_monitoring.gunicorn_conf"]


@pytest.mark.parametrize(
    "program",
    [
        [sys.executable, "manage.py", "check"],
        [*GUNICORN, "store_monitoring.wsgi", "--bind", "127.0.0.1:0"],
        [str(BIN / "celery"), "-A", "store_monitoring", "worker"],
    ],
    ids=["manage.py", "gunicorn", "celery"],
)
@pytest.mark.parametrize("key", ["", "k" * 49], ids=["no key", "a short key"])
def test_a_refused_key_stops_every_program_with_one_line(program: list[str], key: str) -> None:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "store_monitoring.settings"}
    environment.update(DJANGO_SECRET_KEY=key, DJANGO_DEBUG="false", CELERY_BROKER_URL="")

    ended = subprocess.run(
        program, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )

    assert ended.returncode == 1
    name = "manage.py" if program[0] == sys.executable else Path(program[0]).name
    refusal = [line for line in ended.stderr.splitlines() if line.startswith(f"{name}: ")]
    assert len(refusal) == 1, ended.stderr
    assert "DJANGO_SECRET_KEY" in refusal[0]
    assert "Traceback" not in ended.stderr


@pytest.mark.parametrize(("value", "expected"), [("TRUE", True), (" yes ", True), ("0", False)])
def test_booleans(load_settings: Any, value: str, expected: bool) -> None:
    assert load_settings(DJANGO_SECRET_KEY=KEY, DJANGO_DEBUG=value)["DEBUG"] is expected


def test_an_unknown_boolean_is_an_error_naming_the_variable(load_settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG='ture' is not a yes/no value"):
        load_settings(DJANGO_SECRET_KEY=KEY, DJANGO_DEBUG="ture")


def test_a_malformed_number_is_an_error_naming_the_variable(load_settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="REPORT_STALE_AFTER_SECONDS='10m'"):
        load_settings(DJANGO_SECRET_KEY=KEY, REPORT_STALE_AFTER_SECONDS="10m")


@pytest.mark.parametrize(
    "name",
    [
        "DATABASE_CONN_MAX_AGE",
        "DATABASE_CONNECT_TIMEOUT",
        "API_MAX_BODY_BYTES",
        "API_NUM_PROXIES",
        "INGEST_MAX_ROWS",
        "CELERY_VISIBILITY_TIMEOUT",
        "REPORT_SHARD_STORES",
        "PRUNE_POLLS_OLDER_THAN_DAYS",
    ],
)
def test_every_whole_number_is_checked(load_settings: Any, name: str) -> None:
    env = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/d"} if "CONNECT" in name else {}
    with pytest.raises(ImproperlyConfigured, match=f"{name}='2.5' is not a whole number"):
        load_settings(DJANGO_SECRET_KEY=KEY, **env, **{name: "2.5"})


def test_whole_numbers_reach_their_settings(load_settings: Any) -> None:
    defaults = load_settings(DJANGO_SECRET_KEY=KEY, DATABASE_URL="postgres://u@127.0.0.1:5432/d")
    assert defaults["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 3
    assert defaults["REST_FRAMEWORK"]["NUM_PROXIES"] is None
    loaded = load_settings(
        DJANGO_SECRET_KEY=KEY,
        DATABASE_URL="postgres://u@127.0.0.1:5432/d",
        DATABASE_CONNECT_TIMEOUT=" 7 ",
        API_MAX_BODY_BYTES="1024",
        API_NUM_PROXIES="2",
    )
    assert loaded["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 7
    assert loaded["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 1024
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 2
    with pytest.raises(ImproperlyConfigured, match="API_NUM_PROXIES='-1': must be at least 0"):
        load_settings(DJANGO_SECRET_KEY=KEY, API_NUM_PROXIES="-1")


@pytest.mark.parametrize(
    "name",
    [
        "REPORT_EMBEDDED_THREADS",
        "REPORT_STALE_AFTER_SECONDS",
        "REPORT_QUEUE_TIMEOUT",
        "REPORT_RETENTION_DAYS",
        "REPORT_RETENTION_COUNT",
    ],
)
@pytest.mark.parametrize("value", ["-1", "0"])
def test_a_count_or_duration_below_one_is_an_error_naming_the_variable(
    load_settings: Any, name: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"{name}='{value}': must be at least 1"):
        load_settings(DJANGO_SECRET_KEY=KEY, **{name: value})


def test_the_retention_interval_may_be_0_but_not_negative(load_settings: Any) -> None:
    # 0: the embedded set-up prunes after every job; beat still waits a second.
    loaded = load_settings(DJANGO_SECRET_KEY=KEY, REPORT_RETENTION_INTERVAL_SECONDS="0")
    assert loaded["CELERY_BEAT_SCHEDULE"]["prune-reports"]["schedule"] == 1.0
    with pytest.raises(ImproperlyConfigured, match="INTERVAL_SECONDS='-1': must be at least 0"):
        load_settings(DJANGO_SECRET_KEY=KEY, REPORT_RETENTION_INTERVAL_SECONDS="-1")


def test_list_values_are_trimmed_and_empty_items_dropped(load_settings: Any) -> None:
    settings = load_settings(DJANGO_SECRET_KEY=KEY, DJANGO_ALLOWED_HOSTS=" a.example, ,b.example,")
    assert settings["ALLOWED_HOSTS"] == ["a.example", "b.example"]


def test_importing_the_settings_creates_no_directory(load_settings: Any, tmp_path: Path) -> None:
    settings = load_settings(DJANGO_SECRET_KEY=KEY)
    assert Path(settings["DATABASES"]["default"]["NAME"]).parent == tmp_path / "var"
    assert not (tmp_path / "var").exists()


def test_the_sqlite_database_directory_is_made_on_first_connection(
    tmp_path: Path, django_db_blocker: DjangoDbBlocker
) -> None:
    name = tmp_path / "var" / "store_monitoring.sqlite3"
    connection = ConnectionHandler({"default": {"ENGINE": "store_monitoring.sqlite", "NAME": name}})
    with django_db_blocker.unblock():  # a database of its own, not the test database
        try:
            connection["default"].ensure_connection()
        finally:
            connection.close_all()

    assert name.is_file()


def test_pruning_polls_is_scheduled_only_when_asked(load_settings: Any) -> None:
    off = load_settings(DJANGO_DEBUG="true")
    assert "prune-polls" not in off["CELERY_BEAT_SCHEDULE"]

    on = load_settings(
        DJANGO_DEBUG="true", PRUNE_POLLS_OLDER_THAN_DAYS="30", PRUNE_POLLS_CRON="15 4 * * 0"
    )
    entry = on["CELERY_BEAT_SCHEDULE"]["prune-polls"]
    assert (entry["task"], entry["args"]) == ("monitor.polls_prune", (30,))
    assert (entry["schedule"].minute, entry["schedule"].hour) == ({15}, {4})
    assert entry["schedule"].day_of_week == {0}
    assert "prune-reports" in on["CELERY_BEAT_SCHEDULE"]  # beside it, not instead


def test_a_malformed_prune_schedule_is_refused(load_settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="not a cron line of 5 fields"):
        load_settings(
            DJANGO_DEBUG="true", PRUNE_POLLS_OLDER_THAN_DAYS="30", PRUNE_POLLS_CRON="daily"
        )


def test_the_login_lockout_is_set_from_the_environment(load_settings: Any) -> None:
    default = load_settings(DJANGO_SECRET_KEY=KEY)
    assert (default["AXES_FAILURE_LIMIT"], default["AXES_COOLOFF_TIME"]) == (
        5,
        timedelta(minutes=15),
    )

    loaded = load_settings(
        DJANGO_SECRET_KEY=KEY, LOGIN_FAILURE_LIMIT="3", LOGIN_LOCKOUT_MINUTES="60"
    )
    assert (loaded["AXES_FAILURE_LIMIT"], loaded["AXES_COOLOFF_TIME"]) == (3, timedelta(hours=1))
    with pytest.raises(ImproperlyConfigured, match="LOGIN_FAILURE_LIMIT='0': must be at least 1"):
        load_settings(DJANGO_SECRET_KEY=KEY, LOGIN_FAILURE_LIMIT="0")
