"""Report reuse: a trigger returns the existing report of its instant unless the data changed.

The reports here stay Running (their jobs are started on commit, which the
test transaction never reaches), which reuse treats like Complete ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from monitor.models import ApiKey, DataVersion, Report, StatusPoll
from monitor.scope import PLATFORM
from monitor.selectors import report_csv, store_ranges
from monitor.services import report_attempts, report_parts, report_staleness, report_trigger
from monitor.services.api_keys import api_key_create
from monitor.services.data_version import data_changed, data_version_read
from monitor.services.imports import (
    FileRefusedError,
    business_hours_import,
    dataset_import,
    polls_import,
    timezones_import,
)
from monitor.services.report_retention import reports_prune
from tests.conftest import WriteFile
from tests.integration.conftest import database_url
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples, wait_for_embedded_jobs


def platform_trigger(**options: Any) -> report_trigger.Triggered:
    """A report of every store (the platform's), as report_trigger makes it."""
    return report_trigger.report_trigger(scope=PLATFORM, **options)


pytestmark = pytest.mark.django_db

LATEST_POLL = SPEC_NOW - timedelta(minutes=20)  # of the docs/report-semantics.md examples


@pytest.fixture(autouse=True)
def spec_examples(db: None) -> None:
    store_spec_examples()


def test_a_second_trigger_for_the_same_instant_returns_the_first_report() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    second = platform_trigger(as_of=SPEC_NOW)

    assert (first.reused, second.reused) == (False, True)
    assert second.report.report_id == first.report.report_id
    assert Report.objects.count() == 1


def test_the_default_instant_is_resolved_and_matches_the_same_explicit_one() -> None:
    default = platform_trigger()
    explicit = platform_trigger(as_of=LATEST_POLL)

    assert default.report.as_of == LATEST_POLL
    assert default.report.requested_as_of is None
    assert explicit.reused
    assert explicit.report.report_id == default.report.report_id


def test_another_instant_is_another_report() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    other = report_trigger.report_trigger(
        scope=PLATFORM, as_of=SPEC_NOW + timedelta(microseconds=1)
    )

    assert not other.reused
    assert other.report.report_id != first.report.report_id


def test_force_computes_anew() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    forced = platform_trigger(as_of=SPEC_NOW, force=True)
    after = platform_trigger(as_of=SPEC_NOW)

    assert not forced.reused
    assert forced.report.report_id != first.report.report_id
    assert after.report.report_id == forced.report.report_id  # the newest one is reused


def test_a_complete_report_is_reused() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    report_parts.report_run(first.report.report_id)

    again = platform_trigger(as_of=SPEC_NOW)

    assert again.reused
    assert again.report.status == Report.Status.COMPLETE


def test_a_failed_report_is_not_reused() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    Report.objects.filter(pk=first.report.pk).update(status=Report.Status.FAILED)

    again = platform_trigger(as_of=SPEC_NOW)

    assert not again.reused


def test_a_lost_job_is_failed_and_not_reused() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    Report.objects.filter(pk=first.report.pk).update(
        attempts=1, heartbeat_at=first.report.heartbeat_at - timedelta(hours=1)
    )

    again = platform_trigger(as_of=SPEC_NOW)

    assert not again.reused
    assert Report.objects.get(pk=first.report.pk).status == Report.Status.FAILED


def queued_for(report: Report, *, seconds: int) -> None:
    earlier = timezone.now() - timedelta(seconds=seconds)
    Report.objects.filter(pk=report.pk).update(created_at=earlier, heartbeat_at=earlier)


def test_a_queued_report_no_queue_holds_is_not_reused() -> None:
    # As after a web process's restart, or a broker that lost the task: the
    # report is still within REPORT_QUEUE_TIMEOUT, but its job will never run.
    first = platform_trigger(as_of=SPEC_NOW)
    queued_for(first.report, seconds=report_trigger.QUEUED_REUSE_SECONDS + 1)

    again = platform_trigger(as_of=SPEC_NOW)

    assert not again.reused
    assert again.report.report_id != first.report.report_id


def test_a_report_whose_task_is_still_being_published_is_not_reused_before_it_is_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its publish may yet fail. Here it never ends (its web process died, say):
    # the identical trigger waits for it a while, then makes its own report.
    monkeypatch.setattr(report_trigger, "ENQUEUING_WAIT_SECONDS", 0.1)
    first = platform_trigger(as_of=SPEC_NOW)
    Report.objects.filter(pk=first.report.pk).update(stage=Report.Stage.ENQUEUING)

    again = platform_trigger(as_of=SPEC_NOW)
    third = platform_trigger(as_of=SPEC_NOW)

    assert not again.reused
    assert again.report.report_id != first.report.report_id
    # The report whose job is in a queue is preferred to the one still publishing.
    assert third.reused
    assert third.report.report_id == again.report.report_id


def test_a_started_report_with_a_fresh_heartbeat_is_reused() -> None:
    first = platform_trigger(as_of=SPEC_NOW)
    queued_for(first.report, seconds=report_trigger.QUEUED_REUSE_SECONDS + 1)
    Report.objects.filter(pk=first.report.pk).update(attempts=1, heartbeat_at=timezone.now())

    assert platform_trigger(as_of=SPEC_NOW).reused


def test_a_complete_report_is_preferred_to_a_newer_running_one() -> None:
    complete = platform_trigger(as_of=SPEC_NOW)
    report_parts.report_run(complete.report.report_id)
    report_trigger.report_trigger(
        scope=PLATFORM, as_of=SPEC_NOW, force=True
    )  # waiting behind a backlog

    again = platform_trigger(as_of=SPEC_NOW)

    assert again.report.report_id == complete.report.report_id


def test_reports_queued_before_the_process_started_are_queued_again() -> None:
    # Each of its own client: a client's second report would wait for its turn.
    keys = [api_key_create(name=name, scope=ApiKey.Scope.READ).api_key for name in "abcd"]
    queued = [platform_trigger(as_of=SPEC_NOW, force=True, api_key=key) for key in keys[:2]]
    started = platform_trigger(as_of=SPEC_NOW, force=True, api_key=keys[2])
    Report.objects.filter(pk=started.report.pk).update(attempts=1)
    process_started = timezone.now()
    platform_trigger(as_of=SPEC_NOW, force=True, api_key=keys[3])  # queued by this process

    left = report_staleness.reports_left_queued(before=process_started)

    assert left == [each.report.report_id for each in queued]  # oldest first


def test_a_report_whose_parts_were_left_queued_is_queued_again_and_completes(
    settings: Settings,
) -> None:
    settings.REPORT_SHARD_STORES = 1
    left = platform_trigger(as_of=SPEC_NOW, force=True).report
    attempt = report_attempts.report_attempt_start(left.report_id)
    assert attempt is not None
    first, *_ = attempt.plan(SPEC_NOW, store_ranges(1))
    report_parts.part_run(first)  # ...then the web process running its parts stops
    process_started = timezone.now()

    assert report_staleness.reports_left_queued(before=process_started) == [left.report_id]
    report_parts.report_run(left.report_id)  # the restarted process's job thread
    resumed = Report.objects.get(pk=left.pk)
    assert resumed.status == Report.Status.COMPLETE
    assert report_csv(resumed) == SPEC_CSV


def test_a_reused_report_survives_the_next_prune(settings: Settings) -> None:
    settings.REPORT_RETENTION_DAYS, settings.REPORT_RETENTION_COUNT = 7, 500
    old = platform_trigger(as_of=SPEC_NOW)
    report_parts.report_run(old.report.report_id)
    Report.objects.filter(pk=old.report.pk).update(created_at=timezone.now() - timedelta(days=7))

    again = platform_trigger(as_of=SPEC_NOW)
    reports_prune()

    assert (
        report_staleness.report_get_failing_lost(again.report.report_id, scope=PLATFORM) is not None
    )
    assert not again.reused  # the old one was about to go: a new report instead


def test_a_complete_report_beyond_half_the_kept_count_is_not_reused(settings: Settings) -> None:
    settings.REPORT_RETENTION_COUNT = 4
    first = platform_trigger(as_of=SPEC_NOW)
    report_parts.report_run(first.report.report_id)
    newer = [platform_trigger(as_of=SPEC_NOW, force=True) for _ in range(2)]
    Report.objects.filter(pk__in=[each.report.pk for each in newer]).update(
        status=Report.Status.FAILED
    )

    assert not platform_trigger(as_of=SPEC_NOW).reused


def test_200_identical_triggers_make_one_report() -> None:
    triggered = [platform_trigger(as_of=SPEC_NOW) for _ in range(200)]

    assert Report.objects.count() == 1
    assert sum(not each.reused for each in triggered) == 1


IMPORTS: dict[str, tuple[Callable[..., object], str]] = {
    "polls": (
        polls_import,
        "store_id,status,timestamp_utc\nexample-1,active,2023-01-25 17:50:00\n",
    ),
    "hours": (
        business_hours_import,
        "store_id,day,start_time_local,end_time_local\nexample-1,2,09:00,17:00\n",
    ),
    "zones": (timezones_import, "store_id,timezone_str\nexample-1,Asia/Kolkata\n"),
}


@pytest.mark.parametrize("source", IMPORTS)
def test_any_import_since_the_report_gives_a_new_report(write_file: WriteFile, source: str) -> None:
    importer, content = IMPORTS[source]
    first = platform_trigger(as_of=SPEC_NOW)

    importer(write_file(f"{source}.csv", content))
    after = platform_trigger(as_of=SPEC_NOW)

    assert not after.reused
    assert (first.report.data_version, after.report.data_version) == (0, 1)


def test_an_import_that_adds_nothing_new_still_counts(write_file: WriteFile) -> None:
    # Simpler to trust than to compare what it stored: any committed import is new data.
    path = write_file("polls.csv", IMPORTS["polls"][1])
    polls_import(path)
    first = platform_trigger(as_of=SPEC_NOW)

    polls_import(path)  # every row a duplicate

    assert not platform_trigger(as_of=SPEC_NOW).reused
    assert first.report.data_version is not None


def test_a_refused_import_changes_nothing_and_the_report_is_reused(
    write_file: WriteFile,
) -> None:
    first = platform_trigger(as_of=SPEC_NOW)

    with pytest.raises(FileRefusedError):
        polls_import(write_file("polls.csv", "store_id,status\nexample-1,active\n"))

    again = platform_trigger(as_of=SPEC_NOW)
    assert again.reused
    assert again.report.report_id == first.report.report_id


def test_a_change_rolled_back_is_no_change() -> None:
    first = platform_trigger(as_of=SPEC_NOW)

    with transaction.atomic():
        data_changed()
        transaction.set_rollback(True)  # as an import that fails after its bump

    assert platform_trigger(as_of=SPEC_NOW).report.report_id == first.report.report_id


INSTANTS = [SPEC_NOW, SPEC_NOW - timedelta(hours=1), None]  # None: the default, LATEST_POLL


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("trigger"), st.sampled_from(INSTANTS), st.booleans()),
        st.tuples(st.just("change"), st.none(), st.just(False)),
    ),
    max_size=25,
)


