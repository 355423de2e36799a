"""Polls stored before amendment 5 outside its range (year 1, year 9999): the service
keeps answering, every way in, until `prune_polls --outside-range` deletes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from monitor.models import Report, StatusPoll, Store
from monitor.scope import PLATFORM
from monitor.services import report_parts
from monitor.services.poll_retention import polls_outside_range_prune
from monitor.services.reports import report_generate
from monitor.services.stores import store_story
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples

pytestmark = pytest.mark.django_db

YEAR_1 = datetime(1, 1, 1, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def legacy_polls(settings: Any) -> None:
    """The spec examples, and polls of year 1 and 9999 stored as an older version could."""
    settings.API_KEYS_REQUIRED = False
    store_spec_examples()
    example_1 = Store.objects.get(store_id="example-1")
    StatusPoll.objects.bulk_create(
        [
            StatusPoll(store=example_1, timestamp_utc=YEAR_1, active=False),
            StatusPoll(store=example_1, timestamp_utc=YEAR_9999, active=False),
            # A store whose only polls are out of range, in a zone west of UTC.
            StatusPoll(
                store=Store.objects.create(store_id="ancient", timezone_str="America/Chicago"),
                timestamp_utc=YEAR_1,
                active=True,
            ),
        ]
    )


def test_the_default_instant_is_the_latest_poll_in_range() -> None:
    report = report_generate()

    assert report.as_of == SPEC_NOW - timedelta(minutes=20)
    assert "ancient" not in report.csv()


def test_a_report_reads_no_poll_out_of_range() -> None:
    assert report_generate(as_of=SPEC_NOW).csv() == SPEC_CSV


def test_a_trigger_without_as_of_completes(
    client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/monitor/trigger_report", {}, content_type="application/json")

    assert response.status_code == 200
    report = Report.objects.get(report_id=response.json()["report_id"])
    report_parts.report_run(report.report_id)
    assert Report.objects.get(pk=report.pk).status == Report.Status.COMPLETE


def test_generate_report_without_as_of() -> None:
    out = StringIO()
    call_command("generate_report", stdout=out)
    assert out.getvalue().splitlines()[0].startswith("store_id,")


@pytest.mark.parametrize("as_of", ["", "?as_of=2023-01-25T18:00:00Z"])
@pytest.mark.parametrize("store_id", ["example-1", "ancient"])
def test_the_store_api_and_page_answer(client: Client, store_id: str, as_of: str) -> None:
    api = client.get(f"/api/monitor/stores/{store_id}{as_of}")
    page = client.get(f"/stores/{store_id}{as_of}")
    listed = client.get("/api/monitor/stores?order=-last_poll")

    assert (api.status_code, page.status_code, listed.status_code) == (200, 200, 200)
    assert all(poll["at"] > "1970" for poll in api.json()["polls"])
    assert api.json()["reported"] is (store_id == "example-1")
    assert listed.json()["as_of"] == (SPEC_NOW - timedelta(minutes=20)).isoformat()


def test_the_story_of_a_store_with_only_polls_out_of_range_is_unreported() -> None:
    story = store_story("ancient", scope=PLATFORM)
    assert (story.reported, story.polls, story.last_poll) == (False, (), None)


def test_prune_polls_outside_range_deletes_exactly_them() -> None:
    out = StringIO()
    call_command("prune_polls", "--outside-range", stdout=out)

    assert out.getvalue().startswith("deleted 3 polls dated before 1970-01-01T00:00:00+00:00")
    assert not StatusPoll.objects.filter(timestamp_utc__year__in=[1, 9999]).exists()
    assert StatusPoll.objects.count() == 3  # the examples' own
    assert polls_outside_range_prune().deleted == 0


def test_prune_polls_keeps_a_poll_a_day_ahead() -> None:
    ahead = datetime.now(UTC) + timedelta(hours=23)
    StatusPoll.objects.create(
        store=Store.objects.get(store_id="example-2"), timestamp_utc=ahead, active=True
    )

    assert polls_outside_range_prune().deleted == 3
    assert StatusPoll.objects.filter(timestamp_utc=ahead).exists()


def test_prune_polls_needs_an_option() -> None:
    with pytest.raises(Exception, match="give --older-than DAYS, --outside-range, or both"):
        call_command("prune_polls", stdout=StringIO())
