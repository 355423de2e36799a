"""Request rates (DRF throttling), per API key, or per client address when keys are off.

The rates are settings.API_THROTTLE_RATES (from API_THROTTLE_READ, _TRIGGER
and _WRITE), read at each request; the counts live in Django's cache, Redis
in production. A cache that fails lets requests through for a few seconds
rather than failing them: throttling is a guard, the API must not depend on it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from monitor.models import ApiKey

logger = logging.getLogger(__name__)

# After a cache error, throttles stand aside this long instead of waiting on
# the cache's timeouts at every request.
CACHE_RETRY_SECONDS = 5.0
_cache_failed_at = -CACHE_RETRY_SECONDS


class ApiThrottle(SimpleRateThrottle):
    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        global _cache_failed_at
        if time.monotonic() - _cache_failed_at < CACHE_RETRY_SECONDS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's own errors (redis.RedisError, OSError)
            logger.exception(
                "throttle cache unavailable: not throttling for %.0f s", CACHE_RETRY_SECONDS
            )
            _cache_failed_at = time.monotonic()
            return True


class ReadThrottle(ApiThrottle):
    """Every endpoint's default."""

    scope = "read"


class TriggerThrottle(ApiThrottle):
    """trigger_report: each trigger may cost a report's computation."""

    scope = "trigger"


class WriteThrottle(ApiThrottle):
    """The endpoints that send data (with access.WriteScope)."""

    scope = "write"