# Each example runs in a transaction rolled back at its end, so the
# function-scoped database is fresh for every one.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(STEPS)
def test_new_data_always_gives_a_new_report(
    steps: list[tuple[str, datetime | None, bool]],
) -> None:
    """Any sequence of triggers and data changes: a trigger is reused exactly
    when a report of its instant was triggered since the last change, unforced.
    (None of them starts: the cap on waiting reports is out of the way.)"""
    with override_settings(REPORT_MAX_QUEUED_PER_KEY=100), transaction.atomic():
        latest: dict[datetime, str] = {}  # instant → its newest report since the last change
        for action, instant, force in steps:
            if action == "change":
                with transaction.atomic():
                    data_changed()
                latest.clear()
                continue
            key = LATEST_POLL if instant is None else instant
            triggered = platform_trigger(as_of=instant, force=force)
            expect_reuse = not force and key in latest
            assert triggered.reused == expect_reuse
            if expect_reuse:
                assert triggered.report.report_id == latest[key]
            latest[key] = triggered.report.report_id
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_a_trigger_does_not_wait_for_a_bulk_poll_load() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL's bulk poll load locks the table (SQLite: one writer)")
    # What a bulk load of polls (monitor.db.postgresql) holds until it commits.
    with psycopg.connect(database_url(connection.settings_dict)) as loader:
        loader.execute(f"LOCK TABLE {StatusPoll._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        # It returns while the load still holds the table (waiting for it
        # would hang here): the job resolves the instant once the load is done.
        triggered = platform_trigger()
        assert triggered.report.as_of is None
        loader.rollback()
    wait_for_embedded_jobs()

    done = Report.objects.get(pk=triggered.report.pk)
    assert (done.status, done.as_of) == (Report.Status.COMPLETE, LATEST_POLL)


@pytest.mark.django_db(transaction=True)
def test_a_trigger_does_not_wait_for_an_import_committing_its_version() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: the trigger's transaction waits for the one writer instead")
    DataVersion.objects.get_or_create(pk=1)
    # What an import holds from its data_changed() to its commit.
    with psycopg.connect(database_url(connection.settings_dict)) as importer:
        importer.execute(f"UPDATE {DataVersion._meta.db_table} SET version = version + 1")
        # Both return while the import holds the version (waiting for it
        # would hang here), each after its short bound.
        first = platform_trigger(as_of=SPEC_NOW)
        second = platform_trigger(as_of=SPEC_NOW)
        importer.rollback()

    # Made without knowing the version: never reused, as the data may be changing.
    assert (first.reused, second.reused) == (False, False)
    assert first.report.data_version is None
    wait_for_embedded_jobs(first.report.report_id, second.report.report_id)
    # Once Complete, a report carries the version its figures reflect (the
    # import rolled back: the current one), and is reused for it.
    assert Report.objects.get(pk=first.report.pk).data_version == data_version_read()
    assert platform_trigger(as_of=SPEC_NOW).reused


@pytest.mark.django_db(transaction=True)
def test_a_data_set_import_locks_the_version_only_once_its_files_are_loaded(
    write_file: WriteFile,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: one writer at a time, the version row is no separate lock")
    DataVersion.objects.get_or_create(pk=1)
    locked_during_the_polls: list[bool] = []

    def on_progress(path: object, done: int, total: int) -> None:
        with psycopg.connect(database_url(connection.settings_dict)) as trigger:
            try:
                trigger.execute(
                    f"SELECT version FROM {DataVersion._meta.db_table} FOR UPDATE NOWAIT"
                )
                locked_during_the_polls.append(False)
            except psycopg.errors.LockNotAvailable:
                locked_during_the_polls.append(True)

    before = DataVersion.objects.get(pk=1).version
    dataset_import(
        timezones=write_file("zones.csv", "store_id,timezone_str\nexample-1,Asia/Kolkata\n"),
        hours=write_file("hours.csv", IMPORTS["hours"][1]),
        polls=write_file("polls.csv", IMPORTS["polls"][1]),
        on_progress=on_progress,
    )

    assert locked_during_the_polls  # the check ran
    assert not any(locked_during_the_polls)
    assert DataVersion.objects.get(pk=1).version == before + 1  # one bump for the data set
