"""Bodies of the store API (and their OpenAPI schema): monitor.services.stores as JSON."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitor.api.serializers import AsOfField, StrictQuerySerializer, refuse_unknown_names
from monitor.services.stores import (
    MAX_LIMIT,
    MAX_OFFSET,
    STORE_ORDERS,
    Figures,
    Interval,
    PollView,
    Segment,
    StoreStory,
)


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field[datetime, str, str, Any]):
    """An aware instant as ISO 8601 with its own offset (UTC, or the store's local time)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


# Python's isoformat() of a local instant: its offset may have seconds (a zone's
# local mean time, Africa/Monrovia's until 1972), which `date-time` cannot say.
LOCAL_INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?"
    r"[+-][0-9]{2}:[0-9]{2}(:[0-9]{2})?$"
)
# A stored time of day, as isoformat() writes it: not `format: time` (RFC 3339's
# needs an offset, and a wall-clock time has none).
WALL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{6})?$"


@extend_schema_field({"type": "string", "pattern": LOCAL_INSTANT_PATTERN})
class LocalInstantField(InstantField):
    """A local instant, with the store's offset at that instant."""


@extend_schema_field({"type": "string", "pattern": WALL_TIME_PATTERN})
class WallTimeField(serializers.Field[time, str, str, Any]):
    """A local time of day (HH:MM:SS[.ffffff]); null for a closed row's (§10.1)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: time) -> str:
        return value.isoformat()


@extend_schema_field({"type": "string", "enum": ["active", "inactive"]})
class StatusField(serializers.Field[bool, str, str, Any]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: bool) -> str:
        return _status(value)


def _status(active: bool) -> str:
    return "active" if active else "inactive"


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


class KnownQuerySerializer(StrictQuerySerializer):
    """Query parameters where a misspelt name is an error too, not silently ignored."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_unknown_names(self, "parameter")
        return attrs


class StoreListQuerySerializer(KnownQuerySerializer):
    search = serializers.CharField(
        required=False,
        default="",
        trim_whitespace=False,
        # Said in the schema: DRF refuses a NUL in any text (no stored id holds one).
        validators=[RegexValidator(r"^[^\x00]*$", message="a NUL character is not allowed")],
        help_text="Only stores whose id starts with this text (exact, case-sensitive).",
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)
    order = serializers.ChoiceField(
        choices=list(STORE_ORDERS),
        default="id",
        help_text="id: by store id; last_poll: stalest first (never polled first); "
        "-last_poll: most recently polled first.",
    )
    organization = serializers.SlugField(
        required=False,
        help_text="Only this organization's stores (a platform key's filter; an "
        "organization's key sees its own stores whatever this says, and no others).",
    )


class StoreQuerySerializer(KnownQuerySerializer):
    as_of = AsOfField(
        required=False,
        help_text="The instant, as for reports (UTC when no offset is given). "
        "Default: the latest stored poll.",
    )


class StoreSummarySerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    timezone = serializers.CharField()
    timezone_is_default = serializers.BooleanField()
    last_poll_at = InstantField(allow_null=True, help_text="The latest stored poll.")
    last_poll_status = StatusField(source="last_poll_active", allow_null=True)
    polls_last_week = serializers.IntegerField(
        help_text="Polls in the week up to the latest stored poll (of any store)."
    )


class StoreListSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="Stores matching the search.")
    as_of = InstantField(allow_null=True, help_text="The latest stored poll.")
    stores = StoreSummarySerializer(many=True)


class HoursRowSerializer(serializers.Serializer[Any]):
    day = serializers.IntegerField(help_text="0 = Monday … 6 = Sunday")
    start_time_local = WallTimeField(
        source="start", help_text="Both null: closed that day (§10.1)."
    )
    end_time_local = WallTimeField(source="end")


class IntervalSerializer(serializers.Serializer[Any]):
    start = InstantField(help_text="UTC, truncated to the microsecond.")
    end = InstantField()
    start_local = LocalInstantField(help_text="The store's local time, with its offset.")
    end_local = LocalInstantField()
    minutes = serializers.FloatField(help_text="The exact length, in minutes.")

    def to_representation(self, instance: Interval) -> dict[str, Any]:
        return _interval(instance)


class SegmentSerializer(IntervalSerializer):
    status = StatusField(source="active")

    def to_representation(self, instance: Interval) -> dict[str, Any]:
        assert isinstance(instance, Segment)
        return _segment(instance)


class PollSerializer(serializers.Serializer[Any]):
    at = InstantField()
    at_local = LocalInstantField()
    status = StatusField(source="active")
    holds_from = InstantField(
        allow_null=True, help_text="Midpoint with the previous poll listed (§5)."
    )
    holds_until = InstantField(allow_null=True, help_text="Midpoint with the next poll.")

    def to_representation(self, instance: PollView) -> dict[str, Any]:
        return _poll(instance)


class LastPollSerializer(serializers.Serializer[Any]):
    at = InstantField()
    status = StatusField(source="active")
    age_seconds = serializers.FloatField(help_text="Seconds from the poll to the as-of instant.")


