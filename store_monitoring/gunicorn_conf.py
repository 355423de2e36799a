"""gunicorn's settings for the API: `gunicorn -c python:store_monitoring.gunicorn_conf
store_monitoring.wsgi --bind HOST:PORT` (docs/production.md).

Options given on the command line win over these.
"""

from __future__ import annotations

import gc
import json
import os
import socket
from typing import Any

from gunicorn import util

from store_monitoring import logs

# Threads, not more processes: a request mostly waits (on PostgreSQL, on the
# socket while a CSV is sent, on Redis while a trigger publishes its job), so
# a few threads per process keep both cores busy without a process's memory
# each; and unlike the sync worker, gthread keeps connections alive between a
# client's requests. Two processes, one per core, for the Python code itself.
worker_class = "gthread"
workers = 2
threads = 4
keepalive = 5  # seconds an idle client connection is kept
# The longest request line gunicorn accepts (its own maximum; its default is
# half). A longer one gets 414, as JSON below: no path or query of this API
# comes near it, and ids the app sees that no report can have get its own 404.
limit_request_line = 8190

# One line per request on standard output: who, what, the status, the size and
# how long it took (gunicorn's error log, on standard error, has the rest).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
# Both logs in the service's format: a UTC timestamp and the level first, or
# JSON with LOG_FORMAT=json (the access lines' fields as JSON fields too).
_line = {"()": logs.formatter_path(logs.log_format(os.environ))}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": _line},
    # gunicorn's defaults would send the root logger to its own stdout handler;
    # the app's settings configure it again once Django loads.
    "root": {"level": "INFO", "handlers": ["error"]},
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "stream": "ext://sys.stdout",
        },
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    """In the master process, before any worker loads the app: settings that
    refuse the environment stop gunicorn with one line, rather than every
    worker failing to boot with a traceback."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")
    from store_monitoring.startup import settings_or_exit

    settings_or_exit("gunicorn")


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded the app: its views too (Django imports them at
    the first request otherwise), then every object so far is frozen out of
    the garbage collector's reach. They live as long as the process, and a
    full collection walking them all holds the GIL, and so every thread's
    request, for tens of milliseconds."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view's module)
    gc.freeze()


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it refuses before the app sees it (a
    request line or headers too long, a malformed request), as every error
    of this API is: JSON {"error": …} instead of gunicorn's HTML page."""
    text = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"error": text}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


# gunicorn has no setting for its error pages: its workers (forked from the
# process that read this file) call util.write_error, replaced here.
util.write_error = write_json_error
