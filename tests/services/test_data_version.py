"""monitor.services.data_version: the version every change bumps, and the log of
what each change touched, which tells a report in parts whether its parts'
data differ as far as it goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from monitor.db.names import sql_names
from monitor.ingest import reader
from monitor.models import DataChange, Report
from monitor.scope import PLATFORM
from monitor.services import store_edits
from monitor.services.data_version import (
    ANY_REPORT,
    Change,
    changes_logged,
    changes_reach,
    data_changed,
    data_changes_prune,
    data_version_read,
    polls_inserted,
)
from monitor.services.imports import business_hours_import, polls_import, timezones_import
from monitor.services.poll_retention import polls_prune
from monitor.services.report_retention import reports_prune
from tests.conftest import WriteFile

pytestmark = pytest.mark.django_db

AS_OF = datetime(2023, 1, 25, 18, 0, tzinfo=UTC)
LATER = AS_OF + timedelta(minutes=1)


# ---- the decision, pure ----------------------------------------------------------------------


def test_polls_after_the_as_of_instant_do_not_reach_a_report() -> None:
    assert not polls_inserted(LATER).reaches(AS_OF)
    assert not polls_inserted(None).reaches(AS_OF)  # a load of duplicates only


def test_polls_at_or_before_the_as_of_instant_reach_it() -> None:
    assert polls_inserted(AS_OF).reaches(AS_OF)  # the window's end is inclusive
    assert polls_inserted(AS_OF - timedelta(days=30)).reaches(AS_OF)  # the last before the window


def test_hours_zones_and_deletions_reach_every_report() -> None:
    assert ANY_REPORT.reaches(AS_OF)
    assert Change(polls_from=LATER, any_report=True).reaches(AS_OF)


def test_a_span_reaches_a_report_when_one_of_its_changes_does() -> None:
    later = polls_inserted(LATER)
    assert not changes_reach(AS_OF, 3, 3, {})
    assert not changes_reach(AS_OF, 3, 6, {4: later, 5: later, 6: later})
    assert changes_reach(AS_OF, 3, 6, {4: later, 5: polls_inserted(AS_OF), 6: later})
    assert changes_reach(AS_OF, 3, 6, {4: later, 5: later, 6: ANY_REPORT})
    # Only (low, high]: the change that made `low` was read by every part.
    assert not changes_reach(AS_OF, 3, 4, {3: ANY_REPORT, 4: later})


def test_a_change_missing_from_the_log_reaches_every_report() -> None:
    later = polls_inserted(LATER)
    assert changes_reach(AS_OF, 3, 6, {4: later, 6: later})  # 5 pruned, or older than the log


# ---- what each change logs ---------------------------------------------------------------------


def last_change() -> DataChange:
    change = DataChange.objects.get(version=data_version_read())
    return change


def polls_csv(*rows: tuple[str, datetime]) -> str:
    lines = [f"{store},active,{instant:%Y-%m-%d %H:%M:%S} UTC\n" for store, instant in rows]
    return "store_id,status,timestamp_utc\n" + "".join(lines)


@pytest.mark.parametrize(
    ("rebuild_indexes", "batch_rows"),
    [(False, 20_000), (False, 2), (True, 20_000)],
    ids=["one batch", "staged", "indexes rebuilt"],
)
def test_a_poll_load_logs_the_earliest_poll_it_inserted(
    write_file: WriteFile, monkeypatch: pytest.MonkeyPatch, rebuild_indexes: bool, batch_rows: int
) -> None:
    monkeypatch.setattr(reader, "BATCH_ROWS", batch_rows)
    old = AS_OF - timedelta(hours=5)
    polls_import(write_file("first.csv", polls_csv(("a", old), ("b", AS_OF))))
    assert (last_change().polls_from, last_change().any_report) == (old, False)

    # A resend: the old poll again (a duplicate, not inserted), and new ones.
    resent = polls_csv(("a", old), ("b", LATER + timedelta(hours=1)), ("a", LATER))
    result = polls_import(write_file("again.csv", resent), rebuild_indexes=rebuild_indexes)

    assert (result.loaded, result.duplicates) == (2, 1)
    assert (last_change().polls_from, last_change().any_report) == (LATER, False)


def test_a_poll_load_of_duplicates_only_logs_no_poll(write_file: WriteFile) -> None:
    path = write_file("polls.csv", polls_csv(("a", AS_OF)))
    polls_import(path)
    polls_import(path)
    assert (last_change().polls_from, last_change().any_report) == (None, False)


def test_hours_zones_edits_and_prunes_log_a_change_of_any_report(write_file: WriteFile) -> None:
    timezones_import(write_file("zones.csv", "store_id,timezone_str\na,Asia/Tokyo\n"))
    assert last_change().any_report
    business_hours_import(
        write_file("hours.csv", "store_id,day,start_time_local,end_time_local\na,0,09:00,17:00\n")
    )
    assert last_change().any_report
    store_edits.store_hours_replace("a", [], scope=PLATFORM)
    assert last_change().any_report
    polls_import(
        write_file("polls.csv", polls_csv(("a", AS_OF - timedelta(days=30)), ("a", AS_OF)))
    )
    polls_prune(cutoff=AS_OF + timedelta(days=60))
    assert last_change().any_report


# ---- keeping the log bounded -------------------------------------------------------------------


def change() -> int:
    with transaction.atomic():
        data_changed(polls_inserted(LATER))
    return data_version_read()


def test_retention_keeps_the_changes_a_running_report_may_need() -> None:
    first = change()
    Report.objects.create(as_of=AS_OF, data_version=first)  # Running since `first`
    second, third = change(), change()

    reports_prune()

    assert set(changes_logged(0, third)) == {second, third}


def test_without_a_running_report_retention_empties_the_log() -> None:
    change()
    Report.objects.create(as_of=AS_OF, data_version=change(), status=Report.Status.COMPLETE)

    assert data_changes_prune() == 2
    assert not DataChange.objects.exists()


def test_a_running_report_without_a_version_keeps_the_whole_log() -> None:
    change()
    Report.objects.create(as_of=AS_OF, data_version=None)
    assert data_changes_prune() == 0


# ---- the bump ----------------------------------------------------------------------------------


def test_the_checks_deferred_to_the_commit_run_before_the_version_is_locked() -> None:
    """A poll's foreign key is checked at commit on PostgreSQL, which with the version
    row locked would make concurrent loads wait for each other's checks."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite defers nothing worth running early")
    names = sql_names()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {names.polls} ({names.poll_columns}) "
                "VALUES (-1, '2023-01-25 18:00:00+00', true)"  # no store -1: checked at commit
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            data_changed()  # checks it now, before its UPDATE
        transaction.set_rollback(True)
