"""Log lines: a UTC timestamp and the level first, or JSON (store_monitoring.logs)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from store_monitoring import logs
from store_monitoring.devstack import LOCAL_SECRET_KEY, ROOT


def record(name: str = "monitor.services.jobs", **fields: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, "report %s failed", ("x",), None)
    made.__dict__.update(fields)
    return made


def test_a_text_line_starts_with_the_utc_time_and_the_level() -> None:
    line = logs.TextFormatter().format(record(created=0.25, msecs=250.0))

    assert line == "1970-01-01T00:00:00.250Z WARNING monitor.services.jobs: report x failed"


def test_a_json_line_is_one_object_with_time_level_logger_and_message() -> None:
    entry = json.loads(logs.JsonFormatter().format(record(created=0.25, msecs=250.0)))

    assert entry["time"] == "1970-01-01T00:00:00.250Z"
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "monitor.services.jobs",
        "report x failed",
    )


def test_a_json_line_carries_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record(exc_info=exc_info))

    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_a_json_access_line_carries_the_request_fields() -> None:
    access = logging.LogRecord("gunicorn.access", logging.INFO, "", 1, "%(s)s", (), None)
    access.args = {"h": "10.0.0.1", "m": "GET", "U": "/healthz", "q": "", "s": "200", "M": 3}

    entry = json.loads(logs.JsonFormatter().format(access))

    assert (entry["remote"], entry["method"], entry["path"]) == ("10.0.0.1", "GET", "/healthz")
    assert (entry["status"], entry["duration_ms"]) == ("200", 3)


@pytest.mark.parametrize(("value", "expected"), [("", "text"), ("JSON ", "json"), ("text", "text")])
def test_log_format_reads_the_variable(value: str, expected: str) -> None:
    assert logs.log_format({"LOG_FORMAT": value}) == expected


def test_an_unknown_log_format_is_refused_naming_the_choices() -> None:
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT='xml': use one of text, json"):
        logs.log_format({"LOG_FORMAT": "xml"})


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_command_logs_in_the_chosen_format(log_format: str) -> None:
    """The settings' LOGGING, as a management command's warning is written."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('monitor').warning('disk %s', 'full')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "store_monitoring.settings",
            "DJANGO_SECRET_KEY": LOCAL_SECRET_KEY,
            "LOG_FORMAT": log_format,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )

    line = done.stderr.strip()
    if log_format == "json":
        assert json.loads(line)["message"] == "disk full"
    else:
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING monitor: disk full", line
        )
