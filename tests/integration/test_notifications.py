"""Notifications end to end, with real receivers: an HTTP server on a thread of the
test (webhooks, and Apprise's json://), a real SMTP server (aiosmtpd), the
embedded set-up's job threads on both databases, and a Celery worker killed in
the middle of a delivery (PostgreSQL and Redis).

Retries wait for real here, made short by the settings (NOTIFY_RETRY_FIRST_SECONDS);
the tests wait on conditions (a request arriving), never a fixed time.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from celery import Celery
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings
from standardwebhooks import Webhook

from monitor import jobqueue
from monitor.jobqueue.embedded import EmbeddedQueue
from monitor.models import Delivery, DeliveryAttempt, IncidentEvent, Organization
from monitor.scope import PLATFORM, Scope
from monitor.services import notifications
from monitor.services.notifications import DELIVER, channel_create
from store_monitoring.devstack import ROOT, Service, free_port, worker_command, worker_ready
from tests.support.incidents import incident_event, incident_storm
from tests.support.jobqueue import FakeQueue
from tests.support.receiver import Received, Receiver, receiving

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAIT = 30.0  # seconds: a delivery that has not arrived by then is a failure


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedQueue]:
    """The embedded set-up's job threads, this test's own."""
    embedded = EmbeddedQueue(threads=1, process_started=timezone.now(), between_jobs=lambda: None)
    monkeypatch.setattr(jobqueue, "current", lambda: embedded)
    yield embedded
    assert embedded.join(WAIT), "delivery jobs still running"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


class Mailbox:
    """An aiosmtpd handler keeping every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(  # noqa: N802  # aiosmtpd's name for the hook
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        self.arrived.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(settings: Settings) -> Iterator[Mailbox]:
    """A real SMTP server that Django's SMTP backend sends to."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.SITE_URL = "https://monitor.example.com"
    try:
        yield box
    finally:
        controller.stop()


def _evaluation(*events: Callable[[], IncidentEvent]) -> list[IncidentEvent]:
    """Record events in one transaction and dispatch once it commits, as an evaluation does."""
    with transaction.atomic():
        recorded = [record() for record in events]
        notifications.dispatch_on_commit()
    return recorded


# ---- the embedded set-up, on both databases ---------------------------------------------------


def test_one_evaluation_reaches_a_webhook_an_inbox_and_apprise(
    queue: EmbeddedQueue, receiver: Receiver, mailbox: Mailbox
) -> None:
    with receiving() as chat:
        hook = channel_create(PLATFORM, "webhook", receiver.url)
        channel_create(PLATFORM, "email", "ops@example.com")
        channel_create(PLATFORM, "apprise", chat.url.replace("http://", "json://"))
        [event] = _evaluation(
            lambda: incident_event(
                "42", down_for=timedelta(minutes=40), event=IncidentEvent.Type.RESOLVED
            )
        )
        [request] = receiver.wait_for(1, WAIT)
        [posted] = chat.wait_for(1, WAIT)
        assert mailbox.arrived.wait(WAIT)
        assert queue.join(WAIT)

    body = Webhook(hook.secret).verify(request.body, request.headers)
    assert body == {
        "events": [{"id": str(event.pk), "type": "incident.resolved", "incident": event.document}]
    }
    sentence = (
        "Store 42 was down from 2023-01-25 11:30 to 2023-01-25 12:10 (America/Chicago), "
        "40 min 00 s."
    )
    [message] = mailbox.messages
    assert message["To"] == "ops@example.com"
    assert message["Subject"] == sentence
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    lines = text.get_content().splitlines()  # CRLF over SMTP
    assert lines == [sentence, "  https://monitor.example.com/stores/42"]
    assert '<a href="https://monitor.example.com/stores/42">' in html.get_content()
    assert b"America/Chicago" in posted.body
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 3


def test_polls_posted_over_http_reach_a_webhook_as_an_opened_incident(
    queue: EmbeddedQueue, receiver: Receiver, client: Client
) -> None:
    """The whole way: a poll load commits, the evaluation records the event, the
    dispatcher and the delivery run on the job threads, the receiver verifies it."""
    hook = channel_create(PLATFORM, "webhook", receiver.url)
    now = timezone.now().replace(microsecond=0)
    polls = [
        {"store_id": "live-1", "status": status, "timestamp_utc": (now - ago).isoformat()}
        for status, ago in [("active", timedelta(minutes=10)), ("inactive", timedelta(minutes=2))]
    ]
    answer = client.post("/api/monitor/polls", polls, content_type="application/json")
    assert answer.status_code == 200, answer.content

    [request] = receiver.wait_for(1, WAIT)
    assert queue.join(WAIT)
    [event] = Webhook(hook.secret).verify(request.body, request.headers)["events"]
    assert event["type"] == "incident.opened"
    assert event["incident"]["store_id"] == "live-1"
    assert event["incident"]["started_at"] == (now - timedelta(minutes=6)).isoformat()


def test_a_receiver_failing_twice_gets_the_third_try_with_the_same_webhook_id(
    queue: EmbeddedQueue, receiver: Receiver, settings: Settings
) -> None:
    settings.NOTIFY_RETRY_FIRST_SECONDS = 1  # then 3 s: the test waits 4 s, not 40
    receiver.statuses = [500, 503]
    hook = channel_create(PLATFORM, "webhook", receiver.url)
    _evaluation(lambda: incident_event("42"))

    requests = receiver.wait_for(3, WAIT)
    assert queue.join(WAIT)

    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for request in requests:
        Webhook(hook.secret).verify(request.body, request.headers)
    log = list(DeliveryAttempt.objects.order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert timedelta(seconds=1) <= log[1].at - log[0].at < timedelta(seconds=15)
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert len(receiver.requests) == 3


def test_a_storm_of_300_is_one_request_per_channel(
    queue: EmbeddedQueue, receiver: Receiver
) -> None:
    with receiving() as other:
        first = channel_create(PLATFORM, "webhook", receiver.url)
        second = channel_create(PLATFORM, "webhook", other.url)
        with transaction.atomic():
            incident_storm(300)
            notifications.dispatch_on_commit()
        [one] = receiver.wait_for(1, WAIT)
        [two] = other.wait_for(1, WAIT)
        assert queue.join(WAIT)
        assert (len(receiver.requests), len(other.requests)) == (1, 1)

    for channel, request in [(first, one), (second, two)]:
        events = Webhook(channel.secret).verify(request.body, request.headers)["events"]
        assert sorted(e["incident"]["store_id"] for e in events) == sorted(
            f"storm-{n}" for n in range(300)
        )


def test_each_organizations_channel_gets_its_stores_events_and_the_platform_all(
    queue: EmbeddedQueue,
) -> None:
    acme = Organization.objects.create(slug="acme", name="Acme")
    zeta = Organization.objects.create(slug="zeta", name="Zeta")
    with receiving() as to_acme, receiving() as to_zeta, receiving() as to_platform:
        channel_create(Scope(acme), "webhook", to_acme.url)
        channel_create(Scope(zeta), "webhook", to_zeta.url)
        channel_create(PLATFORM, "webhook", to_platform.url)
        _evaluation(
            lambda: incident_event("a-1", organization=acme),
            lambda: incident_event("a-2", organization=acme),
            lambda: incident_event("platform-1"),
        )
        to_acme.wait_for(1, WAIT)
        to_platform.wait_for(1, WAIT)
        assert queue.join(WAIT)
        received = {
            name: [[e["incident"]["store_id"] for e in _body(r)["events"]] for r in box.requests]
            for name, box in [("acme", to_acme), ("zeta", to_zeta), ("platform", to_platform)]
        }
    assert received == {
        "acme": [["a-1", "a-2"]],
        "zeta": [],
        "platform": [["a-1", "a-2", "platform-1"]],
    }


def _body(request: Received) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(request.body)
    return answer


def test_concurrent_dispatchers_never_hand_out_an_event_twice(job_queue: FakeQueue) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent dispatchers need PostgreSQL (SQLite runs one writer at a time)")
    channel_create(PLATFORM, "email", "ops@example.com")
    events = incident_storm(200)
    start = threading.Barrier(4)

    def dispatch() -> None:
        start.wait(WAIT)
        try:
            notifications.notifications_dispatch()
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    handed = [e["id"] for d in Delivery.objects.all() for e in d.events]
    assert sorted(handed) == sorted(str(e.pk) for e in events)  # each once
    assert not IncidentEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_the_readmes_receiver_verifies_a_real_delivery(
    queue: EmbeddedQueue, tmp_path: Path
) -> None:
    """The receiver of docs/notifications.md (and the README), run as written
    but for its secret and port."""
    docs = (ROOT / "docs" / "notifications.md").read_text()
    [example] = re.findall(r"```python\n(.*?)```", docs, re.DOTALL)
    assert example in (ROOT / "README.md").read_text()
    port = free_port()
    hook = channel_create(PLATFORM, "webhook", f"http://127.0.0.1:{port}/")
    program = tmp_path / "receiver.py"
    program.write_text(
        example.replace('"whsec_…"', repr(hook.secret)).replace('("", 8080)', f'("", {port})')
    )
    with subprocess.Popen(
        [sys.executable, "-u", str(program)], stdout=subprocess.PIPE, text=True
    ) as served:
        try:
            _wait_listening(port)
            _evaluation(lambda: incident_event("42"))
            assert served.stdout is not None
            assert served.stdout.readline() == "incident.opened 42\n"
            assert queue.join(WAIT)
        finally:
            served.kill()
    [attempt] = DeliveryAttempt.objects.all()
    assert (attempt.succeeded, attempt.status_code) == (True, 204)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ---- a Celery worker killed mid-delivery (PostgreSQL, Redis) ------------------------------------


def test_a_worker_killed_mid_delivery_delivers_after_restart_and_never_twice(
    launch: Callable[..., Service], redis_url: str, receiver: Receiver, job_queue: FakeQueue
) -> None:
    hook = channel_create(PLATFORM, "webhook", receiver.url)
    incident_event("42")
    notifications.notifications_dispatch()  # the delivery made, its job held here
    [delivery_id] = job_queue.keys(DELIVER)
    job_queue.drop()
    client = Celery(broker=redis_url, set_as_current=False)
    receiver.hold = threading.Event()  # the receiver keeps the first try waiting

    allowed = {"NOTIFY_ALLOW_PRIVATE_ADDRESSES": "true"}  # the receiver is on 127.0.0.1
    worker = launch("worker-1", worker_command(), worker_ready, **allowed)
    client.send_task(DELIVER.name, args=[delivery_id])
    receiver.wait_for(1, WAIT)
    worker.kill()  # SIGKILL, mid-request: the try was claimed, its outcome never recorded
    receiver.hold.set()
    receiver.hold = None
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1)

    # Redis hands the unacknowledged task to the restarted worker, which waits
    # for the lost try's claim to lapse, then tries again.
    restarted = launch(
        "worker-2", worker_command(), worker_ready, CELERY_VISIBILITY_TIMEOUT="1", **allowed
    )
    requests = receiver.wait_for(2, WAIT + notifications.LEASE_SECONDS)
    _wait(lambda: Delivery.objects.get().status == Delivery.Status.DELIVERED)

    assert len({r.headers["webhook-id"] for r in requests}) == 1
    Webhook(hook.secret).verify(requests[1].body, requests[1].headers)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 2
    [attempt] = DeliveryAttempt.objects.all()  # the killed try left no outcome
    assert (attempt.number, attempt.succeeded) == (2, True)

    # Delivered: sent again by mistake, the job sends nothing.
    again = client.send_task(DELIVER.name, args=[delivery_id])
    _wait(lambda: f"[{again.id}] succeeded" in restarted.log())
    notifications.notifications_catch_up()
    assert job_queue.keys(DELIVER) == []
    assert len(receiver.requests) == 2


def _wait(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)
