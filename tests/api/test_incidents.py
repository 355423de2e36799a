"""GET /api/monitor/incidents and /incidents/<id> (docs/report-semantics.md §11):
the documents, the filters, the order, the paging, the errors, the scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import ApiKey, Incident, Store
from monitor.services.api_keys import api_key_create
from monitor.services.incidents import incident_document
from monitor.services.organizations import organization_create
from tests.support.incidents import make_incident, tick

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/monitor/incidents"
T = datetime(2023, 1, 25, 17, 30, tzinfo=UTC)


def ids(body: dict[str, Any]) -> list[int]:
    return [incident["id"] for incident in body["incidents"]]


def listed(client: Client, **query: Any) -> list[int]:
    answer = client.get(INCIDENTS, query)
    assert answer.status_code == 200, answer.json()
    return ids(answer.json())


def test_an_incident_reads_as_the_document_every_notification_carries(client: Client) -> None:
    store = Store.objects.create(store_id="s 1/é", timezone_str="Asia/Kolkata")
    # Ended on a midpoint half a microsecond past 18:10:00.000001.
    end = tick(T + timedelta(minutes=40, microseconds=1), half=True)
    resolved = make_incident(store, T, end)
    still_open = make_incident("no-zone", T)

    one = client.get(f"{INCIDENTS}/{resolved.pk}").json()
    other = client.get(f"{INCIDENTS}/{still_open.pk}").json()

    assert one == {
        "id": resolved.pk,
        "store_id": "s 1/é",
        "status": "resolved",
        "started_at": "2023-01-25T17:30:00+00:00",
        "ended_at": "2023-01-25T18:10:00.000001+00:00",
        "duration_seconds": 2400.0000015,
        "started_at_local": "2023-01-25T23:00:00+05:30",
        "ended_at_local": "2023-01-25T23:40:00.000001+05:30",
        "timezone": "Asia/Kolkata",
    }
    assert other == {
        "id": still_open.pk,
        "store_id": "no-zone",
        "status": "open",
        "started_at": "2023-01-25T17:30:00+00:00",
        "ended_at": None,
        "duration_seconds": None,
        "started_at_local": "2023-01-25T11:30:00-06:00",
        "ended_at_local": None,
        "timezone": "America/Chicago",
    }
    assert client.get(INCIDENTS).json() == {"total": 2, "incidents": [other, one]}


def test_open_ones_first_then_the_latest_start_first(client: Client) -> None:
    old_open = make_incident("a", T - timedelta(days=3))
    recent = make_incident("b", T, T + timedelta(minutes=5))
    older = make_incident("c", T - timedelta(hours=1), T - timedelta(minutes=30))
    new_open = make_incident("d", T - timedelta(hours=2))
    # Two stores down from the same instant: the later row first.
    same_start = make_incident("e", T, T + timedelta(minutes=1))

    assert listed(client) == [new_open.pk, old_open.pk, same_start.pk, recent.pk, older.pk]


def test_filters_by_store_and_status(client: Client) -> None:
    a_open = make_incident("a", T)
    a_old = make_incident("a", T - timedelta(hours=2), T - timedelta(hours=1))
    b_old = make_incident("b", T - timedelta(hours=3), T - timedelta(hours=2))

    assert listed(client, store_id="a") == [a_open.pk, a_old.pk]
    assert listed(client, status="open") == [a_open.pk]
    assert listed(client, status="resolved") == [a_old.pk, b_old.pk]
    assert listed(client, store_id="b", status="open") == []


def test_since_and_until_keep_the_incidents_overlapping_the_window(client: Client) -> None:
    since, until = T, T + timedelta(hours=1)
    ended_at_since = make_incident("a", since - timedelta(hours=1), since)
    # Ended half a microsecond after `since`: it overlaps, by half a microsecond.
    ended_just_after = make_incident("b", since - timedelta(hours=1), tick(since, half=True))
    across = make_incident("c", since - timedelta(minutes=5), until + timedelta(minutes=5))
    inside = make_incident("d", since + timedelta(minutes=5), since + timedelta(minutes=10))
    open_since_before = make_incident("e", since - timedelta(days=1))
    starting_at_until = make_incident("f", until, until + timedelta(minutes=1))
    started_half_before_until = make_incident("g", tick(until) - 1, until + timedelta(minutes=1))

    window = {"since": "2023-01-25T17:30:00Z", "until": "2023-01-25 18:30:00"}
    assert listed(client, **window) == [
        open_since_before.pk,
        started_half_before_until.pk,
        inside.pk,
        across.pk,
        ended_just_after.pk,
    ]
    # Offsets are read as §1 reads them: the same instant in Kolkata.
    assert listed(client, since="2023-01-25T23:00:00+05:30") == [
        open_since_before.pk,
        starting_at_until.pk,
        started_half_before_until.pk,
        inside.pk,
        across.pk,
        ended_just_after.pk,
    ]
    assert listed(client, until="2023-01-25T17:30:00") == [
        open_since_before.pk,
        across.pk,
        ended_just_after.pk,
        ended_at_since.pk,
    ]


def test_pages_by_limit_and_offset_with_the_total(client: Client) -> None:
    made = [
        make_incident(f"s{i}", T + timedelta(minutes=i), T + timedelta(hours=1)) for i in range(7)
    ]
    newest_first = [incident.pk for incident in reversed(made)]

    first = client.get(INCIDENTS, {"limit": 3}).json()
    last = client.get(INCIDENTS, {"limit": 3, "offset": 6}).json()
    beyond = client.get(INCIDENTS, {"offset": 7}).json()

    assert (first["total"], ids(first)) == (7, newest_first[:3])
    assert (last["total"], ids(last)) == (7, newest_first[6:])
    assert beyond == {"total": 7, "incidents": []}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("status=closed", '"closed" is not a valid choice: use one of open, resolved'),
        ("status=", "status: This field may not be blank."),
        ("status=open&status=resolved", "given 2 times"),
        ("since=yesterday", "'yesterday' is not an ISO 8601 instant"),
        ("since=2023-01-25 17:30:00 UTC", "is not an ISO 8601 instant"),
        ("until=2023-02-30T00:00:00Z", "is not an ISO 8601 instant"),
        ("since=1969-12-31T23:59:59Z", "out of range"),
        ("until=9999-01-01T00:00:00Z", "out of range"),
        ("since=2023-01-25T18:00:00Z&until=2023-01-25T18:00:00Z", "must be before until"),
        ("since=2023-01-25T19:00:00%2B01:00&until=2023-01-25T17:59:59Z", "must be before until"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("state=open", "unknown parameter(s): state"),
        ("store_id=a%00b", "NUL"),
    ],
)
def test_a_bad_query_is_a_400_saying_why(client: Client, query: str, reason: str) -> None:
    answer = client.get(f"{INCIDENTS}?{query}")

    assert answer.status_code == 400
    assert reason in answer.json()["error"]


def test_what_does_not_exist_is_a_404(client: Client) -> None:
    make_incident("a", T)

    for url, reason in [
        (f"{INCIDENTS}/999999", "no incident with id 999999"),
        (f"{INCIDENTS}/0", "no incident with id 0"),
        (f"{INCIDENTS}/{2**63}", f"no incident with id {2**63}"),
        (f"{INCIDENTS}/{10**30}", "no incident with id"),
        (f"{INCIDENTS}/-1", "no such path"),
        (f"{INCIDENTS}/x", "no such path"),
        (f"{INCIDENTS}?store_id=nope", "no store with id 'nope'"),
        (f"{INCIDENTS}?store_id=%20a", "no store with id ' a'"),  # ids are exact
        (f"{INCIDENTS}?organization=nope", "no organization 'nope'"),
    ]:
        answer = client.get(url)
        assert (answer.status_code, answer["Content-Type"]) == (404, "application/json"), url
        assert reason in answer.json()["error"], url


def test_only_get_is_allowed(client: Client) -> None:
    incident = make_incident("a", T)
    for url in [INCIDENTS, f"{INCIDENTS}/{incident.pk}"]:
        answer = client.post(url, {}, content_type="application/json")
        assert answer.status_code == 405
        assert "error" in answer.json()


# Scopes: an organization's key sees its stores' incidents only; the platform's, all.


@pytest.fixture
def tenants(settings: Settings) -> dict[str, Any]:
    settings.API_KEYS_REQUIRED = True
    acme, zeta = organization_create(slug="acme"), organization_create(slug="zeta")
    stores = {
        "acme": Store.objects.create(store_id="acme-1", organization=acme),
        "zeta": Store.objects.create(store_id="zeta-1", organization=zeta),
        "nobody": Store.objects.create(store_id="nobody-1"),
    }
    incidents = {
        name: make_incident(store, T - timedelta(hours=i))
        for i, (name, store) in enumerate(stores.items())
    }

    def key(organization: str | None, scope: str = ApiKey.Scope.READ) -> dict[str, str]:
        made = api_key_create(
            name=f"{organization}-{scope}", scope=scope, organization=organization
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {made.key}"}

    return {
        "incidents": incidents,
        "acme": key("acme"),
        "acme_write": key("acme", ApiKey.Scope.WRITE),
        "platform": key(None),
    }


def test_an_organization_sees_its_own_stores_incidents_only(
    client: Client, tenants: dict[str, Any]
) -> None:
    incidents: dict[str, Incident] = tenants["incidents"]
    acme = tenants["acme"]

    assert client.get(INCIDENTS, **acme).json() == {
        "total": 1,
        "incidents": [incident_document(incidents["acme"])],
    }
    assert client.get(f"{INCIDENTS}/{incidents['acme'].pk}", **acme).status_code == 200
    for other in ("zeta", "nobody"):
        answer = client.get(f"{INCIDENTS}/{incidents[other].pk}", **acme)
        # As absent as an id no incident has.
        assert answer.status_code == 404
        assert answer.json() == {"error": f"no incident with id {incidents[other].pk}"}
    for store_id in ("zeta-1", "nobody-1"):
        answer = client.get(INCIDENTS, {"store_id": store_id}, **acme)
        assert answer.json() == {"error": f"no store with id {store_id!r}"}
    assert client.get(INCIDENTS, {"organization": "zeta"}, **acme).status_code == 404
    assert ids(client.get(INCIDENTS, {"organization": "acme"}, **acme).json()) == [
        incidents["acme"].pk
    ]
    # A write key reads as much, and no more.
    assert ids(client.get(INCIDENTS, **tenants["acme_write"]).json()) == [incidents["acme"].pk]


def test_the_platform_sees_every_incident_and_filters_by_organization(
    client: Client, tenants: dict[str, Any]
) -> None:
    incidents: dict[str, Incident] = tenants["incidents"]
    platform = tenants["platform"]

    every = client.get(INCIDENTS, **platform).json()
    zetas = client.get(INCIDENTS, {"organization": "zeta"}, **platform).json()
    unassigned = client.get(f"{INCIDENTS}/{incidents['nobody'].pk}", **platform)

    assert ids(every) == [incidents[name].pk for name in ("acme", "zeta", "nobody")]
    assert ids(zetas) == [incidents["zeta"].pk]
    assert unassigned.json()["store_id"] == "nobody-1"


def test_without_a_key_it_is_a_401(client: Client, tenants: dict[str, Any]) -> None:
    incident = tenants["incidents"]["acme"]
    for url in [INCIDENTS, f"{INCIDENTS}/{incident.pk}"]:
        answer = client.get(url)
        assert answer.status_code == 401
        assert "error" in answer.json()


def test_reads_are_throttled_as_every_read(client: Client, settings: Settings) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": "2/min"}
    incident = make_incident("a", T)

    codes = [client.get(url).status_code for url in [INCIDENTS, f"{INCIDENTS}/{incident.pk}"] * 2]

    assert codes == [200, 200, 429, 429]


# The schema says exactly what the answers hold.


def test_the_schema_describes_the_answers_exactly(client: Client) -> None:
    make_incident("a", T, T + timedelta(minutes=1))
    make_incident("b", T)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    body = client.get(INCIDENTS).json()

    listing = components["IncidentList"]
    incident = components["Incident"]
    assert set(listing["properties"]) == set(listing["required"]) == set(body)
    assert listing["properties"]["incidents"]["items"] == {"$ref": "#/components/schemas/Incident"}
    for document in body["incidents"]:
        assert set(incident["properties"]) == set(incident["required"]) == set(document)
    nullable = {name for name, field in incident["properties"].items() if field.get("nullable")}
    assert nullable == {"ended_at", "duration_seconds", "ended_at_local"}
    paths = schema["paths"]
    one = paths["/api/monitor/incidents/{incident_id}"]["get"]["responses"]["200"]
    many = paths["/api/monitor/incidents"]["get"]["responses"]["200"]
    assert one["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Incident"}
    assert many["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IncidentList"
    }
