"""The stored data: stores, their business hours, calendar and status polls, and report
jobs; organizations, which own stores, keys, users and reports; incidents and
their events; the channels that notify them and their deliveries."""

import base64
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.functions import Coalesce
from django.utils import timezone


class CoveringUniqueConstraint(models.UniqueConstraint):
    """A unique constraint on `fields` whose index carries the `include` columns
    where the database can (PostgreSQL), and not elsewhere (SQLite), where
    Django would not create the constraint at all. Only fields, name and
    include are used."""

    include: tuple[str, ...]  # UniqueConstraint sets it (django-stubs lack it)

    def _here(self, schema_editor: BaseDatabaseSchemaEditor | None) -> models.UniqueConstraint:
        covering = (
            schema_editor is None or schema_editor.connection.features.supports_covering_indexes
        )
        include = self.include if covering else None
        return models.UniqueConstraint(fields=self.fields, name=self.name, include=include)

    def constraint_sql(
        self, model: type[models.Model] | None, schema_editor: BaseDatabaseSchemaEditor | None
    ) -> str:
        return self._here(schema_editor).constraint_sql(model, schema_editor)

    def create_sql(
        self, model: type[models.Model] | None, schema_editor: BaseDatabaseSchemaEditor | None
    ) -> Any:
        return self._here(schema_editor).create_sql(model, schema_editor)

    def remove_sql(
        self, model: type[models.Model] | None, schema_editor: BaseDatabaseSchemaEditor | None
    ) -> Any:
        return self._here(schema_editor).remove_sql(model, schema_editor)

    def _check(self, model: type[models.Model], connection: BaseDatabaseWrapper) -> list[Any]:
        # Not "SQLite does not support unique constraints with non-key columns":
        # the constraint is created, without them.
        errors: list[CheckMessage] = super()._check(model, connection)  # type: ignore[misc]
        return [error for error in errors if error.id != "models.W039"]


class Organization(models.Model):
    """A restaurant group: it sees and changes only its own stores (monitor.scope).

    Stores, API keys, users (OrganizationMember) and reports belong to at most
    one organization; those that belong to none are the platform's.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Store(models.Model):
    """A store known from any of the three sources.

    Polls reference the integer primary key, not `store_id`: a 19-digit or UUID
    text repeated 1.8 M times would make the poll table and its index far wider.
    """

    # Opaque text, stored verbatim ("007" stays "007"). unique=True also gives
    # the index that every import's store_id → pk lookup uses and, on
    # PostgreSQL, a second one with text_pattern_ops (Django's "…_like"),
    # whatever the collation: it serves the id-prefix search (LIKE 'prefix%')
    # and the walks in code-point order (monitor.db.postgresql).
    store_id = models.TextField(unique=True)
    # Empty when no time zones file named the store (reports then use
    # monitor.engine.hours.DEFAULT_TIMEZONE).
    timezone_str = models.TextField(blank=True, default="")
    # None: the platform's alone (no organization sees it). No separate FK
    # index: store_organization_idx below starts with it.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stores",
        db_index=False,
    )

    class Meta:
        indexes = [
            # Serves an organization's stores: its scope (monitor.scope), its
            # report's ranges and reads, its store list, all in store_id order.
            models.Index(fields=["organization", "store_id"], name="store_organization_idx"),
        ]

    def __str__(self) -> str:
        return self.store_id


def _both_times_or_neither(name: str) -> models.CheckConstraint:
    """A row is open (both times) or closed (neither, docs/report-semantics.md §10.1)."""
    return models.CheckConstraint(
        condition=models.Q(start_time_local__isnull=True, end_time_local__isnull=True)
        | models.Q(start_time_local__isnull=False, end_time_local__isnull=False),
        name=name,
    )


class BusinessHours(models.Model):
    """One row of a store's weekly business hours, in the store's local time.

    A closed row (both times null, §10.1) gives its weekday rows, so the day is
    not open whole (§4), and adds no business time.
    """

    # The FK index serves the per-store replacement on import (DELETE … WHERE store_id IN).
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="business_hours")
    day_of_week = models.PositiveSmallIntegerField()  # 0 = Monday … 6 = Sunday
    start_time_local = models.TimeField(null=True, blank=True)
    end_time_local = models.TimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_of_week__lte=6), name="business_hours_day_of_week_0_6"
            ),
            _both_times_or_neither("business_hours_open_or_closed"),
        ]

    def __str__(self) -> str:
        hours = "closed" if self.closed else f"{self.start_time_local}–{self.end_time_local}"
        return f"{self.store_id} day {self.day_of_week} {hours}"

    @property
    def closed(self) -> bool:
        return self.start_time_local is None


class SpecialHours(models.Model):
    """One row of a store's hours on one local date (§10.2): the date's rows replace
    the intervals its weekday's rows would open. Both times null: closed that date."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="special_hours")
    date = models.DateField()  # the store's local calendar date
    start_time_local = models.TimeField(null=True, blank=True)
    end_time_local = models.TimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "special hours"
        constraints = [_both_times_or_neither("special_hours_open_or_closed")]
        indexes = [
            # Serves one store's reads (the store API) and the replacement of a
            # (store, date)'s rows.
            models.Index(fields=["store", "date"], name="special_hours_store_date_idx"),
            # Serves a report's read of every store's dates near its week.
            models.Index(fields=["date"], name="special_hours_date_idx"),
        ]

    def __str__(self) -> str:
        hours = "closed" if self.closed else f"{self.start_time_local}–{self.end_time_local}"
        return f"{self.store_id} on {self.date} {hours}"

    @property
    def closed(self) -> bool:
        return self.start_time_local is None


