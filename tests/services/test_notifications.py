"""The notifications service: channels, the dispatcher, the delivery protocol
(claims, retries, giving up, failing channels) and the three kinds of channel,
against a real HTTP receiver on a thread of the test. Jobs run by hand (FakeQueue);
the clock is moved by moving the rows' own instants."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from monitor.models import Channel, Delivery, DeliveryAttempt, IncidentEvent, Organization
from monitor.scope import PLATFORM, Scope
from monitor.services import notifications
from monitor.services.notifications import (
    DELIVER,
    ChannelInputError,
    ChannelNotFoundError,
    channel_create,
)
from tests.support.incidents import incident_event, incident_storm
from tests.support.jobqueue import FakeQueue
from tests.support.receiver import Receiver, receiving

pytestmark = pytest.mark.django_db

Commits = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Commits) -> Callable[[Callable[[], Any]], Any]:
    """Run a service and the callbacks of its commits (the jobs it sends)."""

    def run(call: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def _organization(slug: str) -> Organization:
    return Organization.objects.create(slug=slug, name=slug.title())


def _due(delivery_id: Any) -> None:
    """Move the clock to the delivery's next try: its wait is over."""
    Delivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# ---- channels -------------------------------------------------------------------------------


def test_a_webhook_channel_gets_a_standard_webhooks_secret() -> None:
    channel = channel_create(PLATFORM, "webhook", " https://example.com/hook ")
    assert channel.target == "https://example.com/hook"
    assert channel.secret.startswith("whsec_")
    Webhook(channel.secret)  # decodes: base64 of 32 bytes
    assert channel.organization is None
    other = channel_create(PLATFORM, "webhook", "http://example.com/hook")
    assert other.secret != channel.secret


@pytest.mark.parametrize(
    ("kind", "target", "error"),
    [
        ("webhook", "ftp://example.com/x", "http:// or https://"),
        ("webhook", "https://", "http:// or https://"),
        ("webhook", "example.com/hook", "http:// or https://"),
        ("email", "not-an-address", "not an email address"),
        ("email", "Ops <ops@example.com>", "not an email address"),
        ("apprise", "nosuchscheme://x", "not an Apprise URL"),
        ("sms", "+15550100", "kind must be one of webhook, email, apprise"),
    ],
)
def test_invalid_channels_are_refused_with_the_reason(kind: str, target: str, error: str) -> None:
    with pytest.raises(ChannelInputError, match=error):
        channel_create(PLATFORM, kind, target)
    assert not Channel.objects.exists()


def test_an_organization_sees_and_removes_only_its_own_channels() -> None:
    acme, zeta = Scope(_organization("acme")), Scope(_organization("zeta"))
    mine = channel_create(acme, "email", "ops@acme.example")
    theirs = channel_create(zeta, "email", "ops@zeta.example")
    assert list(acme.channels()) == [mine]
    assert set(PLATFORM.channels()) == {mine, theirs}
    with pytest.raises(ChannelNotFoundError):
        notifications.channel_delete(acme, theirs.pk)
    notifications.channel_delete(acme, mine.pk)
    assert list(Channel.objects.all()) == [theirs]


# ---- dispatching ----------------------------------------------------------------------------


