"""Request and response bodies of the report API (and their OpenAPI schema)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, cast

from django.http import HttpRequest, QueryDict
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitor.models import Report
from monitor.services.freshness import report_warnings
from monitor.services.report_trigger import report_queue_position
from monitor.services.reports import AS_OF_PATTERN, ReportInputError, parse_as_of
from monitor.services.workers import queue_warning

# The as-of instant's format: the pattern's spellings, of a real instant between
# 1970-01-01T00:00:00Z and 24 hours from now (amendment 5), which no pattern can say.
AS_OF_FORMAT = "as-of-instant"


@extend_schema_field(
    {
        "type": "string",
        "format": AS_OF_FORMAT,
        "pattern": f"^{AS_OF_PATTERN}$",
        "example": "2023-01-25T18:00:00Z",
    }
)
class AsOfField(serializers.Field[datetime, str, str, Any]):
    """An ISO 8601 instant, read exactly as `generate_report --as-of` reads it.

    Documented by its pattern rather than as `date-time`, whose RFC 3339 allows
    spellings this field refuses (a lower-case t, more than 6 fraction digits),
    and by a format of its own (AS_OF_FORMAT) for what it must be: a date that
    exists, an instant from 1970-01-01T00:00:00Z to 24 hours from now.
    """

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"expected an ISO 8601 instant as a string, got {type(data).__name__}"
            )
        try:
            return parse_as_of(data)
        except ReportInputError as error:
            raise serializers.ValidationError(str(error)) from error

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def refuse_unknown_names(serializer: serializers.Serializer[Any], kind: str) -> None:
    """ValidationError naming what `serializer` was given that is none of its
    fields (`kind`s: body fields, query parameters), and the ones it knows."""
    unknown = sorted(set(serializer.initial_data) - set(serializer.fields))
    if unknown:
        raise serializers.ValidationError(
            f"unknown {kind}(s): {', '.join(unknown)}; known: {', '.join(serializer.fields)}"
        )


class TriggerRequestSerializer(serializers.Serializer[Any]):
    as_of = AsOfField(
        required=False,
        allow_null=True,
        help_text="The report's instant, e.g. 2023-01-25T18:00:00Z (UTC when no offset is "
        "given). Default: the latest stored poll.",
    )
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Compute a new report even if a Running or Complete one exists for the same "
        "instant and data (default: that one is returned, with reused: true). Needs a "
        "key with scope write (403 otherwise) where API keys are required.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A misspelt key would otherwise be ignored silently, and the report
        # made as of the wrong instant.
        refuse_unknown_names(self, "field")
        return attrs


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class FreshnessWarningsField(serializers.Field[Report, list[str], list[str], Any]):
    """The report's data freshness warnings (monitor.services.freshness)."""

    def __init__(self) -> None:
        super().__init__(
            source="*",
            read_only=True,
            help_text="Says so when the as-of instant is more than an hour after the latest "
            "poll; empty otherwise.",
        )

    def to_representation(self, value: Report) -> list[str]:
        return answer_warnings(self, value)


def answer_warnings(field: serializers.Field[Any, Any, Any, Any], report: Report) -> list[str]:
    """The report's freshness warnings, each instant's worked out once per
    answer: in the context of the root serializer, shared by the whole answer."""
    context = cast(dict[str, Any], field.context)  # the root's own dict (typed as a Mapping)
    return report_warnings(report, known=context.setdefault("warnings_by_as_of", {}))


@extend_schema_field({"type": "integer", "minimum": 1, "nullable": True})
class QueuePositionField(serializers.Field[Report, int | None, int | None, Any]):
    """A queued report's place in the queue (services.report_trigger.report_queue_position)."""

    def __init__(self) -> None:
        super().__init__(
            source="*",
            read_only=True,
            help_text="While queued, where the queue can tell (the embedded set-up): 1 = next; "
            "null otherwise.",
        )

    def to_representation(self, value: Report) -> int | None:
        return report_queue_position(value)


@extend_schema_field({"type": "string", "nullable": True})
class QueueWarningField(serializers.Field[Report, str | None, str | None, Any]):
    """Says so when no worker serves a queued report's queue (services.workers.queue_warning)."""

    def __init__(self) -> None:
        super().__init__(
            source="*",
            read_only=True,
            help_text="While the report waits in the job queue (stage queued or queued parts): "
            "says so when no worker has served the queue for QUEUE_UNSERVED_SECONDS (60 by "
            "default), e.g. every worker is stopped or stalled; null otherwise.",
        )

    def to_representation(self, value: Report) -> str | None:
        return queue_warning(value)


class ReportRunningSerializer(serializers.Serializer[Any]):
    report_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[Report.Status.RUNNING])
    progress = serializers.FloatField(
        min_value=0.0, max_value=1.0, help_text="The share of the report's parts done, 0.0 to 1.0"
    )
    stage = serializers.CharField(
        help_text="enqueuing (its job being handed to the job queue), queued (waiting for a "
        "worker), then started, planning, queued parts, then as its parts run: started, "
        "reading, computing, rendering, writing."
    )
    warnings = FreshnessWarningsField()
    queue_position = QueuePositionField()
    queue_warning = QueueWarningField()


class TriggerResponseSerializer(serializers.Serializer[Any]):
    report_id = serializers.CharField(
        source="report.report_id", help_text="Random and URL-safe; 22 characters."
    )
    status = serializers.ChoiceField(
        source="report.status",
        choices=[Report.Status.RUNNING, Report.Status.COMPLETE],
        help_text="Complete only when an existing report is reused.",
    )
    reused = serializers.BooleanField(
        help_text="true: an existing report of the same instant, made from the same data "
        "(nothing imported since), is returned instead of a new job."
    )


