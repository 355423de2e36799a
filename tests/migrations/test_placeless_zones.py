"""Migration 0019: the zones amendment 5 refuses (`localtime`, `posixrules`,
`Factory`), stored before it, are cleared: the store reads as one without a
zone (America/Chicago, §4), and the data version is bumped so that no report
made before is reused."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from monitor.services.data_version import data_version_read

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATION = ("monitor", "0019_placeless_zones_cleared")
BEFORE: tuple[str, str] = importlib.import_module(
    f"monitor.migrations.{MIGRATION[1]}"
).Migration.dependencies[0]


@pytest.fixture
def migrate() -> Iterator[Any]:
    """migrate(target) → the apps (historical models) at that target; the
    database is at the latest migrations again afterwards."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()

    def to(target: tuple[str, str]) -> Any:
        executor.loader.build_graph()
        executor.migrate([target])
        return executor.loader.project_state([target]).apps

    yield to
    executor.loader.build_graph()
    executor.migrate(latest)


def test_placeless_zones_are_cleared_and_the_data_version_bumped(migrate: Any) -> None:
    apps = migrate(BEFORE)
    store = apps.get_model("monitor", "Store")
    zones = {
        "server": "localtime",
        "posix": "posixrules",
        "factory": "Factory",
        "chicago": "America/Chicago",
        "kolkata": "Asia/Kolkata",
        "none": "",
        # Not the refused names: exact case, as the rules compare them.
        "lower": "factory",
    }
    for store_id, zone in zones.items():
        store.objects.create(store_id=store_id, timezone_str=zone)
    version = data_version_read()

    apps = migrate(MIGRATION)

    stores = apps.get_model("monitor", "Store").objects
    stored = dict(stores.values_list("store_id", "timezone_str"))
    assert stored == {**zones, "server": "", "posix": "", "factory": ""}
    assert data_version_read() == version + 1
    change = apps.get_model("monitor", "DataChange").objects.get(version=version + 1)
    assert change.any_report
    assert change.polls_from is None


def test_without_placeless_zones_nothing_changes(migrate: Any) -> None:
    apps = migrate(BEFORE)
    apps.get_model("monitor", "Store").objects.create(store_id="s", timezone_str="Europe/Paris")
    version = data_version_read()

    apps = migrate(MIGRATION)

    assert apps.get_model("monitor", "Store").objects.get().timezone_str == "Europe/Paris"
    assert data_version_read() == version  # reports made before stay reusable
