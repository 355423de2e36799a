"""The store table's indexes on PostgreSQL: one text_pattern_ops index on
store_id (Django's, from unique=True), and the id-prefix search uses it."""

from __future__ import annotations

import pytest
from django.db import connection

from monitor.models import Store
from monitor.scope import PLATFORM
from monitor.services.stores import stores_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("text_pattern_ops indexes are PostgreSQL's")


def store_id_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
            [Store._meta.db_table],
        )
        return [definition for (definition,) in cursor.fetchall() if "(store_id" in definition]


def test_store_id_has_one_unique_index_and_one_pattern_index() -> None:
    indexes = store_id_indexes()

    assert len(indexes) == 2, indexes
    assert sum("UNIQUE" in definition for definition in indexes) == 1
    assert sum("text_pattern_ops" in definition for definition in indexes) == 1


def test_the_prefix_search_uses_the_pattern_index() -> None:
    Store.objects.bulk_create(Store(store_id=f"store-{number:05}") for number in range(2000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitor_store")
        cursor.execute("SET LOCAL enable_seqscan = off")  # this table is small; the plan is not
    pattern_index = next(
        definition.split()[2]
        for definition in store_id_indexes()
        if "text_pattern_ops" in definition
    )

    plan = Store.objects.filter(store_id__startswith="store-0012").explain()

    assert pattern_index in plan, plan


def test_the_store_list_search_finds_by_prefix() -> None:
    Store.objects.bulk_create(Store(store_id=store_id) for store_id in ["ab", "abc", "b", "Ab"])

    found = stores_list(scope=PLATFORM, search="ab")

    assert found.total == 2
    assert [store.store_id for store in found.stores] == ["ab", "abc"]
