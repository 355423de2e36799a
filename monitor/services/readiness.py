"""Can this process do its work: does the database answer, and the broker when one is set?"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

# The broker must answer within this; a stopped (SIGSTOP) Redis accepts the
# connection and then says nothing.
BROKER_TIMEOUT_SECONDS = 1.0


def dependencies_failing() -> list[str]:
    """The names of the dependencies that do not answer ("database", "broker"); [] when ready."""
    failing = []
    if not _database_answers():
        failing.append("database")
    if settings.CELERY_BROKER_URL and not _broker_answers(settings.CELERY_BROKER_URL):
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


def _broker_answers(url: str) -> bool:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        logger.warning("readiness: the broker does not answer", exc_info=True)
        return False
    finally:
        client.close()
