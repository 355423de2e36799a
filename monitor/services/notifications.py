"""Notifications: incident events delivered to channels (webhooks, email, Apprise).

The evaluation records IncidentEvent rows in the transaction that changes an
incident (the outbox). The dispatcher (`notifications_dispatch`, the
DISPATCH job) takes every waiting event in one transaction, makes ONE
Delivery per channel holding all of its events (a storm of 300 stores is
one request per channel), marks the events dispatched, and sends the
deliveries' jobs once that commits. A channel of an organization receives its
organization's events only; a platform channel receives every event.

Each delivery is a job (DELIVER) that follows the report protocol's house
style (docs/architecture.md): a try claims the next attempt number under a
row lock, holding the claim for LEASE_SECONDS, and records its outcome only
while the row still carries that number. A delivered row is never sent
again; a try lost with its worker is taken over once its claim has lapsed
(by the redelivered task, or the catch-up). A failed try is retried with
backoff until NOTIFY_RETRY_HOURS after the delivery was made; a channel
that has failed for that long is marked failing. docs/notifications.md tells
the receivers' side.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from standardwebhooks.webhooks import Webhook

from monitor import jobqueue
from monitor.formatting import duration_text
from monitor.models import Channel, Delivery, DeliveryAttempt, IncidentEvent, new_webhook_secret
from monitor.scope import Scope

logger = logging.getLogger(__name__)

# A try that has not answered within this is a failure (retried).
TIMEOUT_SECONDS = 5
# How long a try's claim holds: well above the try's own bound (its timeout),
# so that only a try lost with its worker is ever taken over.
LEASE_SECONDS = 20
# A job may run a little before its delay is up (clocks of two machines).
EARLY_TOLERANCE = timedelta(seconds=1)
# The catch-up sends a pending delivery whose try is due for this long and
# that no job took: its job was lost (a stopped process, a broker restart).
CATCH_UP_GRACE = timedelta(seconds=15)
# The most overdue deliveries one catch-up sends (the next minute sends more).
CATCH_UP_BATCH = 1000
# The most events one delivery holds (a body's size stays bounded); more
# waiting events for one channel make several deliveries.
MAX_EVENTS_PER_DELIVERY = 1000
# The test event's type (POST /api/monitor/channels/<id>/test): no incident.
TEST_EVENT = "test"
USER_AGENT = "store-monitoring-notifications"


class ChannelInputError(ValueError):
    """A channel's definition is invalid (the message says why)."""


class ChannelNotFoundError(LookupError):
    """No channel with this id in the caller's scope."""


# ---- channels -------------------------------------------------------------------------------


def channel_create(scope: Scope, kind: str, target: str) -> Channel:
    """A new channel of the scope's organization (the platform's: None); a
    webhook's gets a new signing secret. ChannelInputError when invalid."""
    if kind not in Channel.Kind.values:
        raise ChannelInputError(f"kind must be one of {', '.join(Channel.Kind.values)}")
    target = target.strip()
    _validate_target(kind, target)
    secret = new_webhook_secret() if kind == Channel.Kind.WEBHOOK else ""
    return Channel.objects.create(
        kind=kind, target=target, secret=secret, organization=scope.organization
    )


def _validate_target(kind: str, target: str) -> None:
    if kind == Channel.Kind.WEBHOOK:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelInputError("url: a webhook's URL must be http:// or https:// with a host")
    elif kind == Channel.Kind.EMAIL:
        try:
            EmailValidator()(target)
        except ValidationError:
            raise ChannelInputError(f"to: {target!r} is not an email address") from None
        if parseaddr(target)[1] != target:
            raise ChannelInputError(f"to: {target!r} is not a bare email address")
    elif not apprise.Apprise().add(target):
        raise ChannelInputError(
            "url: not an Apprise URL (see https://github.com/caronc/apprise/wiki)"
        )


def channel_get(scope: Scope, channel_id: int) -> Channel:
    channel = scope.channels().filter(pk=channel_id).first()
    if channel is None:
        raise ChannelNotFoundError(f"no channel {channel_id}")
    return channel


