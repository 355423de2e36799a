"""WSGI entry point: `gunicorn store_monitoring.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")

application = get_wsgi_application()

# The embedded set-up (no broker) runs the periodic jobs in this process.
from monitor import jobqueue  # noqa: E402 (the app is loaded above)

jobqueue.start_periodic()
