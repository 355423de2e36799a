"""The Celery app: `celery -A store_monitoring worker` runs the report jobs, and
`celery -A store_monitoring beat` sends the periodic ones (settings.CELERY_BEAT_SCHEDULE)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")

app = Celery("store_monitoring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