def channel_delete(scope: Scope, channel_id: int) -> None:
    """Remove the channel with its deliveries and their log."""
    channel_get(scope, channel_id).delete()


def channels_failing(scope: Scope) -> QuerySet[Channel]:
    """The scope's channels marked failing (no success for NOTIFY_RETRY_HOURS)."""
    return scope.channels().filter(failing_at__isnull=False)


@dataclass(frozen=True)
class AttemptPage:
    total: int
    attempts: list[DeliveryAttempt]


def channel_attempts(scope: Scope, channel_id: int, *, limit: int, offset: int) -> AttemptPage:
    """The channel's delivery log, newest first."""
    channel = channel_get(scope, channel_id)
    log = DeliveryAttempt.objects.filter(channel=channel).order_by("-at", "-id")
    return AttemptPage(log.count(), list(log[offset : offset + limit]))


def channel_test(scope: Scope, channel_id: int) -> Delivery:
    """Deliver a test event to the channel, through the real delivery path
    (retries and the log included)."""
    channel = channel_get(scope, channel_id)
    event = {"id": str(uuid.uuid4()), "type": TEST_EVENT, "incident": None}
    with transaction.atomic():
        delivery = Delivery.objects.create(channel=channel, events=[event])
        transaction.on_commit(lambda: _send_deliveries([delivery.pk]))
    return delivery


# ---- dispatching ----------------------------------------------------------------------------


def notifications_dispatch() -> list[uuid.UUID]:
    """Hand every waiting event to its channels: one delivery per channel,
    in one transaction with marking the events dispatched; the deliveries'
    jobs are sent once it commits. The ids of the deliveries made.

    Waiting events are locked and those another dispatcher holds skipped
    (SKIP LOCKED on PostgreSQL; SQLite's transactions take the write lock at
    BEGIN), so two dispatchers never hand out the same event.
    """
    with transaction.atomic():
        events = list(
            IncidentEvent.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("created_at", "id")
        )
        if not events:
            return []
        organizations = {event.organization_id for event in events}
        channels = Channel.objects.filter(organization__isnull=True) | Channel.objects.filter(
            organization__in=[o for o in organizations if o is not None]
        )
        deliveries = [
            Delivery(channel=channel, events=chunk)
            for channel in channels.order_by("id")
            for chunk in _chunks(_body_events(events, channel))
        ]
        Delivery.objects.bulk_create(deliveries)
        IncidentEvent.objects.filter(pk__in=[event.pk for event in events]).update(
            dispatched_at=timezone.now()
        )
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _send_deliveries(ids))
    logger.info("dispatched %d events in %d deliveries", len(events), len(ids))
    return ids


def _body_events(events: Sequence[IncidentEvent], channel: Channel) -> list[dict[str, Any]]:
    """The events the channel receives, as a body lists them."""
    return [
        {"id": str(event.pk), "type": event.type, "incident": event.document}
        for event in events
        if channel.organization_id is None or event.organization_id == channel.organization_id
    ]


def _chunks(events: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(events), MAX_EVENTS_PER_DELIVERY):
        yield events[start : start + MAX_EVENTS_PER_DELIVERY]


def dispatch_on_commit() -> None:
    """Send the DISPATCH job once the current transaction commits (after an
    evaluation that recorded events); at once outside one."""
    transaction.on_commit(lambda: _send_quietly(DISPATCH, 0))


def notifications_catch_up() -> int:
    """The safety net, run every minute: dispatch the events left waiting (a
    lost DISPATCH job) and send again the deliveries whose try is overdue
    with no try in flight (a lost job, a killed worker). How many deliveries
    it sent."""
    notifications_dispatch()
    now = timezone.now()
    overdue = (
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now - CATCH_UP_GRACE
        )
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    ids = list(overdue)
    _send_deliveries(ids)
    return len(ids)


def _send_deliveries(ids: Sequence[uuid.UUID]) -> None:
    for delivery_id in ids:
        _send_quietly(DELIVER, str(delivery_id))


