"""Every store id the rules accept round-trips through its links (amendment 5):
the fleet page's link to the store page, the store page, the incidents page's
links both ways, and the API's store URLs (read, and both edits) and incident
filter, whatever the id holds: `/`, `%`, `?`, `#`,
spaces, any script, an ending the edit paths also have (`…/timezone`)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import orjson
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError
from monitor.models import Report, StatusPoll, Store
from monitor.services.report_parts import report_run
from tests.report_data import SPEC_NOW
from tests.support.incidents import make_incident

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Ids that have broken links somewhere: URL syntax, escapes, the edit paths' endings,
# dot segments, slashes at either end, separators that are not control characters.
TRICKY_IDS = [
    "a/b",
    "a/timezone",
    "x/business_hours",
    "timezone",
    "/leading",
    "trailing/",
    "a//b",
    "50%",
    "%2F",
    "%00",
    "a?b=c",
    "a#b",
    "a b",
    "a+b",
    "a&b",
    "café",
    "店舗/7",
    "x\u2028y",
    "\ue000",
    "a\u00a0b",
    ".",
    "..",
    "a/../b",
    "7" * 255,
    "<script>",
    '"quoted"',
]


def accepted(value: str) -> bool:
    try:
        return rules.store_id(value) == value == value.strip()
    except RowRejectedError:
        return False


# Any text the rules accept (surrogates cannot arrive in UTF-8 input).
ids = st.one_of(
    st.sampled_from(TRICKY_IDS),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    st.text(st.sampled_from("a/%?#. +&é"), min_size=1, max_size=12),
).filter(accepted)


@pytest.fixture(autouse=True)
def open_access(settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = False
    settings.API_THROTTLE_RATES = {"read": None, "trigger": None, "write": None}


def polled(store_ids: list[str]) -> None:
    """The stores, each polled once, afresh."""
    Report.objects.all().delete()
    Store.objects.all().delete()
    for store_id in store_ids:
        store = Store.objects.create(store_id=store_id)
        StatusPoll.objects.create(
            store=store, timestamp_utc=SPEC_NOW - timedelta(hours=1), active=True
        )


@HYPOTHESIS
@given(st.lists(ids, min_size=1, max_size=4, unique=True))
def test_the_fleet_links_every_store_to_its_page(client: Client, store_ids: list[str]) -> None:
    polled(store_ids)
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_run(report.report_id)

    fleet = client.get("/")
    assert fleet.status_code == 200
    links = re.findall(r'<th scope="row"><a href="([^"]+)">', fleet.content.decode())
    assert len(links) == len(store_ids)
    shown = []
    for link in links:
        page = client.get(html.unescape(link))
        assert page.status_code == 200, link
        heading = re.search(r"<h1>Store <code>(.*?)</code>", page.content.decode(), re.S)
        assert heading is not None
        shown.append(html.unescape(heading[1]))
    assert sorted(shown) == sorted(store_ids)


def store_heading(page: str) -> str:
    heading = re.search(r"<h1>Store <code>(.*?)</code>", page, re.S)
    assert heading is not None
    return html.unescape(heading[1])


def incident_links_round_trip(client: Client, store_ids: list[str]) -> None:
    """Each store down: the incidents page links each store's page, which shows
    its open incident and links back to that store's incidents."""
    incidents = {
        store_id: make_incident(store_id, SPEC_NOW - timedelta(minutes=30)).pk
        for store_id in store_ids
    }
    listed = client.get("/incidents/")
    assert listed.status_code == 200
    links = re.findall(r'<th scope="row"><a href="([^"]+)">', listed.content.decode())
    assert len(links) == len(store_ids)
    for link in links:
        page = client.get(html.unescape(link))
        assert page.status_code == 200, link
        body = page.content.decode()
        store_id = store_heading(body)
        assert f'data-open-incident="{incidents[store_id]}"' in body
        back = re.search(r'<a href="([^"]+)">Its incidents</a>', body)
        assert back is not None
        own = client.get(html.unescape(back[1]))
        assert own.status_code == 200, back[1]
        assert re.findall(r'<tr data-incident="(\d+)">', own.content.decode()) == [
            str(incidents[store_id])
        ]
        api = client.get(reverse("incidents"), {"store_id": store_id})
        assert [i["store_id"] for i in api.json()["incidents"]] == [store_id]
    fleet = client.get("/").content.decode()
    assert f'data-open-incidents="{len(store_ids)}"' in fleet


@HYPOTHESIS
@given(st.lists(ids, min_size=1, max_size=4, unique=True))
def test_the_incidents_page_links_every_store_both_ways(
    client: Client, store_ids: list[str]
) -> None:
    polled(store_ids)
    incident_links_round_trip(client, store_ids)


@HYPOTHESIS
@given(ids)
def test_the_api_s_store_urls_round_trip(client: Client, store_id: str) -> None:
    polled([store_id])

    read = client.get(reverse("store", args=[store_id]))
    zone = client.put(
        reverse("store_timezone", args=[store_id]),
        orjson.dumps({"timezone_str": "UTC"}),
        content_type="application/json",
    )
    hours = client.put(
        reverse("store_business_hours", args=[store_id]),
        orjson.dumps([{"day": "0", "start_time_local": "9:00", "end_time_local": "17:00"}]),
        content_type="application/json",
    )

    assert (read.status_code, read.json()["store_id"]) == (200, store_id)
    assert (zone.status_code, zone.json()["store_id"]) == (200, store_id)
    assert (hours.status_code, hours.json()["store_id"]) == (200, store_id)
    assert list(Store.objects.values_list("store_id", "timezone_str")) == [(store_id, "UTC")]
    page = client.get(reverse("pages:store", args=[store_id]))
    assert page.status_code == 200


@pytest.mark.parametrize("store_id", ["a\nb", "a\tb\u202e", "7" * 10_000])
def test_an_id_stored_before_the_rules_still_has_a_working_link(
    client: Client, store_id: str
) -> None:
    """An all-down store with a line break in its id sorted first on every user's
    fleet page, and its link (NoReverseMatch) took the page down."""
    polled([store_id])
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_run(report.report_id)

    fleet = client.get("/")
    (link,) = re.findall(r'<th scope="row"><a href="([^"]+)">', fleet.content.decode())
    page = client.get(html.unescape(link))
    api = client.get(reverse("store", args=[store_id]))

    assert (fleet.status_code, page.status_code, api.status_code) == (200, 200, 200)
    assert api.json()["store_id"] == store_id
    incident_links_round_trip(client, [store_id])
