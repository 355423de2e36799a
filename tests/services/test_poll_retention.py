"""Pruning polls: what goes, what stays, and that no report as of the cut-off or later changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import BusinessHours, DataVersion, StatusPoll, Store
from monitor.services.poll_retention import REPORT_REACH, polls_prune, polls_prune_preview
from monitor.services.reports import report_generate
from monitor.tasks import polls_prune_task

pytestmark = pytest.mark.django_db

START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 28 * 24 * 60  # four weeks of polls
ZONES = ["", "Asia/Kolkata", "America/New_York"]


def store_polls(polls: list[tuple[int, int, bool]]) -> None:
    """(store number, minutes after START, active) → stores with their zones and polls."""
    stores = {
        number: Store.objects.create(store_id=f"s{number}", timezone_str=ZONES[number % 3])
        for number in sorted({number for number, _, _ in polls})
    }
    BusinessHours.objects.bulk_create(  # odd stores: open Wednesday nights; even ones 24×7
        BusinessHours(store=store, day_of_week=2, start_time_local="22:00", end_time_local="06:00")
        for number, store in stores.items()
        if number % 2
    )
    StatusPoll.objects.bulk_create(
        StatusPoll(store=stores[n], timestamp_utc=START + timedelta(minutes=m), active=active)
        for n, m, active in polls
    )


def polls_of(store_id: str) -> list[datetime]:
    stored = StatusPoll.objects.filter(store__store_id=store_id).order_by("timestamp_utc")
    return list(stored.values_list("timestamp_utc", flat=True))


def test_prune_keeps_the_week_before_the_cutoff_and_each_store_s_last_poll_before() -> None:
    store_polls([(1, day * 24 * 60, True) for day in range(20)] + [(2, 60, False)])
    cutoff = START + timedelta(days=15, hours=12)

    pruned = polls_prune(cutoff=cutoff)

    horizon = cutoff - timedelta(days=7)
    assert (pruned.cutoff, pruned.horizon) == (cutoff, horizon)
    assert polls_of("s1") == [START + timedelta(days=day) for day in range(8, 20)]
    assert polls_of("s2") == [START + timedelta(hours=1)]  # its only poll: kept
    assert (pruned.deleted, pruned.kept) == (8, 2)  # days 0–7 but day 8 (8 ≥ horizon)
    assert DataVersion.objects.get().version == 1  # reports before the cut-off may change


minutes = st.integers(min_value=0, max_value=SPAN_MINUTES)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    polls=st.lists(
        st.tuples(st.integers(0, 3), minutes, st.booleans()),
        min_size=1,
        max_size=120,
        unique_by=lambda poll: poll[:2],
    ),
    cutoff_minute=minutes,
    later=st.lists(st.integers(0, 10 * 24 * 60), min_size=1, max_size=4),
)
def test_no_report_as_of_the_cutoff_or_later_changes(
    polls: list[tuple[int, int, bool]], cutoff_minute: int, later: list[int]
) -> None:
    cutoff = START + timedelta(minutes=cutoff_minute)
    instants = [cutoff, *(cutoff + timedelta(minutes=m, microseconds=1) for m in later)]
    with transaction.atomic():
        store_polls(polls)
        before = [report_generate(as_of=instant).csv() for instant in instants]
        polls_prune(cutoff=cutoff)
        after = [report_generate(as_of=instant).csv() for instant in instants]
        assert after == before
        horizon = cutoff - REPORT_REACH
        per_store = StatusPoll.objects.filter(timestamp_utc__lt=horizon).values("store")
        assert per_store.count() == per_store.distinct().count()  # at most one a store
        transaction.set_rollback(True)


def store_daily_polls(days: int) -> None:
    """One store polled once a day, now and on each of the `days` − 1 days before."""
    now = timezone.now()
    store = Store.objects.create(store_id="s1")
    StatusPoll.objects.bulk_create(
        StatusPoll(store=store, timestamp_utc=now - timedelta(days=day), active=True)
        for day in range(days)
    )


def test_the_command_prints_what_it_deleted() -> None:
    store_daily_polls(30)
    out = StringIO()
    call_command("prune_polls", "--older-than", "10", stdout=out)

    # Polls 17 days old and older go, but the newest of them.
    assert out.getvalue().startswith("deleted 12 polls taken before ")
    assert out.getvalue().rstrip().endswith("kept the last one of 1 stores")
    assert StatusPoll.objects.count() == 18


def test_the_beat_task_prunes_as_the_command_does() -> None:
    store_daily_polls(30)

    assert polls_prune_task(10) == 12
    assert StatusPoll.objects.count() == 18


@pytest.mark.parametrize("days", ["-1", "nan", "1e9"])
def test_the_command_refuses_an_age_out_of_range(days: str) -> None:
    with pytest.raises(CommandError, match=f"--older-than {float(days)}: give a number of days"):
        call_command("prune_polls", "--older-than", days, stdout=StringIO())


def test_a_dry_run_says_what_it_would_delete_and_deletes_nothing() -> None:
    store_daily_polls(30)
    out, err = StringIO(), StringIO()

    call_command("prune_polls", "--older-than", "10", "--dry-run", stdout=out, stderr=err)

    assert out.getvalue().startswith(
        "dry run, nothing deleted: would delete 12 polls taken before "
    )
    assert out.getvalue().rstrip().endswith("would keep the last one of 1 stores")
    assert err.getvalue() == ""  # the store has polls since the horizon
    assert StatusPoll.objects.count() == 30
    assert not DataVersion.objects.exists()  # no data changed: reports are reused


def test_the_preview_counts_what_the_prune_then_deletes() -> None:
    store_polls([(1, day * 24 * 60, True) for day in range(20)] + [(2, 60, False)])
    cutoff = START + timedelta(days=15, hours=12)

    preview = polls_prune_preview(cutoff=cutoff)
    pruned = polls_prune(cutoff=cutoff)

    assert (preview.deleting, preview.keeping) == (pruned.deleted, pruned.kept) == (8, 2)
    assert (preview.stores, preview.stores_all_before) == (2, 1)  # s2's one poll is old
    assert not preview.historical  # one of two stores is not most


def historical_data() -> None:
    """Three stores polled in January 2023, one polled today too."""
    store_polls([(n, hour * 60, True) for n in range(3) for hour in range(100)])
    StatusPoll.objects.create(
        store=Store.objects.get(store_id="s0"), timestamp_utc=timezone.now(), active=True
    )


def test_a_dry_run_warns_when_most_stores_would_lose_every_poll_but_the_last() -> None:
    historical_data()
    out, err = StringIO(), StringIO()

    call_command("prune_polls", "--older-than", "30", "--dry-run", stdout=out, stderr=err)

    assert "would delete 297 polls" in out.getvalue()  # 99 of each store's January polls
    assert "warning: 2 of 3 stores (66 %) have no poll since " in err.getvalue()
    assert "is this historical data?" in err.getvalue()
    assert StatusPoll.objects.count() == 301


def test_the_prune_itself_warns_too() -> None:
    historical_data()
    err = StringIO()

    call_command("prune_polls", "--older-than", "30", stdout=StringIO(), stderr=err)

    assert "warning: 2 of 3 stores" in err.getvalue()
    assert StatusPoll.objects.count() == 4  # each store's last January poll, and today's


def test_a_dry_run_of_outside_range_is_refused() -> None:
    with pytest.raises(CommandError, match="--dry-run previews --older-than only"):
        call_command("prune_polls", "--outside-range", "--dry-run", stdout=StringIO())