def _send_quietly(job: jobqueue.Job[Any], key: Any, delay_seconds: float = 0) -> None:
    """Send a job; a refusal (the broker is away) is logged: the catch-up sends
    it again, since the rows say what is owed."""
    try:
        jobqueue.current().send(job, key, delay_seconds=delay_seconds)
    except jobqueue.QueueUnavailableError:
        logger.warning("%s %s: the job queue refused it; the catch-up will send it", job.name, key)


# ---- delivering -----------------------------------------------------------------------------


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed try number `attempt`: NOTIFY_RETRY_FIRST_SECONDS,
    tripled each time up to NOTIFY_RETRY_MAX_SECONDS."""
    seconds = settings.NOTIFY_RETRY_FIRST_SECONDS * 3 ** min(attempt - 1, 20)
    return timedelta(seconds=min(seconds, settings.NOTIFY_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class Outcome:
    """What one try got: delivered or not, the HTTP status when one answered, why not."""

    delivered: bool
    status_code: int | None = None
    error: str = ""


@dataclass(frozen=True)
class _Claim:
    delivery: Delivery
    number: int


def delivery_run(delivery_id: str) -> None:
    """The DELIVER job: one try of the delivery, if it is pending and due."""
    claim = _claim(delivery_id)
    if not isinstance(claim, _Claim):
        if claim is not None:  # a try in flight: look again when its claim lapses
            _send_quietly(DELIVER, delivery_id, claim.total_seconds() + 1)
        return
    delivery = claim.delivery
    started = time.monotonic()
    try:
        outcome = _SENDERS[delivery.channel.kind](delivery.channel, delivery)
    except Exception as error:  # a sender's own fault must not lose the delivery
        logger.exception("delivery %s: sending failed", delivery_id)
        outcome = Outcome(False, error=f"internal error: {type(error).__name__}")
    duration_ms = round((time.monotonic() - started) * 1000)
    _record(claim, outcome, duration_ms)


def _claim(delivery_id: str) -> _Claim | timedelta | None:
    """Claim the next try: the claim, how long until a try in flight lapses, or
    None when there is nothing to do (delivered, given up, not yet due)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("channel")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return None
        now = timezone.now()
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            return delivery.claimed_until - now
        if delivery.next_attempt_at > now + EARLY_TOLERANCE:
            return None  # its own job comes then (or the catch-up)
        delivery.attempts += 1
        delivery.claimed_until = now + timedelta(seconds=LEASE_SECONDS)
        delivery.save(update_fields=["attempts", "claimed_until"])
    return _Claim(delivery, delivery.attempts)


def _record(claim: _Claim, outcome: Outcome, duration_ms: int) -> None:
    """Log the try, and record its outcome while the claim holds: delivered, a
    retry after the backoff, or given up after NOTIFY_RETRY_HOURS."""
    delivery, now = claim.delivery, timezone.now()
    give_up_at = delivery.created_at + timedelta(hours=settings.NOTIFY_RETRY_HOURS)
    delay = retry_delay(claim.number)
    with transaction.atomic():
        # Locked, so that its channel cannot be removed before this commits;
        # removed already (with its log), there is nothing to record.
        if not Delivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            logger.info("delivery %s was removed with its channel during a try", delivery.pk)
            return
        DeliveryAttempt.objects.create(
            delivery=delivery,
            channel_id=delivery.channel_id,
            number=claim.number,
            at=now,
            succeeded=outcome.delivered,
            status_code=outcome.status_code,
            error=outcome.error[:2000],
            duration_ms=duration_ms,
        )
        mine = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.PENDING, attempts=claim.number
        )
        channel = Channel.objects.filter(pk=delivery.channel_id)
        if outcome.delivered:
            mine.update(status=Delivery.Status.DELIVERED, finished_at=now, claimed_until=None)
            channel.update(last_success_at=now, failing_since=None, failing_at=None)
            return
        retry = now + delay < give_up_at
        if retry:
            recorded = mine.update(next_attempt_at=now + delay, claimed_until=None)
        else:
            recorded = mine.update(
                status=Delivery.Status.FAILED, finished_at=now, claimed_until=None
            )
        channel.filter(failing_since__isnull=True).update(failing_since=now)
        failing_for = timedelta(hours=settings.NOTIFY_RETRY_HOURS)
        channel.filter(failing_at__isnull=True, failing_since__lte=now - failing_for).update(
            failing_at=now
        )
        if recorded and retry:
            key = str(delivery.pk)
            transaction.on_commit(lambda: _send_quietly(DELIVER, key, delay.total_seconds()))
    logger.warning(
        "delivery %s to channel %d, try %d failed (%s)%s",
        delivery.pk,
        delivery.channel_id,
        claim.number,
        outcome.error,
        "" if retry else "; given up",
    )


