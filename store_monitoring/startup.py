"""Starting a program on settings that refuse the environment (no DJANGO_SECRET_KEY,
a weak one, a malformed value): one line that says what to set, not a traceback.

manage.py, gunicorn (store_monitoring.gunicorn_conf) and Celery (store_monitoring.celery)
load the settings through here before anything else reads them.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def settings_or_exit(program: str) -> None:
    """Load the settings, or end the process with `program: <what is wrong>` (status 1)."""
    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings)
    except ImproperlyConfigured as error:
        sys.exit(f"{program}: {error}")
