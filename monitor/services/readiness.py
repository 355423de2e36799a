"""Can this process do its work: does the database answer, and the broker when one is set?"""

from __future__ import annotations

import logging

from django.db import connection

from monitor import jobqueue

logger = logging.getLogger(__name__)


def dependencies_failing() -> list[str]:
    """The names of the dependencies that do not answer ("database", "broker"); [] when ready."""
    failing = []
    if not _database_answers():
        failing.append("database")
    if not jobqueue.current().answers():
        failing.append("broker")
    return failing


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("readiness: the database does not answer", exc_info=True)
        # A connection that failed mid-way must not be reused by the next request.
        connection.close_if_unusable_or_obsolete()
        return False
    return True
