"""Bodies of the ingestion API (POST rows, PUT one store's hours or zone) and their schema.

Row values are strings, as in the CSV files (docs/report-semantics.md §9); the services check them
(monitor.ingest.rules): these serializers document the shapes and render answers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monitor.ingest.errors import RowError


class PollRowSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField(help_text="Opaque text, kept verbatim.")
    status = serializers.CharField(help_text="active or inactive (any case).")
    timestamp_utc = serializers.CharField(
        help_text="UTC: 2023-01-25 18:00:00.123 UTC, 2023-01-25T18:00:00Z, …+05:30 or no zone."
    )


class HoursDaySerializer(serializers.Serializer[Any]):
    day = serializers.CharField(help_text="0 = Monday … 6 = Sunday, as text.")
    start_time_local = serializers.CharField(
        allow_blank=True,
        help_text="H:MM, HH:MM or HH:MM:SS[.f], local. Both times empty: closed that day.",
    )
    end_time_local = serializers.CharField(
        allow_blank=True, help_text="As start_time_local; before it: overnight."
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # A closed row's times (None) as the PUT takes them: empty.
        shown = super().to_representation(instance)
        return {key: "" if value is None else value for key, value in shown.items()}


class BusinessHoursRowSerializer(HoursDaySerializer):
    store_id = serializers.CharField()


class SpecialHoursTimesSerializer(serializers.Serializer[Any]):
    start_time_local = serializers.CharField(
        allow_blank=True,
        help_text="H:MM, HH:MM or HH:MM:SS[.f], local. Both times empty: closed that date.",
    )
    end_time_local = serializers.CharField(
        allow_blank=True, help_text="As start_time_local; before it: overnight into the next date."
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # A closed row's times (None) as the PUT takes them: empty.
        shown = super().to_representation(instance)
        return {key: "" if value is None else value for key, value in shown.items()}


class SpecialHoursRowSerializer(SpecialHoursTimesSerializer):
    store_id = serializers.CharField()
    date = serializers.CharField(help_text="YYYY-MM-DD, the store's local date (1970–2199).")


class ExclusionRowSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField(help_text="A store's id, or * for every store.")
    start_utc = serializers.CharField(help_text="UTC, as a poll's timestamp_utc (1970–2199).")
    end_utc = serializers.CharField(help_text="After start_utc.")
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Optional: shown to people, never in a figure."
    )


class TimezoneSerializer(serializers.Serializer[Any]):
    timezone_str = serializers.CharField(help_text="An IANA zone name, exact case.")


class TimezoneRowSerializer(TimezoneSerializer):
    store_id = serializers.CharField()


class RowErrorSerializer(serializers.Serializer[RowError]):
    row = serializers.IntegerField(
        source="line", help_text="JSON: 1-based item number; NDJSON and CSV: line number."
    )
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer[Any]):
    loaded = serializers.IntegerField(
        help_text="Polls, exclusions or hours rows stored; stores whose zone was set."
    )
    duplicates = serializers.IntegerField(
        help_text="Polls or exclusions stored already or earlier in the body (the first one "
        "wins); business hours rows repeated in the body (each distinct row is stored "
        "once); 0 for zones and special hours."
    )
    rejected = serializers.IntegerField(help_text="Invalid rows, skipped.")
    # The metaclass takes declared fields out of the class: Serializer.errors stays intact.
    errors = RowErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="The first 100 rejected rows."
    )


class StoreHoursSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    # Values as text, as the PUT takes them: the answer can be edited and sent back.
    business_hours = HoursDaySerializer(many=True, help_text="Sorted by day, then times.")


class StoreTimezoneSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    timezone_str = serializers.CharField()


class OwnershipRowSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    organization = serializers.CharField(help_text="An organization's slug.")


class StoreOrganizationSerializer(serializers.Serializer[Any]):
    organization = serializers.SlugField(
        allow_null=True,
        help_text="An organization's slug, or null: the store belongs to none (the platform's).",
    )


class StoreOwnerSerializer(serializers.Serializer[Any]):
    store_id = serializers.CharField()
    organization = serializers.CharField(source="organization.slug", allow_null=True, default=None)
