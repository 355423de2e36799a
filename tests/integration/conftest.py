"""Real PostgreSQL, real Redis, and the production processes (store_monitoring.devstack).

The child processes use pytest-django's test database, so the tests that
start them store their data with `transaction=True` (committed, visible to
other processes). On SQLite these tests are skipped: a worker process cannot
share the test database. When PostgreSQL or Redis is unreachable they are
skipped too, unless the environment variable CI is set: then they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connections

from store_monitoring.devstack import (
    Api,
    Service,
    free_port,
    running,
    stack_environment,
    web_command,
)

# Set on every child process's database connections (libpq reads PGAPPNAME),
# so that the ones a killed process left behind can be ended; the pid keeps
# two test runs on one server from ending each other's.
APPLICATION_NAME = f"store-monitoring-integration-{os.getpid()}"


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: integration tests must run)")
    pytest.skip(reason)


def database_url(database: Mapping[str, Any]) -> str:
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    return f"postgres://{quote(database['USER'])}{password}@{host}:{port}/{database['NAME']}"


def server_url(database: Mapping[str, Any]) -> str:
    return database_url({**database, "NAME": "postgres"})


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {url} is unreachable ({error}); set TEST_REDIS_URL")
    return url


@pytest.fixture(scope="module")
def stack_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment of the child processes: the test database and the test broker."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "integration tests need PostgreSQL (DATABASE_URL=postgres://…): worker processes "
            "cannot share an SQLite test database"
        )
    try:
        psycopg.connect(server_url(database), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is unreachable ({error})")
    redis_url = request.getfixturevalue("redis_url")
    request.getfixturevalue("django_db_setup")  # now NAME is the test database's
    yield stack_environment(
        database_url=database_url(connections["default"].settings_dict),
        redis_url=redis_url,
        PGAPPNAME=APPLICATION_NAME,
    )
    # A killed process's connections may linger; the test database is dropped next.
    with psycopg.connect(server_url(database), autocommit=True) as server:
        server.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [APPLICATION_NAME],
        )


@pytest.fixture
def clean_broker(redis_url: str) -> None:
    """An empty test broker database: no task left over from another test."""
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def launch(
    stack_env: dict[str, str], clean_broker: None, tmp_path: Path
) -> Iterator[Callable[..., Service]]:
    """launch(name, command, ready, **env): a child process, stopped when the test ends."""
    with ExitStack() as stack:

        def start(
            name: str, command: list[str], ready: Callable[[Service], bool], **env: str
        ) -> Service:
            return stack.enter_context(
                running(name, command, env={**stack_env, **env}, log_dir=tmp_path, ready=ready)
            )

        yield start


@pytest.fixture(scope="module")
def api(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """gunicorn serving the API for the whole module (default settings)."""
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}")
    with running(
        "gunicorn",
        web_command(f"127.0.0.1:{port}"),
        env=stack_env,
        log_dir=tmp_path_factory.mktemp("gunicorn"),
        ready=api.up,
    ):
        yield api


@pytest.fixture
def start_api(launch: Callable[..., Service]) -> Callable[..., Api]:
    """start_api(**env): another gunicorn, with settings of the test's own."""

    def start(**env: str) -> Api:
        port = free_port()
        api = Api(f"http://127.0.0.1:{port}")
        launch(f"gunicorn-{port}", web_command(f"127.0.0.1:{port}"), api.up, **env)
        return api

    return start