class Exclusion(models.Model):
    """A UTC period removed from a store's business time (§10.3): it counts neither
    as uptime nor as downtime. No store (`*` in the sources) means every store,
    including stores added later."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="exclusions", null=True, blank=True
    )
    start_utc = models.DateTimeField()
    end_utc = models.DateTimeField()
    reason = models.TextField(blank=True, default="")  # shown to people, never in a figure

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_utc__gt=models.F("start_utc")),
                name="exclusion_end_after_start",
            ),
            # A row equal to one stored (same store, same instants) is a
            # duplicate (§10.3): the loads insert with ON CONFLICT DO NOTHING.
            # Coalesce: every store (NULL) is one value here, not distinct NULLs.
            models.UniqueConstraint(
                Coalesce("store", models.Value(0)),
                "start_utc",
                "end_utc",
                name="exclusion_unique_store_period",
            ),
        ]
        indexes = [
            # Serves a report's read of the exclusions that reach its week.
            models.Index(fields=["end_utc"], name="exclusion_end_idx"),
        ]

    def __str__(self) -> str:
        store = self.store_id if self.store_id is not None else "every store"
        return f"{store} excluded {self.start_utc.isoformat()}–{self.end_utc.isoformat()}"


class StatusPoll(models.Model):
    """One poll: was the store active at this UTC instant."""

    # No separate FK index: the unique (store, timestamp_utc) index below covers it.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="polls", db_index=False)
    timestamp_utc = models.DateTimeField()  # UTC, microsecond precision
    active = models.BooleanField()

    class Meta:
        constraints = [
            # Serves the import's dedupe (ON CONFLICT DO NOTHING: first occurrence
            # wins); a report part's read of its range of stores (selectors.
            # report_inputs with a StoreRange: per store, a walk of its entries in
            # the week window); every report's "last poll of each store before the
            # window" (per store, one probe backwards from (store, window start));
            # and the store API's reads of one store (selectors.store_report_inputs,
            # selectors.stores_page). INCLUDE active: on PostgreSQL those reads
            # touch this index alone, not a table page per poll, with no second
            # (store, timestamp_utc, active) index to maintain on every load
            # (SQLite has no INCLUDE: it reads the status from the table row).
            CoveringUniqueConstraint(
                fields=["store", "timestamp_utc"],
                include=["active"],
                name="status_poll_unique_store_instant",
            )
        ]
        indexes = [
            # Serves the report's range scan of the week window and the default
            # as-of instant, MAX(timestamp_utc). Covering (store and status
            # too), so the scan reads this index alone, in order: on SQLite
            # much faster than fetching the table's rows through a plain index.
            models.Index(
                fields=["timestamp_utc", "store", "active"], name="status_poll_window_idx"
            ),
        ]

    def __str__(self) -> str:
        status = "active" if self.active else "inactive"
        return f"{self.store_id} {status} at {self.timestamp_utc.isoformat()}"


REPORT_ID_MAX_LENGTH = 64


def new_report_id() -> str:
    return secrets.token_urlsafe(16)  # 22 URL-safe characters, 128 random bits


class Report(models.Model):
    """A report job and, once it is complete, its result."""

    class Status(models.TextChoices):
        RUNNING = "Running"
        COMPLETE = "Complete"
        FAILED = "Failed"

    class Stage(models.TextChoices):
        """Where a report's job is (docs/architecture.md: the state tables)."""

        ENQUEUING = "enqueuing"  # created; its job is being published to a broker
        # Its client has a report in the queue already: its job is sent when
        # that one starts (services.report_turns).
        WAITING = "waiting"
        QUEUED = "queued"  # its job waits in the queue
        STARTED = "started"  # a job (the report's, or a part's) claimed an attempt
        PLANNING = "planning"  # resolving the instant, splitting the stores
        QUEUED_PARTS = "queued parts"  # planned: the parts' jobs are sent
        READING = "reading"  # a part reads its stores' data
        COMPUTING = "computing"  # a part computes its figures
        RENDERING = "rendering"  # a part renders its CSV rows
        WRITING = "writing"  # a part stores its rows
        DONE = "done"  # Complete

    report_id = models.CharField(
        max_length=REPORT_ID_MAX_LENGTH, primary_key=True, default=new_report_id
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # The as-of instant the caller asked for; null means "latest poll"
    # (docs/report-semantics.md §2).
    requested_as_of = models.DateTimeField(null=True, blank=True)
    # The report's instant: resolved when it is triggered (null only when no
    # poll was stored then: the job resolves it when it starts).
    as_of = models.DateTimeField(null=True, blank=True)
    # The DataVersion when the report was triggered: a later trigger for the
    # same as_of reuses the report only while the data is still that version.
    data_version = models.PositiveBigIntegerField(null=True, blank=True)
    progress = models.FloatField(default=0.0)  # 0.0–1.0
    stage = models.CharField(max_length=32, blank=True, choices=Stage.choices, default=Stage.QUEUED)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped with every progress write: a Running report whose heartbeat is too
    # old has lost its job (see services.report_staleness).
    heartbeat_at = models.DateTimeField(auto_now_add=True)
    # How many times a job has started this report (a redelivered Celery task
    # starts it again). Each start claims the next number, and a job writes
    # only while the row still carries its number: see services.report_attempts.
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the first attempt started (the job's duration, for the metrics).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    # Reported stores without a poll in the 24 h up to the as-of instant: their
    # figures extrapolate an old status (set when the report completes).
    stores_without_recent_poll = models.PositiveIntegerField(null=True, blank=True)
    # How many parts (ReportPart) the job split the report into; 0 until then.
    # The result is the parts' CSVs, in order, after the header.
    part_count = models.PositiveIntegerField(default=0)
    # Rounds of parts run again because they read older data than others
    # (services.report_parts); bounded.
    rounds = models.PositiveSmallIntegerField(default=0)
    # Who triggered it: an organization (the report holds its stores only, and
    # only it and the platform read it), or None, the platform (every store).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    # The API key that triggered it: its client, which takes turns with other
    # clients (services.report_turns). None: triggered without a key (keys
    # off, the pages), or by a key since deleted.
    api_key = models.ForeignKey(
        "ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves the recent-reports listing (ORDER BY created_at DESC LIMIT n).
            models.Index(fields=["-created_at"], name="report_created_idx"),
            # Serves the reuse lookup of every trigger (services.report_trigger).
            models.Index(fields=["as_of", "data_version"], name="report_reuse_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} ({self.status})"


class ReportPart(models.Model):
    """One shard of a report: its figures for the stores whose store_id s has
    store_first <= s < store_end (code-point order, None unbounded), computed
    by one job (services.report_parts) and kept as both CSV forms' rows.

    A part's job follows the report's protocol: it claims the next attempt
    number, and writes only while the part still carries it.
    """

    # No separate FK index: the unique (report, index) index below covers it.
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="parts", db_index=False
    )
    index = models.PositiveIntegerField()  # the part's place in the report, from 0
    # NULL is unbounded, distinct from "", which can be a store's id.
    store_first = models.TextField(null=True, blank=True)  # noqa: DJ001
    store_end = models.TextField(null=True, blank=True)  # noqa: DJ001
    # Running while queued (attempts 0) or computing; Complete once its rows
    # are in; Failed makes the report Failed (the reason is the report's error).
    status = models.CharField(
        max_length=16, choices=Report.Status.choices, default=Report.Status.RUNNING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # The DataVersion of the snapshot the part read: the report completes
    # when no change between the lowest and the highest version its parts
    # read reaches its as-of instant (services.report_parts.finishing_decision).
    data_version = models.PositiveBigIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    stores_without_recent_poll = models.PositiveIntegerField(null=True, blank=True)
    # The rows of both CSV forms, without the header, and their sizes in
    # UTF-8 bytes (a streamed download's Content-Length).
    result_csv = models.TextField(blank=True, default="")
    result_percent_csv = models.TextField(blank=True, default="")
    result_bytes = models.PositiveBigIntegerField(default=0)
    result_percent_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # Serves every read of a report's parts: in order (downloads), by
            # status (the finisher's check, progress, queued parts).
            models.UniqueConstraint(fields=["report", "index"], name="report_part_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.report_id} part {self.index} ({self.status})"


class DataVersion(models.Model):
    """One row: a counter bumped by every transaction that changes what reports read.

    See monitor.services.data_version.
    """

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"data version {self.version}"


class DataChange(models.Model):
    """What the change that bumped the data version to `version` touched, as far
    as reports care: a report in parts whose parts read different versions is
    consistent when no change between them reaches its as-of instant (see
    monitor.services.data_version). Written in the changing transaction;
    retention deletes the entries no Running report needs.
    """

    version = models.PositiveBigIntegerField(primary_key=True)
    # The earliest instant of the polls it inserted; null when it inserted none.
    # A report as of an earlier instant reads none of them (§3: nor reports a
    # store whose only polls they are).
    polls_from = models.DateTimeField(null=True, blank=True)
    # It changed more than new polls (business hours, calendars, zones, deleted polls):
    # any report may differ.
    any_report = models.BooleanField()

    def __str__(self) -> str:
        return f"data change {self.version}"


class ApiKey(models.Model):
    """A client's key to the API (monitor.services.api_keys makes and checks them).

    Only a keyed hash of the key is stored, as healthchecks does: a copy of the
    database gives no usable key. The lookup prefix, the key's first
    characters, finds the row without hashing against every key.
    """

    class Scope(models.TextChoices):
        READ = "read"  # every GET, and trigger_report
        WRITE = "write"  # also the endpoints that send data

    name = models.CharField(max_length=100, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64)  # hex HMAC-SHA256 of the key, keyed with SECRET_KEY
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # None: a platform key (every store); else the organization's key (monitor.scope).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="api_keys"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope})"


class OrganizationMember(models.Model):
    """A Django user who belongs to an organization: the pages show them its stores
    only. Staff users (createsuperuser) belong to none: they are the platform."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_member"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} of {self.organization}"


class Incident(models.Model):
    """An outage of a store (docs/report-semantics.md §8, with §10) as the service
    learned of it, live (§11). monitor.services.incidents opens, moves and
    resolves it; each change records an IncidentEvent in the same transaction.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    # No separate FK index: the unique (store, start_tick) index below covers it.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="incidents", db_index=False
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # The outage's bounds in the engine's exact ticks (half microseconds since
    # 1970, monitor.engine.units): a midpoint can fall on a half microsecond,
    # and durations use the exact value (§8). started_at and ended_at are the
    # same instants truncated to the microsecond, for queries and display.
    start_tick = models.BigIntegerField()
    end_tick = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the store was found silent while this incident was open (§11: one
    # store.silent event per incident); None while it has not been.
    silent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # A store's outages are disjoint, so no two of its incidents start
            # together. Serves every read of one store's incidents.
            models.UniqueConstraint(fields=["store", "start_tick"], name="incident_unique_start"),
        ]
        indexes = [
            # Serves the open incidents (each evaluation, the pages' counts).
            models.Index(fields=["status", "store"], name="incident_status_idx"),
            # Serves the incidents listing, newest first, and its since/until filter.
            models.Index(fields=["-started_at"], name="incident_started_idx"),
            # Serves each evaluation's look for the incidents that end within its
            # look-back window (services.incidents), with the open ones above.
            models.Index(fields=["end_tick"], name="incident_end_idx"),
        ]

    def __str__(self) -> str:
        return f"incident {self.pk} of {self.store_id} ({self.status})"


class IncidentEvent(models.Model):
    """Something to tell about an incident (§11), recorded in the transaction that
    changed it: the outbox that the notification channels deliver from."""

    class Type(models.TextChoices):
        OPENED = "incident.opened"
        RESOLVED = "incident.resolved"
        UPDATED = "incident.updated"  # a late poll moved its start or end
        SILENT = "store.silent"  # its store fell silent while it was open

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # SET_NULL: an incident that a rewrite of the past removes keeps its events,
    # which may still be owed to a channel.
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    # Whose event it is: a channel receives the events of its organization's
    # stores (None: the platform's channels only see it), fixed when recorded.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=32, choices=Type.choices)
    # The incident as the API shows it (services.incidents.incident_document),
    # as it was when the event was recorded: what every channel delivers.
    document = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When the events were handed to the channels (a Delivery per channel);
    # None while they wait. Serves the dispatcher's "what waits" read.
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WorkerBeat(models.Model):
    """A Celery worker's heartbeat, written by the worker (monitor.tasks) every few
    seconds and read by the web processes (services.workers): a row a worker,
    so that reading whether the queue is served costs one small query and
    never waits on the broker."""

    # Celery's node name, e.g. celery@host.
    hostname = models.CharField(max_length=255, primary_key=True)
    # When the worker last beat; None once it stopped cleanly.
    beat_at = models.DateTimeField(null=True, blank=True)
    # When it last served the queue (took a job, was busy with every process,
    # or was idle with no job waiting); None: never.
    served_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"worker {self.hostname}"


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Channel(models.Model):
    """Where incident events go (monitor.services.notifications): a webhook, an
    email address, or an Apprise URL (Slack, Teams, Telegram, …)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"
        APPRISE = "apprise"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The webhook's or Apprise's URL, or the email address.
    target = models.TextField()
    # A webhook's Standard Webhooks signing secret (whsec_…); empty for the others.
    secret = models.CharField(max_length=64, blank=True, default="")
    # None: the platform's, which receives every event; else its organization's
    # stores' events only.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="channels"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last attempt that reached it.
    last_success_at = models.DateTimeField(null=True, blank=True)
    # The first failed attempt since the last success; None while it delivers.
    failing_since = models.DateTimeField(null=True, blank=True)
    # When it was marked failing: it had failed for NOTIFY_RETRY_HOURS with no
    # success. Cleared by the next success.
    failing_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} channel {self.pk}"


class Delivery(models.Model):
    """One request to one channel carrying a set of events, tried until it is
    delivered or NOTIFY_RETRY_HOURS have passed. Its id is the webhook-id of
    every try, so a receiver can drop a retry it already has.

    A try claims the next attempt number under a row lock and records its
    outcome only while the row still carries it (as a report's job does,
    docs/architecture.md): a delivered row is never sent again.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # given up after NOTIFY_RETRY_HOURS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    # The events as the body lists them ({"id", "type", "incident"}), frozen
    # when the delivery was made: every try sends the same body.
    events = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Tries claimed so far.
    attempts = models.PositiveIntegerField(default=0)
    # The next try may start from then (a retry's backoff).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While a try is in flight: until when its claim holds. A try lost with its
    # worker is taken over once this has passed.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # Serves the catch-up's read of the pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} to channel {self.channel_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try of a delivery: the channel's log (GET …/channels/<id>/deliveries)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    # Denormalized from the delivery: serves the channel's log, newest first.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.PositiveIntegerField()  # the delivery's attempt number, from 1
    at = models.DateTimeField()
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP, when one answered
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["channel", "-at"], name="delivery_attempt_log_idx")]

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else "failed"
        return f"try {self.number} of {self.delivery_id} ({outcome})"
