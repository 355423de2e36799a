"""`manage.py generate_report`."""

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from monitor.models import StatusPoll, Store

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
