"""Store ranges compare store ids in code-point order whatever the database's
collation (monitor.db.postgresql.code_point_comparisons): on a production
PostgreSQL whose default collation is a language's (en_US.UTF-8, ICU), plain
`<` and `ORDER BY` would sort "b" before "C" and "é" next to "e", and the parts
of a report would overlap or miss stores. The test database's collation
(C.UTF-8 here) is code-point order already, so these tests give store_id a
language's collation themselves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from monitor import selectors
from monitor.db.names import sql_names
from monitor.models import Report, StatusPoll, Store
from monitor.selectors import report_csv
from monitor.services import report_parts
from monitor.services.reports import report_generate
from tests.report_data import SPEC_NOW

pytestmark = pytest.mark.django_db

ICU_COLLATION = "en-US-x-icu"
# Case, accents, punctuation, digits and other scripts: a language's order
# differs from code-point order on most neighbours.
STORE_IDS = [
    "b",
    "C",
    "a",
    "B",
    "é",
    "e",
    "f",
    "Z",
    "z",
    "_x",
    "-y",
    "ñ",
    "n",
    "東京",
    "1",
    "ß",
    "ss",
]


@pytest.fixture
def store_id_in_a_language_order() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a column collation other than code-point order needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT FROM pg_collation WHERE collname = %s", [ICU_COLLATION])
        if cursor.fetchone() is None:
            pytest.skip(f"PostgreSQL has no ICU collation {ICU_COLLATION} (built without ICU)")
        names = sql_names()
        # Inside the test's transaction: rolled back with it. The original
        # service's views that read the column (migration 0010) go first:
        # PostgreSQL alters no type under a view.
        cursor.execute("DROP VIEW store_status, store_business_hour, timezones")
        cursor.execute(
            f"ALTER TABLE {names.stores} ALTER COLUMN {names.store_id} "
            f'TYPE text COLLATE "{ICU_COLLATION}"'
        )
    stores = Store.objects.bulk_create(Store(store_id=store_id) for store_id in STORE_IDS)
    StatusPoll.objects.bulk_create(
        StatusPoll(store=store, timestamp_utc=SPEC_NOW - timedelta(hours=n % 5), active=n % 2 == 0)
        for n, store in enumerate(stores)
    )
    ordered = list(Store.objects.order_by("store_id").values_list("store_id", flat=True))
    assert ordered != sorted(STORE_IDS)  # the column really sorts in a language's order


@pytest.mark.usefixtures("store_id_in_a_language_order")
@pytest.mark.parametrize("shard_stores", [1, 2, 5])
def test_ranges_cover_the_stores_in_code_point_order(shard_stores: int) -> None:
    ranges = selectors.store_ranges(shard_stores)

    # Each range's stores (read in key order), in the report's order.
    read = [sorted(selectors.report_inputs(SPEC_NOW, stores).store_ids) for stores in ranges]

    assert [store_id for stores in read for store_id in stores] == sorted(STORE_IDS)
    assert all(len(stores) <= shard_stores for stores in read)


@pytest.mark.usefixtures("store_id_in_a_language_order")
def test_a_report_in_parts_is_the_report_of_all_stores(settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    settings.REPORT_SHARD_STORES = 3
    report = Report.objects.create(requested_as_of=SPEC_NOW)

    report_parts.report_run(report.report_id)

    stored = Report.objects.get(pk=report.pk)
    assert stored.status == Report.Status.COMPLETE, stored.error
    assert stored.part_count == 6
    assert report_csv(stored) == report_generate(as_of=SPEC_NOW).csv()
