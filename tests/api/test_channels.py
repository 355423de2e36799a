"""The channels' API: made, listed (secrets never), tested, logged and removed, per
organization, with every refusal a JSON error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings
from standardwebhooks import Webhook

from monitor.models import ApiKey, Channel, Delivery
from monitor.services.api_keys import api_key_create
from monitor.services.notifications import DELIVER
from tests.support.jobqueue import FakeQueue
from tests.support.receiver import Receiver, receiving
from tests.tenancy import Tenants, make_tenants

pytestmark = pytest.mark.django_db

CHANNELS = "/api/monitor/channels"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def _create(client: Client, body: Any, **headers: Any) -> Any:
    return client.post(CHANNELS, body, content_type="application/json", **headers)


def test_a_webhook_is_made_with_its_secret_shown_once(client: Client) -> None:
    answer = _create(client, {"kind": "webhook", "url": "https://example.com/hook"})
    assert answer.status_code == 201
    made = answer.json()
    assert made["secret"].startswith("whsec_")
    assert Webhook(made["secret"])
    channel = Channel.objects.get()
    assert made == {
        "id": channel.pk,
        "kind": "webhook",
        "url": "https://example.com/hook",
        "to": None,
        "organization": None,
        "created_at": channel.created_at.isoformat(),
        "last_success_at": None,
        "failing_since": None,
        "failing": False,
        "secret": channel.secret,
    }
    listed = client.get(CHANNELS).json()
    assert listed == {"channels": [{k: v for k, v in made.items() if k != "secret"}]}
    assert channel.secret not in client.get(CHANNELS).content.decode()


def test_email_and_apprise_channels_have_no_secret_and_apprise_tokens_are_masked(
    client: Client,
) -> None:
    email = _create(client, {"kind": "email", "to": "ops@example.com"}).json()
    assert (email["to"], email["url"], email["secret"]) == ("ops@example.com", None, None)
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alerts"
    made = _create(client, {"kind": "apprise", "url": slack}).json()
    assert made["secret"] is None
    assert made["url"].startswith("slack://")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in client.get(CHANNELS).content.decode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"kind": "webhook", "url": "ftp://example.com"}, "http:// or https://"),
        ({"kind": "webhook", "to": "ops@example.com"}, "a webhook channel needs 'url'"),
        ({"kind": "email", "url": "https://example.com"}, "an email channel needs 'to'"),
        ({"kind": "email", "to": "nobody"}, "not an email address"),
        ({"kind": "apprise", "url": "https://e.com", "to": "x@y.z"}, "an apprise channel takes no"),
        ({"kind": "apprise", "url": "nosuch://x"}, "not an Apprise URL"),
        ({"kind": "pager", "url": "https://example.com"}, "kind"),
        ({"kind": "webhook", "url": "https://e.com", "secret": "mine"}, "unknown field(s): secret"),
        (["webhook"], "JSON object"),
    ],
)
def test_invalid_channels_are_400_with_the_reason(client: Client, body: Any, error: str) -> None:
    answer = _create(client, body)
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert not Channel.objects.exists()


def test_a_body_that_is_not_json_is_415(client: Client) -> None:
    answer = client.post(CHANNELS, "kind=webhook", content_type="text/plain")
    assert answer.status_code == 415
    assert "error" in answer.json()


def test_a_test_event_is_delivered_and_logged(
    client: Client,
    receiver: Receiver,
    job_queue: FakeQueue,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    made = _create(client, {"kind": "webhook", "url": receiver.url}).json()
    receiver.statuses = [502]
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{CHANNELS}/{made['id']}/test")
    assert answer.status_code == 202
    delivery_id = answer.json()["delivery_id"]
    with django_capture_on_commit_callbacks(execute=True):
        job_queue.run_all()  # fails once (502); the retry is not due yet
    # Its backoff is over: the retry job runs.
    Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        job_queue.send(DELIVER, delivery_id)
        job_queue.run_all()

    [first, second] = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [event] = Webhook(made["secret"]).verify(second.body, second.headers)["events"]
    assert (event["type"], event["incident"]) == ("test", None)

    log = client.get(f"{CHANNELS}/{made['id']}/deliveries").json()
    assert log["total"] == 2
    tries = [
        (d["attempt"], d["succeeded"], d["status_code"], d["error"]) for d in log["deliveries"]
    ]
    assert tries == [
        (2, True, 200, ""),
        (1, False, 502, "HTTP 502 Bad Gateway"),
    ]
    assert {d["delivery_id"] for d in log["deliveries"]} == {delivery_id}
    page = client.get(f"{CHANNELS}/{made['id']}/deliveries", {"limit": 1, "offset": 1}).json()
    assert (page["total"], [d["attempt"] for d in page["deliveries"]]) == (2, [1])
    assert client.get(CHANNELS).json()["channels"][0]["last_success_at"] is not None


def test_a_channel_is_removed_with_its_log(client: Client, job_queue: FakeQueue) -> None:
    made = _create(client, {"kind": "email", "to": "ops@example.com"}).json()
    client.post(f"{CHANNELS}/{made['id']}/test")
    assert client.delete(f"{CHANNELS}/{made['id']}").status_code == 204
    assert not Channel.objects.exists()
    assert not Delivery.objects.exists()
    for method, path in [
        ("delete", f"{CHANNELS}/{made['id']}"),
        ("post", f"{CHANNELS}/{made['id']}/test"),
        ("get", f"{CHANNELS}/{made['id']}/deliveries"),
    ]:
        answer = getattr(client, method)(path)
        assert answer.status_code == 404
        assert answer.json() == {"error": f"no channel {made['id']}"}


def test_a_bad_page_of_the_log_is_400(client: Client) -> None:
    made = _create(client, {"kind": "email", "to": "ops@example.com"}).json()
    answer = client.get(f"{CHANNELS}/{made['id']}/deliveries", {"limit": 0})
    assert answer.status_code == 400
    assert "limit" in answer.json()["error"]


@pytest.fixture
def tenants(settings: Settings) -> Tenants:
    settings.API_KEYS_REQUIRED = True
    return make_tenants()


def test_each_organization_makes_and_sees_its_own_channels(
    client: Client, tenants: Tenants, job_queue: FakeQueue
) -> None:
    acme = _create(
        client, {"kind": "email", "to": "ops@acme.example"}, **tenants.acme.headers
    ).json()
    zeta = _create(
        client, {"kind": "email", "to": "ops@zeta.example"}, **tenants.zeta.headers
    ).json()
    platform = _create(
        client, {"kind": "email", "to": "ops@example.com"}, **tenants.platform.headers
    ).json()
    assert (acme["organization"], zeta["organization"], platform["organization"]) == (
        "acme",
        "zeta",
        None,
    )

    def listed(headers: dict[str, Any]) -> list[int]:
        return [c["id"] for c in client.get(CHANNELS, **headers).json()["channels"]]

    assert listed(tenants.acme.headers) == [acme["id"]]
    assert listed(tenants.platform.headers) == [acme["id"], zeta["id"], platform["id"]]
    for method, suffix in [("delete", ""), ("post", "/test"), ("get", "/deliveries")]:
        answer = getattr(client, method)(f"{CHANNELS}/{zeta['id']}{suffix}", **tenants.acme.headers)
        assert answer.status_code == 404
    assert Channel.objects.count() == 3


def test_a_read_key_lists_but_changes_nothing(client: Client, tenants: Tenants) -> None:
    read: dict[str, Any] = {
        "HTTP_AUTHORIZATION": f"Bearer {api_key_create(name='r', scope=ApiKey.Scope.READ).key}"
    }
    assert client.get(CHANNELS, **read).status_code == 200
    answer = _create(client, {"kind": "email", "to": "ops@example.com"}, **read)
    assert answer.status_code == 403
    assert answer.json() == {"error": "this endpoint needs an API key with scope write"}
    made = _create(
        client, {"kind": "email", "to": "ops@example.com"}, **tenants.platform.headers
    ).json()
    assert client.delete(f"{CHANNELS}/{made['id']}", **read).status_code == 403
    assert client.post(f"{CHANNELS}/{made['id']}/test", **read).status_code == 403
    assert client.get(CHANNELS).status_code == 401
