"""monitor.services.report_parts: a report computed in parts, the last one in finishing it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import orjson
import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from monitor import jobqueue
from monitor.models import BusinessHours, Report, ReportPart, StatusPoll, Store
from monitor.scope import PLATFORM
from monitor.selectors import report_csv, store_ranges
from monitor.services import (
    report_attempts,
    report_parts,
    report_staleness,
    report_trigger,
    store_edits,
)
from monitor.services.data_version import data_changed, data_version_read
from monitor.services.imports import Body, polls_import
from monitor.services.report_parts import PartIn
from monitor.services.reports import report_generate
from tests.report_data import SPEC_NOW, store_random_data
from tests.support.jobqueue import FakeQueue
from tests.support.reports import make_silent, reload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def parts_wait_in_the_queue(job_queue: FakeQueue) -> None:
    """The job queue holds the parts' jobs until a test runs them (job_queue.run_all)."""


AS_OF = SPEC_NOW


def planned(shard_stores: int) -> tuple[Report, list[int]]:
    """A Running report as of AS_OF, planned in parts of `shard_stores` stores,
    their jobs in the queue, none run yet."""
    report = Report.objects.create(requested_as_of=AS_OF)
    attempt = report_attempts.report_attempt_start(report.report_id)
    assert attempt is not None
    parts = attempt.plan(AS_OF, store_ranges(shard_stores))
    jobqueue.current().run_each(report_parts.PART_RUN, parts)
    return report, parts


def assert_as_one_report(report: Report) -> None:
    """Complete, and byte for byte the report of every store at once."""
    stored = reload(report)
    assert stored.status == Report.Status.COMPLETE, stored.error
    whole = report_generate(as_of=AS_OF)
    assert report_csv(stored) == whole.csv()
    assert report_csv(stored, percent=True) == whole.csv(percent=True)
    assert stored.row_count == len(whole.table)
    assert stored.stores_without_recent_poll == whole.stores_without_recent_poll
    assert stored.data_version == data_version_read()


def store_a_poll(store: Store, *, active: bool, minutes_before: int) -> None:
    """A poll stored as every load stores data: with the version bumped in its transaction."""
    with transaction.atomic():
        instant = AS_OF - timedelta(minutes=minutes_before)
        StatusPoll.objects.create(store=store, timestamp_utc=instant, active=active)
        data_changed()


