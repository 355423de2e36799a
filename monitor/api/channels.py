"""The notification channels' API (docs/notifications.md): create, list and remove
channels, send one a test event, and read its delivery log.

Plain function views over monitor.services.notifications, scoped like every
endpoint: an organization's key reaches its own channels (which receive its
stores' events), a platform key every channel (its own receive every event).
Reads take a read key, changes a write key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import apprise
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.api.access import ReadOrWriteScope, WriteScope, request_scope
from monitor.api.endpoints import INVALID, NOT_JSON, WRONG_METHOD, error_answer, valid_query
from monitor.api.serializers import StrictQuerySerializer, refuse_unknown_names
from monitor.api.store_serializers import InstantField
from monitor.api.throttles import ReadOrWriteThrottle, WriteThrottle
from monitor.models import Channel, DeliveryAttempt
from monitor.services import notifications
from monitor.services.stores import MAX_OFFSET

T = TypeVar("T")

_NOT_FOUND = error_answer("No channel has this id (among the caller's).")
_URL_KINDS = (Channel.Kind.WEBHOOK, Channel.Kind.APPRISE)


class ChannelRequestSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    url = serializers.CharField(
        required=False,
        help_text="webhook: the http(s) URL to POST to; apprise: an Apprise URL "
        "(slack://…, tgram://…, json://…).",
    )
    to = serializers.CharField(required=False, help_text="email: the address to write to.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_unknown_names(self, "field")
        kind = attrs["kind"]
        wanted, unwanted = ("url", "to") if kind in _URL_KINDS else ("to", "url")
        named = f"{'a' if kind == Channel.Kind.WEBHOOK else 'an'} {kind} channel"
        if wanted not in attrs:
            raise serializers.ValidationError(f"{named} needs {wanted!r}")
        if unwanted in attrs:
            raise serializers.ValidationError(f"{named} takes no {unwanted!r}")
        return attrs


class ChannelSerializer(serializers.Serializer[Channel]):
    id = serializers.IntegerField(help_text="/api/monitor/channels/<id>")
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    url = serializers.SerializerMethodField(
        help_text="A webhook's URL; an Apprise URL with its secrets masked. Null for email."
    )
    to = serializers.SerializerMethodField(help_text="An email channel's address; else null.")
    organization = serializers.CharField(
        source="organization.slug",
        allow_null=True,
        help_text="Whose it is (its slug): it receives that organization's stores' events; "
        "null: the platform's, which receives every event.",
    )
    created_at = InstantField()
    last_success_at = InstantField(allow_null=True, help_text="The last delivery that got through.")
    failing_since = InstantField(
        allow_null=True, help_text="The first failed try since the last success."
    )
    failing = serializers.SerializerMethodField(
        help_text="True once it has failed for 24 hours (NOTIFY_RETRY_HOURS) with no success."
    )

    def get_url(self, channel: Channel) -> str | None:
        if channel.kind == Channel.Kind.WEBHOOK:
            return channel.target
        if channel.kind == Channel.Kind.APPRISE:
            plugin = apprise.Apprise.instantiate(channel.target)
            return None if plugin is None else str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
        return None

    def get_to(self, channel: Channel) -> str | None:
        return channel.target if channel.kind == Channel.Kind.EMAIL else None

    def get_failing(self, channel: Channel) -> bool:
        return channel.failing_at is not None


class ChannelCreatedSerializer(ChannelSerializer):
    secret = serializers.SerializerMethodField(
        help_text="A webhook's signing secret (whsec_…): shown this once, never again. Verify "
        "each delivery's webhook-signature with it (Standard Webhooks). Null for the others."
    )

    def get_secret(self, channel: Channel) -> str | None:
        return channel.secret or None


class ChannelListSerializer(serializers.Serializer[Any]):
    channels = ChannelSerializer(many=True, help_text="Oldest first.")


class TestSentSerializer(serializers.Serializer[Any]):
    delivery_id = serializers.UUIDField(
        help_text="The test delivery (its webhook-id is msg_ and this id's hex); its tries "
        "appear in /api/monitor/channels/<id>/deliveries."
    )


class DeliveryAttemptSerializer(serializers.Serializer[DeliveryAttempt]):
    delivery_id = serializers.UUIDField(help_text="The delivery: the same for each of its tries.")
    attempt = serializers.IntegerField(source="number", help_text="1 for a delivery's first try.")
    at = InstantField()
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The HTTP status the receiver answered; null if none did."
    )
    error = serializers.CharField(help_text="Why the try failed; empty when it succeeded.")
    duration_ms = serializers.IntegerField()


class DeliveryLogSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="The channel's tries.")
    deliveries = DeliveryAttemptSerializer(many=True, help_text="Newest first.")


class DeliveryLogQuerySerializer(StrictQuerySerializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=500)
    # Bounded: SQLite refuses an OFFSET past 64 bits (a 500, not a 400).
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_OFFSET)


def _found(read: Callable[[], T]) -> T:
    try:
        return read()
    except notifications.ChannelNotFoundError as error:
        raise NotFound(str(error)) from None


_WEBHOOK = {
    "id": 1,
    "kind": "webhook",
    "url": "https://example.com/store-alerts",
    "to": None,
    "organization": None,
    "created_at": "2026-12-07T17:40:00+00:00",
    "last_success_at": None,
    "failing_since": None,
    "failing": False,
}


@extend_schema(
    methods=["GET"],
    operation_id="channels",
    summary="Notification channels",
    responses={200: ChannelListSerializer, 405: WRONG_METHOD},
    examples=[OpenApiExample("One webhook", value={"channels": [_WEBHOOK]})],
)
@extend_schema(
    methods=["POST"],
    operation_id="channel_create",
    summary="Add a channel: a webhook, an email address or an Apprise URL",
    request=ChannelRequestSerializer,
    responses={
        201: ChannelCreatedSerializer,
        400: error_answer("The kind, URL or address is invalid (why); nothing stored."),
        405: WRONG_METHOD,
        415: NOT_JSON,
    },
    examples=[
        OpenApiExample(
            "Webhook",
            value={"kind": "webhook", "url": "https://example.com/store-alerts"},
            request_only=True,
        ),
        OpenApiExample(
            "Email", value={"kind": "email", "to": "ops@example.com"}, request_only=True
        ),
        OpenApiExample(
            "Slack through Apprise",
            value={"kind": "apprise", "url": "slack://TokenA/TokenB/TokenC/#alerts"},
            request_only=True,
        ),
        OpenApiExample(
            "Made",
            value={**_WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
            response_only=True,
        ),
    ],
)
@api_view(["GET", "POST"])
@permission_classes([ReadOrWriteScope])
@throttle_classes([ReadOrWriteThrottle])
def channels(request: Request) -> Response:
    scope = request_scope(request)
    if request.method == "GET":
        listed = scope.channels().select_related("organization").order_by("created_at", "id")
        return Response(ChannelListSerializer({"channels": listed}).data)
    if not isinstance(request.data, dict):
        raise ParseError("the body must be a JSON object: {kind, url} or {kind, to}")
    body = ChannelRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    values = body.validated_data
    try:
        channel = notifications.channel_create(
            scope, values["kind"], values.get("url", values.get("to", ""))
        )
    except notifications.ChannelInputError as error:
        raise ParseError(str(error)) from None
    return Response(ChannelCreatedSerializer(channel).data, status=201)


def _writes(*methods: str) -> Callable[[Callable[..., Any]], Any]:
    """api_view for the views that change channels: a write key, the write throttle."""

    def decorate(view: Callable[..., Any]) -> Any:
        view = permission_classes([WriteScope])(throttle_classes([WriteThrottle])(view))
        return api_view(list(methods))(view)

    return decorate


@extend_schema(
    operation_id="channel_delete",
    summary="Remove a channel, with its deliveries and their log",
    request=None,
    responses={204: OpenApiResponse(description="Removed."), 404: _NOT_FOUND, 405: WRONG_METHOD},
)
@_writes("DELETE")
def channel(request: Request, channel_id: int) -> Response:
    _found(lambda: notifications.channel_delete(request_scope(request), channel_id))
    return Response(status=204)


@extend_schema(
    operation_id="channel_test",
    summary="Send the channel a test event, through the real delivery path",
    description='The event is {"id", "type": "test", "incident": null}. It is '
    "delivered, and retried, as every delivery is: its tries appear in the channel's log.",
    request=None,
    responses={202: TestSentSerializer, 404: _NOT_FOUND, 405: WRONG_METHOD},
)
@_writes("POST")
def channel_test(request: Request, channel_id: int) -> Response:
    delivery = _found(lambda: notifications.channel_test(request_scope(request), channel_id))
    return Response(TestSentSerializer({"delivery_id": delivery.pk}).data, status=202)


@extend_schema(
    operation_id="channel_deliveries",
    summary="A channel's delivery log: every try, newest first",
    parameters=[DeliveryLogQuerySerializer],
    responses={200: DeliveryLogSerializer, 400: INVALID, 404: _NOT_FOUND, 405: WRONG_METHOD},
    examples=[
        OpenApiExample(
            "A retry that got through",
            value={
                "total": 2,
                "deliveries": [
                    {
                        "delivery_id": "3f0c2a8e-5b7d-4d38-9a51-0c1e6f2b7a90",
                        "attempt": 2,
                        "at": "2026-12-07T17:41:10+00:00",
                        "succeeded": True,
                        "status_code": 204,
                        "error": "",
                        "duration_ms": 41,
                    },
                    {
                        "delivery_id": "3f0c2a8e-5b7d-4d38-9a51-0c1e6f2b7a90",
                        "attempt": 1,
                        "at": "2026-12-07T17:41:00+00:00",
                        "succeeded": False,
                        "status_code": 503,
                        "error": "HTTP 503 Service Unavailable",
                        "duration_ms": 38,
                    },
                ],
            },
        )
    ],
)
@api_view(["GET"])
def channel_deliveries(request: Request, channel_id: int) -> Response:
    query = valid_query(DeliveryLogQuerySerializer, request)
    page = _found(
        lambda: notifications.channel_attempts(request_scope(request), channel_id, **query)
    )
    return Response(DeliveryLogSerializer({"total": page.total, "deliveries": page.attempts}).data)
