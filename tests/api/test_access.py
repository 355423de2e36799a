"""API keys on the wire (401, 403, scopes, both headers) and the throttles (429)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import ApiKey
from monitor.services.api_keys import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db

REPORTS = "/api/monitor/reports"
TRIGGER = "/api/monitor/trigger_report"
# The endpoints that send data: (method, path, a valid JSON body).
SENDING_DATA = [
    (
        "post",
        "/api/monitor/polls",
        [{"store_id": "s1", "status": "active", "timestamp_utc": "2023-01-25T18:00:00Z"}],
    ),
    (
        "post",
        "/api/monitor/business_hours",
        [{"store_id": "s1", "day": "0", "start_time_local": "09:00", "end_time_local": "17:00"}],
    ),
    ("post", "/api/monitor/timezones", [{"store_id": "s1", "timezone_str": "Asia/Kolkata"}]),
    (
        "put",
        "/api/monitor/stores/s1/business_hours",
        [{"day": "0", "start_time_local": "09:00", "end_time_local": "17:00"}],
    ),
    ("put", "/api/monitor/stores/s1/timezone", {"timezone_str": "Asia/Kolkata"}),
    (
        "post",
        "/api/monitor/special_hours",
        [{"store_id": "s1", "date": "2023-12-25", "start_time_local": "", "end_time_local": ""}],
    ),
    (
        "post",
        "/api/monitor/exclusions",
        [{"store_id": "*", "start_utc": "2023-01-25 17:00:00", "end_utc": "2023-01-25 18:00:00"}],
    ),
    (
        "put",
        "/api/monitor/stores/s1/special_hours/2023-12-25",
        [{"start_time_local": "", "end_time_local": ""}],
    ),
    # Ownership (a platform key's: tests/test_scope.py has an organization's 403).
    ("post", "/api/monitor/store_organizations", [{"store_id": "s1", "organization": "acme"}]),
    ("put", "/api/monitor/stores/s1/organization", {"organization": None}),
]


@pytest.fixture
def keys_required(settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = True


def key(scope: str, name: str | None = None) -> str:
    return api_key_create(name=name or f"{scope}-client", scope=scope).key


def bearer(value: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


@pytest.mark.usefixtures("keys_required")
@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("smk_" + "x" * 43),
        bearer("not-a-key"),
        {"HTTP_X_API_KEY": "smk_" + "y" * 43},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
    ids=["no key", "unknown key", "malformed key", "unknown X-Api-Key", "other scheme"],
)
def test_without_a_live_key_every_api_endpoint_is_401_json(
    client: Client, headers: dict[str, Any]
) -> None:
    for response in [
        client.get(REPORTS, **headers),
        client.post(TRIGGER, **headers),
        client.get("/api/monitor/get_report/abc", **headers),
        client.get("/metrics", **headers),
    ]:
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert set(response.json()) == {"error"}


@pytest.mark.usefixtures("keys_required")
def test_a_read_key_works_in_either_header_and_its_use_is_recorded(client: Client) -> None:
    read = key("read")

    assert client.get(REPORTS, **bearer(read)).status_code == 200
    assert client.get(REPORTS, HTTP_X_API_KEY=read).status_code == 200
    assert client.get(REPORTS, HTTP_AUTHORIZATION=f"bearer  {read} ").status_code == 200
    assert client.generic("POST", TRIGGER, **bearer(read)).status_code == 200
    assert client.get("/metrics", **bearer(read)).status_code == 200
    assert ApiKey.objects.get(name="read-client").last_used_at is not None


@pytest.mark.usefixtures("keys_required")
def test_a_revoked_key_is_refused(client: Client) -> None:
    read = key("read")
    api_key_revoke(name="read-client")

    assert client.get(REPORTS, **bearer(read)).status_code == 401


@pytest.mark.usefixtures("keys_required")
def test_a_key_made_under_another_secret_key_is_refused(client: Client, settings: Settings) -> None:
    read = key("read")
    settings.SECRET_KEY = "another secret key, after a rotation"

    assert client.get(REPORTS, **bearer(read)).status_code == 401


@pytest.mark.usefixtures("keys_required")
def test_the_log_says_why_a_key_of_another_secret_key_is_refused(
    client: Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The client hears only 401; the server's log names the key and the cause."""
    read = key("read")
    settings.SECRET_KEY = "another secret key, after a rotation"

    with caplog.at_level("WARNING", logger="monitor.services.api_keys"):
        client.get(REPORTS, **bearer(read))

    assert "DJANGO_SECRET_KEY has changed" in caplog.text
    assert read[:12] in caplog.text
    assert read not in caplog.text  # never the whole key