# ---- the channels' kinds --------------------------------------------------------------------


class PrivateAddressError(OSError):
    """A channel's request would reach a private address (NOTIFY_ALLOW_PRIVATE_ADDRESSES)."""


def _refuse_private(address: str) -> None:
    """Refuse an address that is not on the public internet (loopback, private,
    link-local such as a cloud's metadata service), unless allowed: a channel
    must not make the service a way into its own network."""
    if settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES:
        return
    if not ipaddress.ip_address(address.split("%")[0]).is_global:
        raise PrivateAddressError(
            f"{address} is not a public address (NOTIFY_ALLOW_PRIVATE_ADDRESSES is off)"
        )


class _GuardedHTTPConnection(http.client.HTTPConnection):
    # The address actually connected to, after any DNS answer: no rebinding.
    def connect(self) -> None:
        super().connect()
        _refuse_private(self.sock.getpeername()[0])


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _refuse_private(self.sock.getpeername()[0])


class _GuardedHTTP(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        # The system's CA certificates and host name check, as urllib's own handler.
        return self.do_open(_GuardedHTTPSConnection, req, context=_TLS)


_TLS = ssl.create_default_context()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook's redirect is an answer of its own (a failure), not followed:
    urllib would follow it as a GET without the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy from the environment: the address checked is the receiver's own.
_HTTP = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _GuardedHTTP, _GuardedHTTPS, _NoRedirects
)


def _webhook(channel: Channel, delivery: Delivery) -> Outcome:
    """POST the events, signed per Standard Webhooks; any 2xx is delivered."""
    body = json.dumps({"events": delivery.events}, separators=(",", ":")).encode()
    message_id = f"msg_{delivery.pk.hex}"
    sent_at = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(channel.secret).sign(message_id, sent_at, body),
    }
    # The URL was checked to be http(s) when the channel was made.
    request = urllib.request.Request(  # noqa: S310
        channel.target, data=body, headers=headers, method="POST"
    )
    try:
        with _HTTP.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Outcome(True, status_code=response.status)
    except urllib.error.HTTPError as error:
        return Outcome(False, status_code=error.code, error=f"HTTP {error.code} {error.reason}")
    except TimeoutError:
        return Outcome(False, error=f"no answer within {TIMEOUT_SECONDS} s")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            return Outcome(False, error=f"no answer within {TIMEOUT_SECONDS} s")
        if isinstance(reason, PrivateAddressError):
            return Outcome(False, error=f"refused: {reason}")
        return Outcome(False, error=f"connection failed: {reason}")


def _email(channel: Channel, delivery: Delivery) -> Outcome:
    """An email through Django's email backend: plain text and a short HTML part."""
    message = EmailMultiAlternatives(
        subject=message_title(delivery.events),
        body=message_text(delivery.events),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[channel.target],
    )
    message.attach_alternative(message_html(delivery.events), "text/html")
    try:
        message.send()
    except smtplib.SMTPResponseException as error:
        return Outcome(False, error=f"SMTP {error.smtp_code}: {error.smtp_error!r}")
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(False, error=f"SMTP: {error}")
    return Outcome(True)