@pytest.mark.parametrize("shard_stores", [1, 3, 7, 1000])
def test_a_report_in_parts_is_the_report_of_all_stores(
    settings: Settings, shard_stores: int, job_queue: FakeQueue
) -> None:
    store_random_data(stores=10, seed=3)
    settings.REPORT_SHARD_STORES = shard_stores
    report = Report.objects.create(requested_as_of=AS_OF)

    report_parts.report_run(report.report_id)
    job_queue.run_all()

    assert_as_one_report(report)
    stored = reload(report)
    assert stored.part_count == -(-10 // shard_stores)  # ceil
    assert list(stored.parts.order_by("index").values_list("index", flat=True)) == list(
        range(stored.part_count)
    )
    assert (stored.progress, stored.stage, stored.rounds) == (1.0, "done", 0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # Any text but NUL (PostgreSQL text cannot hold it): commas and quotes
    # (quoted cells), case, accents and astral characters (code-point order).
    store_ids=st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4),
        min_size=1,
        max_size=12,
        unique=True,
    ),
    polls=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 8 * 24 * 60), st.booleans())),
    hours=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 6), st.integers(0, 23))),
)
def test_any_shard_size_gives_the_same_bytes(
    store_ids: list[str],
    polls: list[tuple[int, int, bool]],
    hours: list[tuple[int, int, int]],
    job_queue: FakeQueue,
) -> None:
    with transaction.atomic():
        stores = Store.objects.bulk_create(Store(store_id=store_id) for store_id in store_ids)
        instants = {
            (stores[n % len(stores)].pk, AS_OF - timedelta(minutes=m)): active
            for n, m, active in polls
        }
        StatusPoll.objects.bulk_create(
            StatusPoll(store_id=pk, timestamp_utc=instant, active=active)
            for (pk, instant), active in instants.items()
        )
        BusinessHours.objects.bulk_create(
            BusinessHours(
                store=stores[n % len(stores)],
                day_of_week=day,
                start_time_local=time(start),
                end_time_local=time((start + 9) % 24),
            )
            for n, day, start in hours
        )
        whole = report_generate(as_of=AS_OF)
        for shard_stores in (1, 7, len(store_ids)):
            with override_settings(REPORT_SHARD_STORES=shard_stores):
                report = Report.objects.create(requested_as_of=AS_OF)
                report_parts.report_run(report.report_id)
                job_queue.run_all()
            stored = reload(report)
            assert stored.status == Report.Status.COMPLETE, stored.error
            assert stored.part_count == -(-len(store_ids) // shard_stores)
            assert report_csv(stored) == whole.csv()
            assert report_csv(stored, percent=True) == whole.csv(percent=True)
        transaction.set_rollback(True)


def test_progress_is_the_share_of_parts_done_and_completing(job_queue: FakeQueue) -> None:
    store_random_data(stores=6, seed=5)
    report, parts = planned(2)

    report_parts.part_run(parts[1])

    stored = reload(report)
    assert (stored.status, stored.part_count) == (Report.Status.RUNNING, 3)
    assert stored.progress == pytest.approx(1 / 4)  # 3 parts, then completing the report
    job_queue.run_all()
    assert_as_one_report(report)


def first_of_two_parts_run() -> tuple[Report, int, int, Store]:
    """A report of six stores in two parts, the first one run; one of its stores."""
    store_random_data(stores=6, seed=11)
    report, (first, second) = planned(3)
    report_parts.part_run(first)
    store = Store.objects.order_by("store_id").first()
    assert store is not None
    return report, first, second, store


def test_data_changed_between_parts_runs_the_older_parts_again(job_queue: FakeQueue) -> None:
    report, first, second, store = first_of_two_parts_run()
    # The first part's stores change after it read them: a recent outage.
    store_a_poll(store, active=False, minutes_before=1)

    report_parts.part_run(second)  # the last one in finds the first one older

    stored = reload(report)
    assert (stored.status, stored.rounds) == (Report.Status.RUNNING, 1)
    assert stored.progress == pytest.approx(2 / 3)  # not 1: the round is still to run
    assert ReportPart.objects.get(pk=first).attempts == 0  # queued again
    job_queue.run_all()
    assert_as_one_report(report)  # the final data's report: the outage is in
    assert reload(report).rounds == 1


def post_poll(store: Store, instant: datetime) -> None:
    """One poll sent as HTTP ingestion sends it (services.imports, its change logged)."""
    row = {"store_id": store.store_id, "status": "inactive", "timestamp_utc": instant.isoformat()}
    polls_import(Body(orjson.dumps([row]), "application/json"))


def test_polls_after_the_as_of_instant_between_parts_run_nothing_again() -> None:
    report, first, second, store = first_of_two_parts_run()
    post_poll(store, AS_OF + timedelta(minutes=5))  # the report never reads it

    report_parts.part_run(second)

    assert reload(report).rounds == 0
    assert ReportPart.objects.get(pk=first).data_version != data_version_read()
    assert_as_one_report(report)  # and carries the newest version: its figures are that data's


def a_first_store() -> Store:
    """A store first in the report's order ("0000"), open 08:00–20:00 every day,
    polled every hour at half past, inactive for ten hours two days before AS_OF:
    every change below shows in its figures."""
    store = Store.objects.create(store_id="0000")
    BusinessHours.objects.bulk_create(
        BusinessHours(
            store=store, day_of_week=day, start_time_local=time(8), end_time_local=time(20)
        )
        for day in range(7)
    )
    StatusPoll.objects.bulk_create(
        StatusPoll(
            store=store,
            timestamp_utc=AS_OF - timedelta(hours=hours, minutes=30),
            active=not 40 <= hours < 50,
        )
        for hours in range(1, 9 * 24)
    )
    return store


WINDOW_START = AS_OF - timedelta(days=7)
RELEVANT_CHANGES: dict[str, Callable[[Store], object]] = {
    "a poll at the as-of instant": lambda store: post_poll(store, AS_OF),
    "a poll before the window": lambda store: post_poll(store, WINDOW_START - timedelta(minutes=1)),
    "an hours edit": lambda store: store_edits.store_hours_replace(
        store.store_id,
        [{"day": "0", "start_time_local": "17:00:00", "end_time_local": "17:30:00"}],
        scope=PLATFORM,
    ),
    "a zone edit": lambda store: store_edits.store_timezone_set(
        store.store_id, {"timezone_str": "Pacific/Kiritimati"}, scope=PLATFORM
    ),
}


@pytest.mark.parametrize("change", RELEVANT_CHANGES.values(), ids=RELEVANT_CHANGES.keys())
def test_a_change_the_report_reads_between_parts_runs_the_older_part_again(
    change: Callable[[Store], object], job_queue: FakeQueue
) -> None:
    store_random_data(stores=6, seed=11)
    store = a_first_store()
    report, (first, *_) = planned(3)
    report_parts.part_run(first)
    before = report_generate(as_of=AS_OF).csv()
    change(store)
    assert report_generate(as_of=AS_OF).csv() != before  # the change shows in the report

    job_queue.run_all()  # the last one in finds the first one older
    assert ReportPart.objects.get(pk=first).attempts == 1  # run again, once

    assert_as_one_report(report)  # the final data's report
    assert reload(report).rounds == 1


def test_progress_does_not_fall_when_a_planner_delivered_again_starts() -> None:
    store_random_data(stores=6, seed=5)
    report, parts = planned(2)
    report_parts.part_run(parts[0])
    seen = reload(report).progress

    again = report_attempts.report_attempt_start(report.report_id)
    assert again is not None
    again.progress(Report.Stage.PLANNING)

    assert reload(report).progress == seen > 0


def test_data_that_keeps_changing_fails_the_report_after_the_last_round(
    monkeypatch: pytest.MonkeyPatch, job_queue: FakeQueue
) -> None:
    store_random_data(stores=4, seed=2)

    def generate_then_import(**arguments: object) -> object:
        generated = report_generate(**arguments)  # type: ignore[arg-type]
        with transaction.atomic():
            data_changed()  # an import commits right after each part's read
        return generated

    monkeypatch.setattr(report_parts, "report_generate", generate_then_import)
    report, _ = planned(2)

    job_queue.run_all()

    stored = reload(report)
    assert (stored.status, stored.error) == (Report.Status.FAILED, report_parts.DATA_KEPT_CHANGING)
    assert stored.rounds == report_parts.MAX_ROUNDS


def test_a_part_that_fails_fails_the_report_with_the_reason(
    caplog: pytest.LogCaptureFixture, job_queue: FakeQueue
) -> None:
    store_random_data(stores=4, seed=9)
    Store.objects.filter(pk=Store.objects.order_by("-store_id")[0].pk).update(
        timezone_str="Mars/Olympus_Mons"  # the import refuses it; a hand edit does not
    )
    report, parts = planned(2)

    job_queue.run_all()

    stored = reload(report)
    assert (stored.status, stored.error) == (Report.Status.FAILED, report_attempts.INTERNAL_ERROR)
    assert stored.finished_at is not None
    assert ReportPart.objects.get(pk=parts[-1]).status == Report.Status.FAILED
    assert "Mars/Olympus_Mons" in caplog.text


def test_a_part_whose_worker_keeps_dying_fails_the_report() -> None:
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    ReportPart.objects.filter(pk=parts[0]).update(attempts=report_attempts.MAX_ATTEMPTS)

    report_parts.part_run(parts[0])

    stored = reload(report)
    assert stored.status == Report.Status.FAILED
    assert f"part 1 of the report was started {report_attempts.MAX_ATTEMPTS} times" in stored.error
    report_parts.part_run(parts[1])  # the other part: nothing to run any more
    assert ReportPart.objects.get(pk=parts[1]).attempts == 0


def test_only_the_latest_attempt_of_a_part_writes() -> None:
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    first = report_attempts.part_attempt_start(parts[0])
    second = report_attempts.part_attempt_start(parts[0])  # redelivered meanwhile
    assert first is not None
    assert second is not None
    rows = {"data_version": 0, "row_count": 0, "stores_without_recent_poll": 0}

    with pytest.raises(report_attempts.AttemptSupersededError):
        first.progress(Report.Stage.COMPUTING)
    with pytest.raises(report_attempts.AttemptSupersededError):
        first.complete(**rows, absolute="stale\n", percent="stale\n")
    first.fail("lost")  # dropped: the part is not the first run's any more

    assert reload(report).status == Report.Status.RUNNING
    report_parts.part_run(parts[1])
    assert ReportPart.objects.get(pk=parts[0]).status == Report.Status.RUNNING


def test_one_finisher_only(job_queue: FakeQueue) -> None:
    store_random_data(stores=4, seed=9)
    report, _ = planned(2)
    job_queue.run_all()
    finished = reload(report)

    report_parts.report_finish_if_last(report.report_id)  # a second finisher, late

    again = reload(report)
    assert (again.status, again.finished_at) == (Report.Status.COMPLETE, finished.finished_at)


def test_a_plan_replaced_while_the_last_part_finishes_is_not_completed(
    job_queue: FakeQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redelivered planner replaces the parts (and restarts the rounds) just
    after the finisher read the report: the finisher's view of the old parts
    must not complete the report of the new, unrun ones."""
    store_random_data(stores=6, seed=5)
    report, (first, second) = planned(3)
    report_parts.part_run(first)
    read_parts = report_parts.parts_in
    replanned: list[int] = []

    def replan_after_the_finisher_read_the_parts(report_id: str) -> list[PartIn] | None:
        parts = read_parts(report_id)  # the old plan's, all in
        if replanned:
            return parts
        replan = report_attempts.report_attempt_start(report_id)  # the planner, redelivered
        assert replan is not None
        replanned.extend(replan.plan(AS_OF, store_ranges(3)))
        job_queue.run_each(report_parts.PART_RUN, replanned)
        return parts

    monkeypatch.setattr(report_parts, "parts_in", replan_after_the_finisher_read_the_parts)
    report_parts.part_run(second)

    assert replanned
    assert reload(report).status == Report.Status.RUNNING  # the new plan's parts wait
    job_queue.run_all()
    assert_as_one_report(report)


def test_a_part_delivered_again_once_in_finishes_the_report() -> None:
    store_random_data(stores=6, seed=5)
    report, (first, second) = planned(3)
    report_parts.part_run(first)
    attempt = report_attempts.part_attempt_start(second)
    assert attempt is not None
    generated = report_generate(as_of=AS_OF, stores=attempt.stores)
    attempt.complete(
        data_version=generated.data_version,
        row_count=len(generated.table),
        stores_without_recent_poll=generated.stores_without_recent_poll,
        absolute=generated.csv_rows(),
        percent=generated.csv_rows(percent=True),
    )
    # Its worker dies here, before finishing the report; Celery delivers the task again.

    report_parts.part_run(second)

    assert_as_one_report(report)


def test_a_part_delivered_again_sends_the_parts_of_a_round_it_may_not_have_sent(
    job_queue: FakeQueue,
) -> None:
    report, first, second, store = first_of_two_parts_run()
    store_a_poll(store, active=False, minutes_before=1)  # the first part's data changes
    report_parts.part_run(second)  # it starts a round...
    job_queue.drop()  # ...and its worker dies before the round's parts are sent
    assert (reload(report).rounds, job_queue.keys(report_parts.PART_RUN)) == (1, [])

    report_parts.part_run(second)  # its task, delivered again

    assert job_queue.keys(report_parts.PART_RUN) == [first]
    job_queue.run_all()
    assert_as_one_report(report)


def test_a_part_of_a_failed_report_does_not_run(job_queue: FakeQueue) -> None:
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    report_attempts.report_fail(report.report_id, "lost")

    job_queue.run_all()
    report_parts.part_run(parts[0])

    assert not ReportPart.objects.filter(attempts__gt=0).exists()
    assert reload(report).error == "lost"


def test_a_report_whose_part_waits_in_the_queue_has_the_queue_timeout(
    settings: Settings,
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 600
    settings.REPORT_QUEUE_TIMEOUT = 3600
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    report_parts.part_run(parts[0])  # the other one waits behind a backlog
    make_silent(report, seconds=601)

    waiting = report_staleness.report_get_failing_lost(report.report_id, scope=PLATFORM)
    assert waiting is not None
    assert waiting.status == Report.Status.RUNNING

    make_silent(report, seconds=3601)
    failed = report_staleness.report_get_failing_lost(report.report_id, scope=PLATFORM)
    assert failed is not None
    assert failed.status == Report.Status.FAILED
    assert "no worker started the report's job within 3600 s" in failed.error


def test_without_a_broker_a_report_whose_parts_wait_is_lost_once_silent(
    settings: Settings, job_queue: FakeQueue
) -> None:
    # The report's own thread runs its parts one after another: silence means
    # its web process stopped, not a backlog.
    job_queue.fans_out = False  # as the embedded queue
    settings.REPORT_STALE_AFTER_SECONDS = 600
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    Report.objects.filter(pk=report.pk).update(data_version=data_version_read())
    report_parts.part_run(parts[0])  # ...then the web process stops
    make_silent(report, seconds=601)

    failed = report_staleness.report_get_failing_lost(report.report_id, scope=PLATFORM)
    assert failed is not None
    assert (failed.status, failed.error) == (
        Report.Status.FAILED,
        "the report's job gave no sign of life for 600 s (its worker was stopped or lost); "
        "trigger a new report",
    )
    assert not report_trigger.report_trigger(scope=PLATFORM, as_of=AS_OF).reused


def test_a_report_whose_started_part_went_silent_is_lost(settings: Settings) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 600
    store_random_data(stores=4, seed=9)
    report, parts = planned(2)
    report_parts.part_run(parts[0])
    assert report_attempts.part_attempt_start(parts[1]) is not None  # then its worker vanished
    make_silent(report, seconds=601)

    assert report_staleness.reports_fail_stale() == 1
    stored = reload(report)
    assert stored.status == Report.Status.FAILED
    assert "gave no sign of life for 600 s" in stored.error
