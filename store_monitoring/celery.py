"""The Celery app: `celery -A store_monitoring worker` runs the report jobs, and
`celery -A store_monitoring beat` sends the periodic ones (settings.CELERY_BEAT_SCHEDULE)."""

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, beat, signals

from store_monitoring import logs
from store_monitoring.startup import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")

app = Celery("store_monitoring")


@app.on_configure.connect
def _settings_or_exit(**_: Any) -> None:
    # Before Celery reads its configuration from the settings (a worker or beat
    # starting): a refused environment is one line, not a traceback.
    settings_or_exit("celery")


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class PersistentScheduler(beat.PersistentScheduler):
    """Celery's own scheduler, keeping its state in a file (CELERY_BEAT_SCHEDULE_FILENAME,
    or beat's --schedule), whose folder it makes first: in a fresh clone var/ does
    not exist yet, and beat died on it, so retention never ran."""

    def setup_schedule(self) -> None:
        filename = self.schedule_filename  # type: ignore[attr-defined]  # not in celery-types
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def json_log_lines(logger: logging.Logger, **_: object) -> None:
    """With LOG_FORMAT=json the worker's and beat's lines are JSON too (Celery's own
    text lines already start with the time and the level)."""
    if logs.log_format(os.environ) == "json":
        for handler in logger.handlers:
            handler.setFormatter(logs.JsonFormatter())