class FiguresSerializer(serializers.Serializer[Any]):
    """The report row's six cells and each window's business time, as the CSV prints them
    (minutes for the last hour, hours for the day and the week)."""

    uptime_last_hour = serializers.CharField()
    uptime_last_day = serializers.CharField()
    uptime_last_week = serializers.CharField()
    downtime_last_hour = serializers.CharField()
    downtime_last_day = serializers.CharField()
    downtime_last_week = serializers.CharField()
    business_last_hour = serializers.CharField()
    business_last_day = serializers.CharField()
    business_last_week = serializers.CharField()

    def to_representation(self, instance: Figures) -> dict[str, str]:
        return _figures(instance)


class SpecialTimesSerializer(serializers.Serializer[Any]):
    start_time_local = WallTimeField(help_text="Both null: closed.")
    end_time_local = WallTimeField()


class StorySpecialDateSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(help_text="A local date of the week window.")
    closed = serializers.BooleanField(help_text="No row opens time: closed all that date.")
    rows = SpecialTimesSerializer(many=True)


class ExcludedPeriodSerializer(IntervalSerializer):
    id = serializers.IntegerField()
    store_id = serializers.CharField(help_text="* for an exclusion of every store.")
    reason = serializers.CharField()


class StoreStorySerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    timezone = serializers.CharField()
    timezone_is_default = serializers.BooleanField()
    as_of = InstantField(allow_null=True)
    reported = serializers.BooleanField(
        help_text="False when the store has no poll at or before as_of: no figures (§3)."
    )
    message = serializers.SerializerMethodField()
    business_hours = HoursRowSerializer(many=True)
    last_poll = serializers.SerializerMethodField()
    figures = FiguresSerializer(allow_null=True)
    business_intervals = IntervalSerializer(many=True, help_text="Within the week window.")
    outages = IntervalSerializer(many=True, help_text="Business time ∩ week ∩ inactive (§8).")
    segments = SegmentSerializer(many=True, help_text="Business time ∩ week, by status.")
    polls = PollSerializer(many=True, help_text="The week window's, and the last before it.")
    special_dates = StorySpecialDateSerializer(
        many=True, help_text="The week's local dates with special hours (§10.2)."
    )
    exclusions = ExcludedPeriodSerializer(
        many=True,
        help_text="The exclusions reaching the week (§10.3), whole: neither uptime nor downtime.",
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_message(self, story: StoreStory) -> str:
        if story.reported and story.as_of is not None:
            return f"the store's row of the report as of {story.as_of.isoformat()}"
        if story.as_of is None:
            return "no polls are stored yet"
        return f"no poll at or before {story.as_of.isoformat()}: the store is not reported"

    @extend_schema_field(LastPollSerializer(allow_null=True))
    def get_last_poll(self, story: StoreStory) -> dict[str, Any] | None:
        if story.last_poll is None:
            return None
        return {
            "at": story.last_poll.at.isoformat(),
            "status": _status(story.last_poll.active),
            "age_seconds": story.last_poll_age_seconds,
        }

    def to_representation(self, instance: StoreStory) -> dict[str, Any]:
        # By hand, as the fields above declare it: a week has hundreds of polls
        # and segments, and DRF's field-by-field rendering (with a deep copy of
        # every nested serializer) would be a third of the response's time.
        story = instance
        return {
            "store_id": story.store_id,
            "timezone": story.timezone,
            "timezone_is_default": story.timezone_is_default,
            "as_of": _iso(story.as_of),
            "reported": story.reported,
            "message": self.get_message(story),
            "business_hours": [
                {
                    "day": row.day,
                    "start_time_local": _time(row.start_time_local),
                    "end_time_local": _time(row.end_time_local),
                }
                for row in story.business_hours
            ],
            "last_poll": self.get_last_poll(story),
            "figures": None if story.figures is None else _figures(story.figures),
            "business_intervals": [_interval(i) for i in story.business_intervals],
            "outages": [_interval(i) for i in story.outages],
            "segments": [_segment(s) for s in story.segments],
            "polls": [_poll(p) for p in story.polls],
            "special_dates": [
                {
                    "date": special.date.isoformat(),
                    "closed": special.closed,
                    "rows": [
                        {
                            "start_time_local": _time(row.start_time_local),
                            "end_time_local": _time(row.end_time_local),
                        }
                        for row in special.rows
                    ],
                }
                for special in story.special_dates
            ],
            "exclusions": [
                {
                    "id": period.id,
                    "store_id": "*" if period.every_store else story.store_id,
                    "reason": period.reason,
                    **_interval(period),
                }
                for period in story.exclusions
            ],
        }


def _time(wall: time | None) -> str | None:
    return None if wall is None else wall.isoformat()


def _interval(interval: Interval) -> dict[str, Any]:
    return {
        "start": interval.start.isoformat(),
        "end": interval.end.isoformat(),
        "start_local": interval.start_local.isoformat(),
        "end_local": interval.end_local.isoformat(),
        "minutes": interval.minutes,
    }


def _segment(segment: Segment) -> dict[str, Any]:
    return {**_interval(segment), "status": _status(segment.active)}


def _poll(poll: PollView) -> dict[str, Any]:
    return {
        "at": poll.at.isoformat(),
        "at_local": poll.at_local.isoformat(),
        "status": _status(poll.active),
        "holds_from": _iso(poll.holds_from),
        "holds_until": _iso(poll.holds_until),
    }


def _figures(figures: Figures) -> dict[str, str]:
    return {**figures.columns, **figures.business}
