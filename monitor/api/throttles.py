"""Request rates (DRF throttling), per API key, or per client address when keys are off.

The rates are settings.API_THROTTLE_RATES (from API_THROTTLE_READ, _TRIGGER
and _WRITE), read at each request; the counts live in Django's cache, Redis
in production. A cache that fails lets requests through for a few seconds
rather than failing them: throttling is a guard, the API must not depend on it.

Each count is taken atomically: DRF's own throttle reads a key's history,
then writes it back, so concurrent requests (gunicorn's threads, its workers)
each saw room for one more and all got through. In Redis one script prunes,
counts and records a request; in the process's own cache (LocMemCache, shared
only by the process's threads) a lock of the process does the same.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from monitor.models import ApiKey

logger = logging.getLogger(__name__)

# After a cache error, throttles stand aside this long instead of waiting on
# the cache's timeouts at every request.
CACHE_RETRY_SECONDS = 5.0
_cache_failed_at = -CACHE_RETRY_SECONDS

# A sliding window as a sorted set of request instants (Redis's own clock, the
# same for every web process): drop those older than the window, then record
# this request if fewer than the limit remain. Answers -1 (allowed), or how
# many milliseconds until the oldest request leaves the window.
_SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('EXPIRE', KEYS[1], window)
    return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.ceil((window - (now - tonumber(oldest[2]))) * 1000)
"""

_local_counts = threading.Lock()


def _redis_take(backend: RedisCache, key: str, limit: int, window: int) -> float | None:
    """Record a request under `key` unless `limit` are in the last `window`
    seconds: None if recorded, else the seconds to wait."""
    redis_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(redis_key, write=True)
    # A unique member: two requests in the same microsecond are two requests.
    waited_ms = client.eval(_SLIDING_WINDOW, 1, redis_key, window, limit, secrets.token_hex(8))
    return None if waited_ms < 0 else waited_ms / 1000


def _local_take(key: str, limit: int, window: int) -> float | None:
    """As _redis_take, in a cache that only this process's threads share."""
    with _local_counts:
        now = time.time()
        history: list[float] = [t for t in cache.get(key, []) if t > now - window]
        if len(history) >= limit:
            return window - (now - history[-1])
        cache.set(key, [now, *history], window)
        return None


def _take(key: str, limit: int, window: int) -> float | None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_take(backend, key, limit, window)
    return _local_take(key, limit, window)


class ApiThrottle(SimpleRateThrottle):
    scope: str
    num_requests: int | None  # set from the rate by DRF
    duration: int | None
    _wait: float | None = None

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
        limit, window = self.num_requests, self.duration
        if limit is None or window is None:
            return True
        if time.monotonic() - _cache_failed_at < CACHE_RETRY_SECONDS:
            return True
        key = self.get_cache_key(request, view)
        try:
            self._wait = _take(key, limit, window)
        except Exception:  # the cache backend's own errors (redis.RedisError, OSError)
            logger.exception(
                "throttle cache unavailable: not throttling for %.0f s", CACHE_RETRY_SECONDS
            )
            _cache_failed_at = time.monotonic()
            return True
        return self._wait is None

    def wait(self) -> float | None:
        """Seconds until this client may come back (the 429's Retry-After)."""
        return self._wait


class ReadThrottle(ApiThrottle):
    """Every endpoint's default."""

    scope = "read"


class TriggerThrottle(ApiThrottle):
    """trigger_report: each trigger may cost a report's computation."""

    scope = "trigger"


class WriteThrottle(ApiThrottle):
    """The endpoints that send data (with access.WriteScope)."""

    scope = "write"


class ReadOrWriteThrottle(ApiThrottle):
    """ReadThrottle's rate for a GET (HEAD, OPTIONS), WriteThrottle's for a method that
    sends data (with access.ReadOrWriteScope)."""

    scope = "read"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = ReadThrottle.scope if request.method in SAFE_METHODS else WriteThrottle.scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