@pytest.mark.usefixtures("keys_required")
def test_an_unknown_key_logs_nothing(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="monitor.services.api_keys"):
        client.get(REPORTS, **bearer("smk_" + "x" * 43))

    assert not [record for record in caplog.records if record.name == "monitor.services.api_keys"]


@pytest.mark.usefixtures("keys_required")
@pytest.mark.parametrize(("method", "url", "body"), SENDING_DATA, ids=lambda value: str(value)[:40])
def test_sending_data_needs_a_write_key(client: Client, method: str, url: str, body: Any) -> None:
    send = getattr(client, method)

    refused = send(url, body, content_type="application/json", **bearer(key("read")))
    anonymous = send(url, body, content_type="application/json")
    accepted = send(url, body, content_type="application/json", **bearer(key("write")))

    assert refused.status_code == 403
    assert refused.json() == {"error": "this endpoint needs an API key with scope write"}
    assert anonymous.status_code == 401
    assert accepted.status_code == 200, accepted.json()


@pytest.mark.usefixtures("keys_required")
def test_forcing_a_report_needs_a_write_key(client: Client) -> None:
    forced = {"as_of": "2023-01-25T18:00:00Z", "force": True}
    read, write = bearer(key("read")), bearer(key("write"))

    refused = client.post(TRIGGER, forced, content_type="application/json", **read)
    unforced = {**forced, "force": False}
    plain = client.post(TRIGGER, unforced, content_type="application/json", **read)
    accepted = client.post(TRIGGER, forced, content_type="application/json", **write)

    assert refused.status_code == 403
    assert refused.json() == {"error": '{"force": true} needs an API key with scope write'}
    assert plain.status_code == 200, plain.json()
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["reused"] is False


def test_with_keys_off_no_key_is_needed_or_looked_at(client: Client) -> None:
    assert client.get(REPORTS).status_code == 200
    assert client.get(REPORTS, **bearer("anything")).status_code == 200


def test_the_probes_and_the_docs_need_no_key(client: Client, settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = True

    for open_path in ["/healthz", "/readyz", "/api/schema/", "/api/docs/"]:
        assert client.get(open_path).status_code == 200, open_path


# Throttles


def test_a_throttled_request_is_429_json_with_retry_after(
    client: Client, settings: Settings
) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "trigger": "2/min"}

    answers = [client.generic("POST", TRIGGER) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= 60
    assert "throttled" in answers[2].json()["error"].lower()
    assert client.get(REPORTS).status_code == 200  # reads have their own count


def test_throttles_count_per_key(client: Client, settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = True
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": "2/min"}
    first, second = key("read", "first"), key("read", "second")

    assert [client.get(REPORTS, **bearer(first)).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(REPORTS, **bearer(second)).status_code == 200


def test_throttles_count_per_address_when_keys_are_off(client: Client, settings: Settings) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": "1/min"}

    assert client.get(REPORTS, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get(REPORTS, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(REPORTS, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_rate_of_none_turns_a_throttle_off(client: Client, settings: Settings) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "read": None}

    assert {client.get(REPORTS).status_code for _ in range(5)} == {200}


@pytest.mark.usefixtures("keys_required")
def test_removing_calendar_entries_needs_a_write_key_and_listing_them_a_read_key(
    client: Client,
) -> None:
    read, write = bearer(key("read")), bearer(key("write"))
    assert client.get("/api/monitor/exclusions", **read).status_code == 200
    assert client.get("/api/monitor/exclusions").status_code == 401
    for url in ["/api/monitor/exclusions/1", "/api/monitor/stores/s1/special_hours/2023-12-25"]:
        assert client.delete(url, **read).status_code == 403
        assert client.delete(url, **write).status_code == 404  # nothing to remove
