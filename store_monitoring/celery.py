"""The Celery app: `celery -A store_monitoring worker` runs the report jobs,
`celery -A store_monitoring beat` sends the periodic ones."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")

app = Celery("store_monitoring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    # Deletes finished reports past REPORT_RETENTION_DAYS or REPORT_RETENTION_COUNT.
    "prune-reports": {
        "task": "monitor.reports_prune",
        "schedule": float(settings.REPORT_RETENTION_INTERVAL_SECONDS),
    },
}