class ReportFailedSerializer(serializers.Serializer[Any]):
    report_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[Report.Status.FAILED])
    error = serializers.CharField(help_text="What went wrong.")
    warnings = FreshnessWarningsField()


class ErrorSerializer(serializers.Serializer[Any]):
    error = serializers.CharField()


# How many finished reports' summaries each process keeps (about 1 KB each).
SUMMARY_CACHE_SIZE = 2000


class FinishedSummaries:
    """Summaries of finished reports by id, the least recently used dropped
    first beyond `size`. Two first requests may both make one: harmless."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._summaries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, report_id: str) -> dict[str, Any] | None:
        with self._lock:
            summary = self._summaries.get(report_id)
            if summary is not None:
                self._summaries.move_to_end(report_id)
            return summary

    def put(self, report_id: str, summary: dict[str, Any]) -> None:
        with self._lock:
            self._summaries[report_id] = summary
            if len(self._summaries) > self._size:
                self._summaries.popitem(last=False)


_finished_summaries = FinishedSummaries(SUMMARY_CACHE_SIZE)


class RecentReportsSerializer(serializers.ListSerializer[Report]):
    """Report summaries, a finished report's made once per process.

    A finished report never changes (services.report_attempts writes a report only while
    it is Running), but for its warnings, which follow the data: they are
    worked out at each answer. DRF's serializing of fifty reports costs more
    than reading them.
    """

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        return [self._summary(report) for report in data]

    def _summary(self, report: Report) -> dict[str, Any]:
        assert self.child is not None  # set by many=True
        if report.status == Report.Status.RUNNING:
            return dict(self.child.to_representation(report))
        summary = _finished_summaries.get(report.report_id)
        if summary is None:
            summary = dict(self.child.to_representation(report))
            _finished_summaries.put(report.report_id, summary)
        return {**summary, "warnings": answer_warnings(self, report)}


class ReportSummarySerializer(serializers.ModelSerializer[Report]):
    duration_seconds = serializers.SerializerMethodField(
        help_text="From trigger to finish; null while Running."
    )
    warnings = FreshnessWarningsField()
    organization: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The organization that triggered it (its stores only); null: the platform.",
    )

    class Meta:
        model = Report
        fields = [
            "report_id",
            "organization",
            "status",
            "requested_as_of",
            "as_of",
            "progress",
            "stage",
            "error",
            "attempts",
            "part_count",
            "created_at",
            "finished_at",
            "duration_seconds",
            "row_count",
            "stores_without_recent_poll",
            "warnings",
        ]
        read_only_fields = fields
        list_serializer_class = RecentReportsSerializer

    def get_duration_seconds(self, report: Report) -> float | None:
        if report.finished_at is None:
            return None
        return (report.finished_at - report.created_at).total_seconds()


class ReportListSerializer(serializers.Serializer[Any]):
    reports = ReportSummarySerializer(many=True)


class ReportDetailSerializer(ReportSummarySerializer):
    """A report in any state, as JSON: what a typed client polls."""

    queue_position = QueuePositionField()
    queue_warning = QueueWarningField()
    csv_url = serializers.SerializerMethodField(
        help_text="The CSV in minutes and hours (409 until the report is Complete)."
    )
    csv_percent_url = serializers.SerializerMethodField(
        help_text="The CSV as shares of business time (409 until the report is Complete)."
    )

    class Meta(ReportSummarySerializer.Meta):
        fields = [
            *ReportSummarySerializer.Meta.fields,
            "queue_position",
            "queue_warning",
            "csv_url",
            "csv_percent_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_csv_url(self, report: Report) -> str:
        return self._csv_url(report)

    @extend_schema_field(OpenApiTypes.URI)
    def get_csv_percent_url(self, report: Report) -> str:
        return self._csv_url(report) + "?units=percent"

    def _csv_url(self, report: Report) -> str:
        request: HttpRequest = self.context["request"]
        return request.build_absolute_uri(reverse("report_csv", args=[report.report_id]))


class ReportNotReadySerializer(serializers.Serializer[Report]):
    error = serializers.CharField()
    report_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[Report.Status.RUNNING, Report.Status.FAILED])


# Query parameters (documented in the schema through these classes too)


UNITS = ["absolute", "percent"]


class StrictQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters, each given at most once and never empty.

    DRF reads a query string as an HTML form: an empty value would silently
    mean the default, and of a repeated one the last would win. Both are
    mistakes of the caller's, and the schema forbids them, so both are a 400.
    """

    def to_internal_value(self, data: Any) -> Any:
        problems: dict[str, str] = {}
        # keys(): the stubs type iterating a BindingDict as giving its Fields.
        for name in self.fields.keys():  # noqa: SIM118
            values = data.getlist(name) if isinstance(data, QueryDict) else []
            if len(values) > 1:
                problems[name] = f"This field was given {len(values)} times; give it once."
            elif values == [""]:
                problems[name] = "This field may not be blank."
        if problems:
            raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class ReportQuerySerializer(StrictQuerySerializer):
    units = serializers.ChoiceField(
        choices=UNITS,
        default="absolute",
        help_text="absolute: minutes and hours (default); percent: share of business time.",
        error_messages={
            "invalid_choice": f'"{{input}}" is not a valid choice: use one of {", ".join(UNITS)}'
        },
    )


class ReportIdQuerySerializer(ReportQuerySerializer):
    # Not trimmed: " " is an id like any other, of no report (404), as in the path form.
    report_id = serializers.CharField(
        trim_whitespace=False, help_text="The id that trigger_report returned."
    )


class RecentQuerySerializer(StrictQuerySerializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
    organization = serializers.SlugField(
        required=False,
        help_text="Only the reports this organization triggered (a platform key's filter).",
    )
