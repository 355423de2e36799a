"""The throttles' counts under concurrency, in the real caches: the process's
own (LocMemCache, shared by a process's threads) and Redis (CACHE_URL, shared
by every process), as gunicorn's threads and workers reach them at once."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import cache
from pytest_django.fixtures import Settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from monitor.api.throttles import ReadThrottle

CLIENTS = 40
REQUESTS_PER_CLIENT = 3
LIMIT = 25


@pytest.fixture
def eager_thread_switches() -> Iterator[None]:
    """Threads switch as often as the interpreter can, not every 5 ms: a count that
    is read, then written back, is then interleaved as it would be on a busy server."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.fixture(params=["locmem", "redis"])
def throttle_cache(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    if request.param == "redis":
        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            if os.environ.get("CI"):
                pytest.fail(f"Redis at {url} is unreachable ({error})")
            pytest.skip(f"Redis at {url} is unreachable ({error}); set TEST_REDIS_URL")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "throttle-test",
            }
        }
    cache.clear()
    yield request.param
    cache.clear()


def client_request(address: str) -> Request:
    return Request(APIRequestFactory().get("/api/monitor/reports", REMOTE_ADDR=address))


def concurrent_answers(address: str) -> list[bool]:
    """Every client's answers, the clients starting together on their own threads."""
    start = threading.Barrier(CLIENTS)

    def client(_: int) -> list[bool]:
        start.wait()
        return [
            ReadThrottle().allow_request(client_request(address), None)
            for _ in range(REQUESTS_PER_CLIENT)
        ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [answer for answers in pool.map(client, range(CLIENTS)) for answer in answers]


@pytest.mark.usefixtures("eager_thread_switches")
def test_concurrent_clients_pass_exactly_the_limit(throttle_cache: str, settings: Settings) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": f"{LIMIT}/min"}

    answers = concurrent_answers("10.0.0.1")

    assert answers.count(True) == LIMIT
    # Another address has its own count.
    assert ReadThrottle().allow_request(client_request("10.0.0.2"), None)


def test_a_refused_client_is_told_when_to_come_back(
    throttle_cache: str, settings: Settings
) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": "2/min"}
    throttles = [ReadThrottle() for _ in range(3)]

    answers = [throttle.allow_request(client_request("10.0.0.3"), None) for throttle in throttles]

    assert answers == [True, True, False]
    wait = throttles[2].wait()
    assert wait is not None
    assert 59 < wait <= 60
