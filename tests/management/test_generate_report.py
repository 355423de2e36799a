"""`manage.py generate_report`."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from pytest_django.fixtures import Settings

from monitor.models import StatusPoll, Store
from monitor.services import reports
from monitor.services.data_version import data_changed
from monitor.services.reports import report_generate
from tests.report_data import SPEC_NOW, store_random_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def polls() -> None:
    store = Store.objects.create(store_id="s1", timezone_str="UTC")
    for minute, active in [(10, True), (40, False)]:
        StatusPoll.objects.create(
            store=store, timestamp_utc=datetime(2023, 1, 25, 17, minute, tzinfo=UTC), active=active
        )


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate_report", *args, stdout=out)
    return out.getvalue()


def test_writes_the_report_to_stdout() -> None:
    assert run("--as-of", "2023-01-25T18:00:00Z").splitlines()[1] == (
        "s1,25.00,23.42,167.42,35.00,0.58,0.58"
    )


def test_default_as_of_is_the_latest_poll() -> None:
    # now = 17:40: the last hour [16:40, 17:40) is active until the midpoint 17:25.
    assert run().splitlines()[1] == "s1,45.00,23.75,167.75,15.00,0.25,0.25"


def test_percent_units() -> None:
    lines = run("--as-of", "2023-01-25T18:00:00Z", "--units", "percent").splitlines()
    assert lines[0].startswith("store_id,uptime_last_hour_pct,")
    assert lines[1] == "s1,41.67,97.57,99.65,58.33,2.43,0.35"


def test_writes_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    assert run("--as-of", "2023-01-25T18:00:00Z", "--output", str(target)) == ""
    assert target.read_text().splitlines()[1] == "s1,25.00,23.42,167.42,35.00,0.58,0.58"


def test_bad_as_of_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="not an ISO 8601 instant"):
        run("--as-of", "noon")


def test_a_missing_instant_leaves_an_existing_file_be(tmp_path: Path) -> None:
    StatusPoll.objects.all().delete()
    target = tmp_path / "report.csv"
    target.write_text("kept\n")
    with pytest.raises(CommandError, match="no polls are stored yet"):
        run("--output", str(target))
    assert target.read_text() == "kept\n"


def test_a_run_failing_midway_leaves_no_file_cut_short(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_random_data(stores=4, seed=2)
    settings.REPORT_SHARD_STORES = 2
    monkeypatch.setattr(reports, "report_generate", fail_after(report_generate, calls=1))
    target = tmp_path / "report.csv"
    with pytest.raises(RuntimeError, match="computing a part failed"):
        run("--as-of", SPEC_NOW.isoformat(), "--output", str(target))
    assert not target.exists()


# ---- in parts ----------------------------------------------------------------------------


@pytest.mark.parametrize("shard_stores", [1, 2, 7, 1000])
@pytest.mark.parametrize("units", ["absolute", "percent"])
def test_the_parts_make_the_report_of_every_store_at_once(
    settings: Settings, tmp_path: Path, shard_stores: int, units: str
) -> None:
    store_random_data(stores=12, seed=7)
    settings.REPORT_SHARD_STORES = shard_stores
    whole = report_generate(as_of=SPEC_NOW).csv(percent=units == "percent")

    assert run("--as-of", SPEC_NOW.isoformat(), "--units", units) == whole
    target = tmp_path / "report.csv"
    run("--as-of", SPEC_NOW.isoformat(), "--units", units, "--output", str(target))
    assert target.read_bytes() == whole.encode()
    # The default instant (the latest poll) too.
    assert run("--units", units) == report_generate().csv(percent=units == "percent")


def test_each_part_is_written_before_the_next_is_computed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_random_data(stores=4, seed=1)  # and s1: 5 stores
    settings.REPORT_SHARD_STORES = 2
    computed: list[object] = []
    monkeypatch.setattr(reports, "report_generate", counted(report_generate, computed))
    out = PartsSeen(computed)

    call_command("generate_report", "--as-of", SPEC_NOW.isoformat(), stdout=out)

    # The header before any part, then each part's rows as soon as it is computed.
    assert out.parts_seen == [0, 1, 2, 3]
    assert out.getvalue() == report_generate(as_of=SPEC_NOW).csv()


@pytest.mark.django_db(transaction=True)
def test_every_part_reads_the_same_snapshot(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls stored between two parts are in none: the report is of one instant's data."""
    store_random_data(stores=6, seed=4)
    settings.REPORT_SHARD_STORES = 2
    before = report_generate(as_of=SPEC_NOW).csv()
    stores = list(Store.objects.order_by("pk"))
    computed: list[object] = []

    def store_outages() -> None:
        with transaction.atomic():
            StatusPoll.objects.bulk_create(
                StatusPoll(store=store, timestamp_utc=SPEC_NOW - timedelta(minutes=5), active=False)
                for store in stores
            )
            data_changed()

    def write_after_the_first_part(text: str) -> None:
        if len(computed) == 1 and connection.vendor == "postgresql":
            # Another connection commits while the command reads (SQLite's test
            # database, in memory, has one writer at a time: a concurrent commit
            # would wait for the command instead).
            with ThreadPoolExecutor(1) as pool:
                pool.submit(in_thread(store_outages)).result(timeout=30)

    monkeypatch.setattr(reports, "report_generate", counted(report_generate, computed))
    out = PartsSeen(computed, on_write=write_after_the_first_part)
    call_command("generate_report", "--as-of", SPEC_NOW.isoformat(), stdout=out)

    assert out.parts_seen == [0, 1, 2, 3, 4]
    assert out.getvalue() == before
    if connection.vendor == "postgresql":
        assert report_generate(as_of=SPEC_NOW).csv() != before  # the outages, seen after


def counted(generate: Callable[..., Any], computed: list[object]) -> Callable[..., Any]:
    """`generate`, noting each part it computed in `computed`."""

    def wrapper(**kwargs: Any) -> Any:
        part = generate(**kwargs)
        computed.append(part)
        return part

    return wrapper


def fail_after(generate: Callable[..., Any], *, calls: int) -> Callable[..., Any]:
    """`generate` for `calls` calls, then failing."""
    computed: list[object] = []

    def wrapper(**kwargs: Any) -> Any:
        if len(computed) == calls:
            raise RuntimeError("computing a part failed")
        return counted(generate, computed)(**kwargs)

    return wrapper


def in_thread(work: Callable[[], None]) -> Callable[[], None]:
    """`work` on the thread's own database connection, closed at the end."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    return run


class PartsSeen(StringIO):
    """Standard output noting, at each write, how many parts were computed by then."""

    def __init__(
        self, computed: list[object], on_write: Callable[[str], None] | None = None
    ) -> None:
        super().__init__()
        self.computed = computed
        self.on_write = on_write
        self.parts_seen: list[int] = []

    def write(self, text: str) -> int:
        self.parts_seen.append(len(self.computed))
        if self.on_write:
            self.on_write(text)
        return super().write(text)
