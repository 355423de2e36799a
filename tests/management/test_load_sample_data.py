"""`manage.py load_sample_data` (what `make run` calls)."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from monitor.models import BusinessHours, StatusPoll, Store
from monitor.sample_data.generator import generate_sample_data

pytestmark = pytest.mark.django_db

STORES = 25
SEED = 3


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_sample_data", *args, stdout=out)
    return out.getvalue()


def data_rows(tmp_path: Path) -> tuple[int, int, int, int]:
    """Rows of the set the command generates: polls, hours rows, zones, stores named."""
    data = generate_sample_data(tmp_path, stores=STORES, seed=SEED)
    return (
        data.poll_rows,
        data.hours_rows,
        data.timezone_rows,
        data.polled_stores + data.unpolled_stores,
    )


def stored() -> tuple[int, int, int, int]:
    return (
        StatusPoll.objects.count(),
        BusinessHours.objects.count(),
        Store.objects.exclude(timezone_str="").count(),
        Store.objects.count(),
    )


def test_loads_the_generated_set(tmp_path: Path) -> None:
    output = run("--stores", str(STORES), "--seed", str(SEED))
    expected = data_rows(tmp_path)
    assert stored() == expected
    assert f"polls: loaded {expected[0]:,}, skipped 0 duplicates" in output
    assert StatusPoll.objects.filter(active=False).exists()


def test_if_empty_does_nothing_once_polls_are_stored(tmp_path: Path) -> None:
    run("--if-empty", "--stores", str(STORES), "--seed", str(SEED))
    before = stored()
    assert before == data_rows(tmp_path)
    output = run("--if-empty", "--stores", "40", "--seed", "8")
    assert output == "Polls are already stored: sample data not loaded.\n"
    assert stored() == before


def test_loading_again_without_if_empty_adds_nothing_new() -> None:
    run("--stores", str(STORES), "--seed", str(SEED))
    before = stored()
    output = run("--stores", str(STORES), "--seed", str(SEED))
    assert f"polls: loaded 0, skipped {before[0]:,} duplicates" in output
    assert stored() == before
