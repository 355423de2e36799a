"""How every process writes its log lines: a UTC timestamp and the level first,
as text (the default) or one JSON object a line (LOG_FORMAT=json), for a log
collector to parse.

The settings' LOGGING uses these formatters for Django's loggers; gunicorn's
settings (store_monitoring.gunicorn_conf) for its error and access logs; the
Celery app (store_monitoring.celery) for the worker's and beat's.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

FORMATS = ("text", "json")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
TEXT_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
# gunicorn's access log atoms kept as fields in JSON: what a dashboard filters on.
ACCESS_FIELDS = {
    "h": "remote",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}


class TextFormatter(logging.Formatter):
    """`2026-12-07T15:06:36.123Z INFO monitor.services.jobs: message`, in UTC."""

    converter = time.gmtime  # type: ignore[assignment]  # typeshed: gmtime() allows no argument

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or TEXT_FORMAT, datefmt or TIME_FORMAT)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, process, and the
    exception's traceback when there is one. gunicorn's access lines also carry
    their request's fields (ACCESS_FIELDS)."""

    converter = time.gmtime  # type: ignore[assignment]  # typeshed: gmtime() allows no argument

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self.formatTime(record, TIME_FORMAT)}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            atoms = record.args
            entry.update({field: atoms.get(atom) for atom, field in ACCESS_FIELDS.items()})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT's value ("text" or "json")."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def formatter_path(log_format: str) -> str:
    """The same, as logging.config's "()" factory path."""
    name = "JsonFormatter" if log_format == "json" else "TextFormatter"
    return f"{__name__}.{name}"


def log_format(environ: Mapping[str, str]) -> str:
    """LOG_FORMAT's value: "text" (the default) or "json"; anything else is refused."""
    value = environ.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in FORMATS:
        raise ImproperlyConfigured(
            f"LOG_FORMAT={environ['LOG_FORMAT']!r}: use one of {', '.join(FORMATS)}"
        )
    return value
