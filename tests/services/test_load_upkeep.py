"""monitor.services.load_upkeep: after a big load the planner has statistics (and,
on PostgreSQL, the visibility map covers the new polls); a small one costs
nothing. Transactional tests: the upkeep runs once the load has committed,
which never happens inside a test's transaction."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from monitor.db.names import Table
from monitor.services import load_upkeep
from monitor.services.imports import Body, dataset_import, polls_import
from tests.conftest import WriteFile

pytestmark = pytest.mark.django_db(transaction=True)

POLLS_HEADER = "store_id,status,timestamp_utc\n"


def polls_csv(stores: int, hours: int, *, first_hour: int = 0) -> str:
    """`hours` hourly polls of each of `stores` stores, from 2023-01-01 + first_hour."""
    rows = [
        f"{store},{'active' if (store + hour) % 3 else 'inactive'},"
        f"2023-01-{1 + hour // 24:02d} {hour % 24:02d}:00:00 UTC\n"
        for store in range(stores)
        for hour in range(first_hour, first_hour + hours)
    ]
    return POLLS_HEADER + "".join(rows)


def planner_statistics(table: Table) -> dict[str, float]:
    """What the database keeps for the planner about `table`: on PostgreSQL the
    pg_class figures and the columns pg_stats describes; on SQLite the rows of
    sqlite_stat1 (its count of the table's rows)."""
    name = table.sql_name().strip('"')
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples, relpages, relallvisible FROM pg_class WHERE relname = %s",
                [name],
            )
            reltuples, relpages, relallvisible = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [name])
            (columns,) = cursor.fetchone()
            return {
                "rows": reltuples,
                "pages": relpages,
                "all_visible_pages": relallvisible,
                "columns_described": columns,
            }
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return {}
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [name])
        stats = [row[0] for row in cursor.fetchall()]
        if not stats:
            return {}
        return {"rows": max(int(stat.split()[0]) for stat in stats), "indexes": len(stats)}


def test_a_big_poll_load_leaves_the_planner_statistics_and_visible_pages(
    write_file: WriteFile,
) -> None:
    # 1,000 new stores too: enough for their table's statistics.
    result = polls_import(write_file("polls.csv", polls_csv(stores=1000, hours=3)))
    assert result.loaded == 3000
    done = [(step.statement, step.table) for step in result.ready]
    stats = planner_statistics(Table.POLLS)
    if connection.vendor == "postgresql":
        assert done == [
            ("VACUUM", Table.POLLS),
            ("ANALYZE", Table.POLLS),
            ("ANALYZE", Table.STORES),
        ]
        assert stats["rows"] == 3000
        # Every page of the table is in the visibility map: index-only scans skip the heap.
        assert stats["pages"] > 0
        assert stats["all_visible_pages"] == stats["pages"]
        assert stats["columns_described"] >= 3  # store, instant, status (and the key)
        assert planner_statistics(Table.STORES)["rows"] == 1000
    else:
        assert done == [("ANALYZE", Table.POLLS), ("ANALYZE", Table.STORES)]
        # ANALYZE samples (analysis_limit): its count is close, not exact.
        assert 2700 <= stats["rows"] <= 3300
        assert stats["indexes"] >= 2  # the unique (store, instant) index and the others
        assert 900 <= planner_statistics(Table.STORES)["rows"] <= 1100
    assert all(step.seconds >= 0 for step in result.ready)


def test_a_small_share_of_a_big_table_does_nothing(write_file: WriteFile) -> None:
    polls_import(write_file("first.csv", polls_csv(stores=100, hours=100)))  # 10,000
    # 1,000 more: 9 % of the table, under autovacuum's own 10 % and 20 %.
    more = polls_csv(stores=10, hours=100, first_hour=100)
    later = polls_import(write_file("later.csv", more))
    assert later.loaded == 1000
    assert later.ready == ()


def test_a_few_rows_do_nothing_even_into_an_empty_table(write_file: WriteFile) -> None:
    result = polls_import(write_file("few.csv", polls_csv(stores=3, hours=5)))
    assert result.loaded == 15
    assert result.ready == ()


def test_a_big_http_batch_is_made_ready_too() -> None:
    body = Body(polls_csv(stores=40, hours=50).encode(), "text/csv")
    result = polls_import(body)
    assert result.loaded == 2000
    assert ("ANALYZE", Table.POLLS) in [(step.statement, step.table) for step in result.ready]


def test_nothing_runs_inside_a_callers_transaction(write_file: WriteFile) -> None:
    with transaction.atomic():
        result = polls_import(write_file("polls.csv", polls_csv(stores=60, hours=50)))
    assert result.ready == ()
    # Nor was anything left undone that ought to have been: the caller's commit is not ours.
    assert load_upkeep.ready_after_load({Table.POLLS: 10}) == ()


def test_a_data_set_is_made_ready_once_committed(tmp_path: Path, write_file: WriteFile) -> None:
    results = dataset_import(
        timezones=write_file("zones.csv", "store_id,timezone_str\n1,Asia/Kolkata\n"),
        hours=write_file("hours.csv", "store_id,day,start_time_local,end_time_local\n"),
        polls=write_file("polls.csv", polls_csv(stores=60, hours=50)),
    )
    assert [result.ready for result in results[:-1]] == [(), ()]
    tables = {step.table for step in results[-1].ready}
    assert tables == {Table.POLLS}  # 61 stores and no hours: too few to matter
    assert "rows" in planner_statistics(Table.POLLS)


def test_the_import_command_says_what_it_did(write_file: WriteFile) -> None:
    out = StringIO()
    path = write_file("polls.csv", polls_csv(stores=60, hours=50))
    call_command("import_store_status_data", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "loaded 3000, skipped 0 duplicates, rejected 0 invalid rows"
    assert lines[1].startswith("database ready for reports: ")
    assert "ANALYZE polls" in lines[1]
    assert ("VACUUM polls" in lines[1]) == (connection.vendor == "postgresql")