def _apprise(channel: Channel, delivery: Delivery) -> Outcome:
    """A notification through Apprise (Slack, Teams, Telegram, …); Apprise's own
    warnings are the error."""
    notifier = apprise.Apprise()
    plugin = apprise.Apprise.instantiate(channel.target)
    if plugin is None:
        return Outcome(False, error="not an Apprise URL")
    if plugin.protocol in _APPRISE_ANY_HOST or plugin.secure_protocol in _APPRISE_ANY_HOST:
        try:
            for *_, address in socket.getaddrinfo(plugin.host, None):
                _refuse_private(str(address[0]))
        except PrivateAddressError as error:
            return Outcome(False, error=f"refused: {error}")
        except OSError as error:
            return Outcome(False, error=f"connection failed: {error}")
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        notifier.add(plugin)
        delivered = notifier.notify(
            title=message_title(delivery.events), body=message_text(delivery.events)
        )
        log: str = captured.getvalue()
    if delivered:
        return Outcome(True)
    return Outcome(False, error=log.strip() or "Apprise could not deliver it")


# Apprise's plain HTTP notifications, which post to any host the URL names
# (its other services go to their own, or to a self-hosted server's host as given).
_APPRISE_ANY_HOST = {"json", "jsons", "xml", "xmls", "form", "forms"}

_SENDERS = {
    Channel.Kind.WEBHOOK.value: _webhook,
    Channel.Kind.EMAIL.value: _email,
    Channel.Kind.APPRISE.value: _apprise,
}


# ---- what people read -----------------------------------------------------------------------


def _local(instant: str) -> str:
    """An ISO local instant as "2023-01-25 11:30"."""
    return datetime.fromisoformat(instant).strftime("%Y-%m-%d %H:%M")


def event_sentence(event: dict[str, Any]) -> str:
    """One event in a sentence: "Store 42 went down at 2023-01-25 11:30 (America/Chicago)."."""
    incident = event["incident"]
    if incident is None:
        return "A test notification from store monitoring: this channel works."
    store, zone = incident["store_id"], incident["timezone"]
    started = _local(incident["started_at_local"])
    if event["type"] == IncidentEvent.Type.OPENED:
        return f"Store {store} went down at {started} ({zone})."
    if event["type"] == IncidentEvent.Type.SILENT:
        return f"Store {store}, down since {started} ({zone}), has sent no poll since."
    if incident["ended_at_local"] is None:
        return f"Store {store} is down since {started} ({zone}) (corrected)."
    ended = _local(incident["ended_at_local"])
    length = duration_text(timedelta(seconds=incident["duration_seconds"]))
    corrected = " (corrected)" if event["type"] == IncidentEvent.Type.UPDATED else ""
    return f"Store {store} was down from {started} to {ended} ({zone}), {length}{corrected}."


def store_link(event: dict[str, Any]) -> str | None:
    """The absolute link to the event's store page (SITE_URL), if it has a store."""
    if event["incident"] is None:
        return None
    path = reverse("pages:store", args=[event["incident"]["store_id"]])
    return settings.SITE_URL.rstrip("/") + path


def message_title(events: Sequence[dict[str, Any]]) -> str:
    if len(events) == 1:
        return event_sentence(events[0])
    return f"Store monitoring: {len(events)} incident events"


def message_text(events: Sequence[dict[str, Any]]) -> str:
    lines = []
    for event in events:
        link = store_link(event)
        lines.append(event_sentence(event) + (f"\n  {link}" if link else ""))
    return "\n".join(lines) + "\n"


def message_html(events: Sequence[dict[str, Any]]) -> str:
    items = format_html_join(
        "",
        "<li>{} {}</li>",
        (
            (
                event_sentence(event),
                format_html('<a href="{}">store page</a>', link) if link else "",
            )
            for event in events
            for link in [store_link(event)]
        ),
    )
    return format_html("<p>Store monitoring</p><ul>{}</ul>", items)


def _dispatch_job(_: int) -> None:
    notifications_dispatch()


def _catch_up_job(_: int) -> None:
    notifications_catch_up()


# The jobs (their key is unused for the two that take every row: send 0).
DISPATCH: jobqueue.Job[int] = jobqueue.Job("monitor.notifications_dispatch", _dispatch_job)
DELIVER: jobqueue.Job[str] = jobqueue.Job("monitor.notification_deliver", delivery_run)
CATCH_UP: jobqueue.Job[int] = jobqueue.Job("monitor.notifications_catch_up", _catch_up_job)