def test_each_channel_gets_one_delivery_of_its_organizations_events(
    job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    acme, zeta = _organization("acme"), _organization("zeta")
    to_acme = channel_create(Scope(acme), "webhook", "http://127.0.0.1:9/acme")
    to_zeta = channel_create(Scope(zeta), "webhook", "http://127.0.0.1:9/zeta")
    to_platform = channel_create(PLATFORM, "email", "ops@example.com")
    acme_events = [incident_event(f"a{n}", organization=acme) for n in range(3)]
    platform_event = incident_event("p1")

    made = commits(notifications.notifications_dispatch)

    deliveries = {d.channel_id: d for d in Delivery.objects.all()}
    assert len(made) == len(deliveries) == 2  # zeta had no event: no delivery
    ids = {c: [e["id"] for e in d.events] for c, d in deliveries.items()}
    assert ids[to_acme.pk] == [str(e.pk) for e in acme_events]
    assert ids[to_platform.pk] == [str(e.pk) for e in [*acme_events, platform_event]]
    assert to_zeta.pk not in ids
    assert deliveries[to_acme.pk].events[0] == {
        "id": str(acme_events[0].pk),
        "type": "incident.opened",
        "incident": acme_events[0].document,
    }
    assert not IncidentEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert sorted(job_queue.keys(DELIVER)) == sorted(str(pk) for pk in made)
    assert commits(notifications.notifications_dispatch) == []  # nothing waits any more


def test_a_storm_of_300_events_is_one_request_per_channel(
    job_queue: FakeQueue, commits: Callable[..., Any], receiver: Receiver
) -> None:
    first = channel_create(PLATFORM, "webhook", receiver.url)
    second = channel_create(PLATFORM, "webhook", receiver.url + "/2")
    incident_storm(300)

    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)

    assert len(receiver.requests) == 2
    for channel, request in zip(
        [first, second], sorted(receiver.requests, key=lambda r: r.path), strict=True
    ):
        events = Webhook(channel.secret).verify(request.body, request.headers)["events"]
        assert len(events) == 300
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_events_nobody_listens_to_are_dispatched_all_the_same(
    commits: Callable[..., Any], job_queue: FakeQueue
) -> None:
    incident_event("lonely")
    assert commits(notifications.notifications_dispatch) == []
    assert not IncidentEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_dispatch_on_commit_sends_the_dispatch_job(
    job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    commits(notifications.dispatch_on_commit)
    assert job_queue.keys(notifications.DISPATCH) == [0]


# ---- delivering -----------------------------------------------------------------------------


def _delivered_to(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> tuple[Channel, Delivery]:
    channel = channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42", down_for=timedelta(minutes=40), event=IncidentEvent.Type.RESOLVED)
    [delivery_id] = commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    return channel, Delivery.objects.get(pk=delivery_id)


def test_a_webhook_is_signed_and_verifies(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel, delivery = _delivered_to(receiver, job_queue, commits)
    [request] = receiver.requests
    body = Webhook(channel.secret).verify(request.body, request.headers)
    assert body == {"events": delivery.events}
    assert request.headers["webhook-id"] == f"msg_{delivery.pk.hex}"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.attempts == 1
    [attempt] = DeliveryAttempt.objects.all()
    assert (attempt.succeeded, attempt.status_code, attempt.error) == (True, 200, "")
    channel.refresh_from_db()
    assert channel.last_success_at is not None


def test_a_delivered_delivery_is_never_sent_again(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    _, delivery = _delivered_to(receiver, job_queue, commits)
    _due(delivery.pk)
    notifications.delivery_run(str(delivery.pk))
    commits(notifications.notifications_catch_up)
    commits(job_queue.run_all)
    assert len(receiver.requests) == 1


def test_a_receiver_failing_twice_gets_the_same_webhook_id_three_times(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any], settings: Any
) -> None:
    settings.NOTIFY_RETRY_FIRST_SECONDS = 10
    receiver.statuses = [500, 503]
    channel = channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [delivery_id] = commits(notifications.notifications_dispatch)

    commits(job_queue.run_all)  # the try, and its retry: not due yet
    assert len(receiver.requests) == 1
    assert job_queue.delays == [(DELIVER.name, str(delivery_id), 10.0)]  # within 15 s
    _due(delivery_id)
    commits(job_queue.run_all)
    assert job_queue.delays[-1] == (DELIVER.name, str(delivery_id), 30.0)
    _due(delivery_id)
    commits(job_queue.run_all)

    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3
    for request in receiver.requests:
        Webhook(channel.secret).verify(request.body, request.headers)
    log = DeliveryAttempt.objects.order_by("number")
    assert [(a.number, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert log[0].error == "HTTP 500 Internal Server Error"
    channel.refresh_from_db()
    assert channel.failing_since is None
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_an_unreachable_webhook_is_a_failed_try_with_the_reason(
    job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    with receiving() as gone:
        url = gone.url
    channel_create(PLATFORM, "webhook", url)  # nothing listens there any more
    incident_event("42")
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    [attempt] = DeliveryAttempt.objects.all()
    assert not attempt.succeeded
    assert attempt.status_code is None
    assert attempt.error.startswith("connection failed:")
    assert Delivery.objects.get().status == Delivery.Status.PENDING


@pytest.mark.parametrize("kind", ["webhook", "apprise"])
def test_private_addresses_are_refused_unless_allowed(
    receiver: Receiver,
    job_queue: FakeQueue,
    commits: Callable[..., Any],
    settings: Any,
    kind: str,
) -> None:
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    url = receiver.url if kind == "webhook" else receiver.url.replace("http://", "json://")
    channel_create(PLATFORM, kind, url)
    incident_event("42")
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    assert receiver.requests == []
    [attempt] = DeliveryAttempt.objects.all()
    assert not attempt.succeeded
    assert attempt.error == (
        "refused: 127.0.0.1 is not a public address (NOTIFY_ALLOW_PRIVATE_ADDRESSES is off)"
    )


def test_a_try_in_flight_is_left_alone_until_its_claim_lapses(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [delivery_id] = commits(notifications.notifications_dispatch)
    job_queue.drop()
    # A worker claimed try 1 and was killed mid-request.
    in_flight = timezone.now() + timedelta(seconds=20)
    Delivery.objects.filter(pk=delivery_id).update(attempts=1, claimed_until=in_flight)

    notifications.delivery_run(str(delivery_id))  # its task, redelivered
    assert receiver.requests == []
    [(name, key, delay)] = job_queue.delays
    assert (name, key) == (DELIVER.name, str(delivery_id))
    assert 19 < delay <= 21  # it looks again once the claim lapses

    Delivery.objects.filter(pk=delivery_id).update(claimed_until=timezone.now())
    job_queue.drop()
    notifications.delivery_run(str(delivery_id))
    assert len(receiver.requests) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 2)


def test_a_superseded_try_records_nothing(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [delivery_id] = commits(notifications.notifications_dispatch)
    first = notifications._claim(str(delivery_id))
    assert isinstance(first, notifications._Claim)
    # Its claim lapsed (a slow worker), another try took over and delivered.
    Delivery.objects.filter(pk=delivery_id).update(claimed_until=timezone.now())
    notifications.delivery_run(str(delivery_id))
    notifications._record(first, notifications.Outcome(False, error="late"), 10)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 2)


def test_a_channel_removed_during_a_try_leaves_nothing_to_record(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel = channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [delivery_id] = commits(notifications.notifications_dispatch)
    claim = notifications._claim(str(delivery_id))
    assert isinstance(claim, notifications._Claim)
    notifications.channel_delete(PLATFORM, channel.pk)
    commits(lambda: notifications._record(claim, notifications.Outcome(False, error="x"), 1))
    assert not DeliveryAttempt.objects.exists()
    assert job_queue.delays == []


def test_after_24_hours_of_failures_the_delivery_gives_up_and_the_channel_is_failing(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    receiver.statuses = [500] * 3
    channel = channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [delivery_id] = commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    channel.refresh_from_db()
    assert channel.failing_since is not None
    assert channel.failing_at is None
    assert not notifications.channels_failing(PLATFORM).exists()

    # A day later, still failing.
    day_ago = timezone.now() - timedelta(hours=24)
    Delivery.objects.filter(pk=delivery_id).update(created_at=day_ago)
    Channel.objects.filter(pk=channel.pk).update(failing_since=day_ago)
    _due(delivery_id)
    commits(job_queue.run_all)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.finished_at is not None
    assert list(notifications.channels_failing(PLATFORM)) == [channel]
    _due(delivery_id)
    commits(job_queue.run_all)
    assert len(receiver.requests) == 2  # given up: never tried again

    # The next delivery that gets through clears the mark.
    incident_event("43")
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)  # try 1 fails (the third 500)...
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(next_attempt_at=timezone.now())
    commits(job_queue.run_all)
    commits(notifications.notifications_catch_up)
    commits(job_queue.run_all)
    assert Channel.objects.filter(
        pk=channel.pk, failing_since__isnull=True, failing_at__isnull=True
    ).exists()


def test_the_catch_up_dispatches_leftovers_and_sends_overdue_deliveries(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    [lost] = commits(notifications.notifications_dispatch)
    job_queue.drop()  # the broker lost the delivery's job
    incident_event("43")  # and an event whose dispatch job was lost

    assert commits(notifications.notifications_catch_up) == 0  # not overdue yet
    Delivery.objects.filter(pk=lost).update(
        next_attempt_at=timezone.now() - notifications.CATCH_UP_GRACE
    )
    assert commits(notifications.notifications_catch_up) == 1
    commits(job_queue.run_all)
    assert len(receiver.requests) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_refused_job_is_left_to_the_catch_up(
    job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel_create(PLATFORM, "email", "ops@example.com")
    incident_event("42")
    job_queue.refusing = True
    [delivery_id] = commits(notifications.notifications_dispatch)  # no error
    assert Delivery.objects.get(pk=delivery_id).status == Delivery.Status.PENDING


def test_an_email_has_text_and_html_naming_the_store_its_local_times_and_its_page(
    job_queue: FakeQueue, commits: Callable[..., Any], settings: Any
) -> None:
    settings.SITE_URL = "https://monitor.example.com/"
    channel_create(PLATFORM, "email", "ops@example.com")
    incident_event("42", down_for=timedelta(minutes=40), event=IncidentEvent.Type.RESOLVED)
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)

    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    sentence = (
        "Store 42 was down from 2023-01-25 11:30 to 2023-01-25 12:10 (America/Chicago), "
        "40 min 00 s."
    )
    assert message.subject == sentence
    assert message.body == f"{sentence}\n  https://monitor.example.com/stores/42\n"
    [(html, kind)] = message.alternatives  # type: ignore[attr-defined]
    assert kind == "text/html"
    assert sentence in html
    assert '<a href="https://monitor.example.com/stores/42">' in html


def test_the_test_event_goes_through_the_real_delivery_path(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel = channel_create(PLATFORM, "webhook", receiver.url)
    commits(lambda: notifications.channel_test(PLATFORM, channel.pk))
    commits(job_queue.run_all)
    [request] = receiver.requests
    [event] = Webhook(channel.secret).verify(request.body, request.headers)["events"]
    assert (event["type"], event["incident"]) == ("test", None)
    assert DeliveryAttempt.objects.get().succeeded


def test_apprise_json_posts_to_the_receiver(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    channel_create(PLATFORM, "apprise", receiver.url.replace("http://", "json://"))
    incident_event("42")
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["title"] == "Store 42 went down at 2023-01-25 11:30 (America/Chicago)."
    assert "/stores/42" in body["message"]
    assert DeliveryAttempt.objects.get().succeeded


def test_a_failing_apprise_target_logs_apprises_reason(
    receiver: Receiver, job_queue: FakeQueue, commits: Callable[..., Any]
) -> None:
    receiver.statuses = [500]
    channel_create(PLATFORM, "apprise", receiver.url.replace("http://", "json://"))
    incident_event("42")
    commits(notifications.notifications_dispatch)
    commits(job_queue.run_all)
    [attempt] = DeliveryAttempt.objects.all()
    assert not attempt.succeeded
    assert "500" in attempt.error


def test_retry_waits_triple_up_to_the_maximum(settings: Any) -> None:
    settings.NOTIFY_RETRY_FIRST_SECONDS, settings.NOTIFY_RETRY_MAX_SECONDS = 10, 240
    waits = [notifications.retry_delay(n).total_seconds() for n in range(1, 7)]
    assert waits == [10, 30, 90, 240, 240, 240]
