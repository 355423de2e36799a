"""A store's own story (docs/report-semantics.md §8): what its report row says and where
that time lies.

Stable interface (the store API, `explain_store` and the pages build on it):

- `store_story(store_id, as_of=None, *, scope) -> StoreStory`, raising
  `StoreNotFoundError` (also for a store out of the scope's reach);
- `stores_list(*, scope, search="", limit=50, offset=0, order="id") -> StoreList`,
  raising `StoreListError` for a bad order, limit or offset.

A story's outages and segments come from `monitor.engine.timeline`, read from
this store's rows alone (a store's figures depend on its own rows only). Its
figures are their exact sums, printed by the report's CSV code: the engine's
property tests hold those sums equal to the report engine's, to the half
microsecond, so the figures are the report CSV's cells. Instants are
aware datetimes, truncated to the microsecond where a boundary lies on a half
microsecond (§8); `ticks` are exact lengths in half microseconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, OrderBy

from monitor import selectors
from monitor.engine.hours import CLOSED, DEFAULT_TIMEZONE
from monitor.engine.render import business_cells, figure_cells, header
from monitor.engine.report import ReportInputs, ReportTable
from monitor.engine.timeline import (
    Spans,
    Timeline,
    local_instant,
    report_row,
    store_polls,
    store_timeline,
    switch_ticks,
    utc_instant,
)
from monitor.engine.units import TICKS_PER_MINUTE, TICKS_PER_US, WINDOW_LENGTHS_US, WINDOW_NAMES
from monitor.models import SpecialHours, Store
from monitor.scope import Scope
from monitor.selectors import to_epoch_us

# ?order= of stores_list → the ordering; last poll: oldest (and never polled) first.
STORE_ORDERS: dict[str, list[OrderBy]] = {
    "id": [F("store_id").asc()],
    "last_poll": [F("last_poll_at").asc(nulls_first=True), F("store_id").asc()],
    "-last_poll": [F("last_poll_at").desc(nulls_last=True), F("store_id").asc()],
}
MAX_LIMIT = 500
MAX_OFFSET = 10**9  # far past any store count, well within a 64-bit OFFSET


class StoreNotFoundError(LookupError):
    """No store has this id."""


class StoreListError(ValueError):
    """A bad parameter of stores_list."""


@dataclass(frozen=True)
class HoursRow:
    """A business hours row as stored (BusinessHours), the one type every
    service hands out: weekday (0 = Monday), local start and end (both None:
    a closed row, docs/report-semantics.md §10.1)."""

    day: int
    start_time_local: time | None
    end_time_local: time | None

    @property
    def closed(self) -> bool:
        return self.start_time_local is None


@dataclass(frozen=True)
class Interval:
    """[start, end) in UTC and local time (with the store's offset), and its exact length."""

    start: datetime
    end: datetime
    start_local: datetime
    end_local: datetime
    ticks: int  # exact length in half microseconds

    @property
    def minutes(self) -> float:
        """The length in minutes, as a float (the store API's `minutes`); text
        for people is printed exactly from `ticks` (monitor.formatting)."""
        return self.ticks / TICKS_PER_MINUTE


@dataclass(frozen=True)
class Segment(Interval):
    """A maximal interval of business time of constant status."""

    active: bool


@dataclass(frozen=True)
class PollView:
    """A poll and the instants between which its status holds (§5: the midpoints with
    its neighbours; None before the first poll read and after the last)."""

    at: datetime
    at_local: datetime
    active: bool
    holds_from: datetime | None
    holds_until: datetime | None


@dataclass(frozen=True)
class Figures:
    """The report row's six figures and each window's business time, as the CSV prints
    them (keys: the CSV's column names; business_last_hour/day/week), with exact ticks."""

    columns: dict[str, str]
    business: dict[str, str]
    uptime_ticks: tuple[int, int, int]  # hour, day, week
    business_ticks: tuple[int, int, int]


@dataclass(frozen=True)
class SpecialRow:
    start_time_local: time | None  # both None: closed that date
    end_time_local: time | None


@dataclass(frozen=True)
class SpecialDate:
    """A store's special hours on one local date (§10.2)."""

    date: date
    rows: tuple[SpecialRow, ...]

    @property
    def closed(self) -> bool:
        """Closed all that date: no row opens time."""
        return all(row.start_time_local is None for row in self.rows)


@dataclass(frozen=True)
class ExcludedPeriod(Interval):
    """An exclusion reaching the week window (§10.3), whole: neither uptime nor downtime."""

    id: int
    every_store: bool  # `*`: an exclusion of every store
    reason: str


@dataclass(frozen=True)
class StoreStory:
    store_id: str
    timezone: str  # the zone its hours are read in
    timezone_is_default: bool  # the store has no zone: DEFAULT_TIMEZONE
    as_of: datetime | None  # UTC; None only when no poll is stored at all
    business_hours: tuple[HoursRow, ...]
    last_poll: PollView | None  # the latest poll at or before as_of
    figures: Figures | None  # None when the store is not reported (no poll by as_of, §3)
    business_intervals: tuple[Interval, ...]  # within the week window
    segments: tuple[Segment, ...]  # business time ∩ week, by status
    outages: tuple[Interval, ...]  # the inactive segments
    polls: tuple[PollView, ...]  # the week window's, and the last one before it
    # The calendar of the week window (§10): its local dates with special hours,
    # and the exclusions that reach it (with their reasons).
    special_dates: tuple[SpecialDate, ...] = ()
    exclusions: tuple[ExcludedPeriod, ...] = ()

    @property
    def reported(self) -> bool:
        return self.figures is not None

    @property
    def last_poll_age_seconds(self) -> float | None:
        if self.last_poll is None or self.as_of is None:
            return None
        return (self.as_of - self.last_poll.at).total_seconds()


@dataclass(frozen=True)
class StoreSummary:
    store_id: str
    timezone: str
    timezone_is_default: bool
    last_poll_at: datetime | None  # the latest poll stored
    last_poll_active: bool | None
    polls_last_week: int  # polls in the week up to the latest poll stored


@dataclass(frozen=True)
class StoreList:
    total: int  # stores matching the search
    as_of: datetime | None  # the latest poll stored: the end of the polls' week
    stores: tuple[StoreSummary, ...]


def store_story(store_id: str, as_of: datetime | None = None, *, scope: Scope) -> StoreStory:
    """Store `store_id` of `scope` as of `as_of` (aware; default: the latest poll
    stored, as reports)."""
    store = scope.store(store_id)
    if store is None:
        raise StoreNotFoundError(f"no store with id {store_id!r}")
    if as_of is None:
        as_of = selectors.latest_poll_time()
    elif as_of.tzinfo is None:
        raise ValueError(f"as-of instant {as_of.isoformat()} has no UTC offset")
    zone = store.timezone_str or DEFAULT_TIMEZONE
    # With no poll stored anywhere, any instant reads no polls: only the hours matter.
    inputs = selectors.store_report_inputs(store, (as_of or datetime.now(UTC)).astimezone(UTC))
    story = StoreStory(
        store_id=store.store_id,
        timezone=zone,
        timezone_is_default=not store.timezone_str,
        as_of=None,
        business_hours=_hours_rows(inputs),
        last_poll=None,
        figures=None,
        business_intervals=(),
        segments=(),
        outages=(),
        polls=(),
    )
    if as_of is None:  # nothing polled anywhere yet
        return story
    timeline = store_timeline(inputs, 0)
    polls = _poll_views(inputs, zone)
    return dataclasses.replace(
        story,
        as_of=as_of.astimezone(UTC),
        last_poll=polls[-1] if polls else None,
        figures=_figures(report_row(timeline, store.store_id)),
        business_intervals=_intervals(timeline.business, zone),
        segments=_segments(timeline),
        outages=_intervals(timeline.outages, zone),
        polls=polls,
        **_week_calendar(store, as_of.astimezone(UTC), zone),
    )


def store_special_dates(
    store: Store, *, first: date | None = None, last: date | None = None
) -> list[SpecialDate]:
    """The store's special dates (within [first, last] when given), oldest first."""
    rows = SpecialHours.objects.filter(store=store)
    if first is not None:
        rows = rows.filter(date__gte=first)
    if last is not None:
        rows = rows.filter(date__lte=last)
    by_date: dict[date, list[SpecialRow]] = {}
    for day, start, end in rows.order_by("date", "start_time_local", "end_time_local").values_list(
        "date", "start_time_local", "end_time_local"
    ):
        by_date.setdefault(day, []).append(SpecialRow(start, end))
    return [SpecialDate(day, tuple(day_rows)) for day, day_rows in by_date.items()]


def _week_calendar(store: Store, as_of: datetime, zone: str) -> dict[str, Any]:
    """The story's special dates (local dates of the week window) and exclusions."""
    week_start = as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    local = ZoneInfo(zone)
    dates = store_special_dates(
        store,
        first=week_start.astimezone(local).date(),
        last=as_of.astimezone(local).date(),
    )
    exclusions = tuple(
        ExcludedPeriod(
            **vars(
                _interval(to_epoch_us(start) * TICKS_PER_US, to_epoch_us(end) * TICKS_PER_US, zone)
            ),
            id=pk,
            every_store=every_store,
            reason=reason,
        )
        for pk, every_store, start, end, reason in selectors.store_exclusions(
            store, week_start, as_of
        )
    )
    return {"special_dates": tuple(dates), "exclusions": exclusions}


def stores_list(
    *, scope: Scope, search: str = "", limit: int = 50, offset: int = 0, order: str = "id"
) -> StoreList:
    """The scope's stores whose id starts with `search`, a page of them in `order`
    (see STORE_ORDERS)."""
    if order not in STORE_ORDERS:
        raise StoreListError(f"order must be one of {', '.join(STORE_ORDERS)}, not {order!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise StoreListError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise StoreListError(f"offset must be between 0 and {MAX_OFFSET}, not {offset}")
    as_of = selectors.latest_poll_time()
    week_start = (as_of or datetime.now(UTC)) - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    total, rows = selectors.stores_page(
        scope.stores(),
        search=search,
        order_by=STORE_ORDERS[order],
        limit=limit,
        offset=offset,
        polls_since=week_start,
    )
    return StoreList(
        total=total,
        as_of=as_of,
        stores=tuple(
            StoreSummary(
                store_id=store_id,
                timezone=zone or DEFAULT_TIMEZONE,
                timezone_is_default=not zone,
                last_poll_at=last_at,
                last_poll_active=last_active,
                polls_last_week=count,
            )
            for store_id, zone, last_at, last_active, count in rows
        ),
    )


def _hours_rows(inputs: ReportInputs) -> tuple[HoursRow, ...]:
    rows = sorted(
        zip(
            inputs.hours_day.tolist(),
            inputs.hours_start_us.tolist(),
            inputs.hours_end_us.tolist(),
            strict=True,
        )
    )
    return tuple(HoursRow(day, _time_of_day(start), _time_of_day(end)) for day, start, end in rows)


def _time_of_day(us: int) -> time | None:
    if us == CLOSED:
        return None
    return (datetime.min.replace(tzinfo=UTC) + timedelta(microseconds=us)).time()


def _figures(table: ReportTable) -> Figures | None:
    if len(table) == 0:
        return None
    names = header()[1:]
    return Figures(
        columns=dict(zip(names, figure_cells(table)[0], strict=True)),
        business=dict(
            zip(
                (f"business_last_{window}" for window in WINDOW_NAMES),
                business_cells(table)[0],
                strict=True,
            )
        ),
        uptime_ticks=_three(table.uptime[0].tolist()),
        business_ticks=_three(table.business[0].tolist()),
    )


def _three(values: list[int]) -> tuple[int, int, int]:
    hour, day, week = values
    return hour, day, week


def _interval(start: int, end: int, zone: str) -> Interval:
    return Interval(
        start=utc_instant(start),
        end=utc_instant(end),
        start_local=local_instant(start, zone),
        end_local=local_instant(end, zone),
        ticks=end - start,
    )


def _intervals(spans: Spans, zone: str) -> tuple[Interval, ...]:
    return tuple(
        _interval(start, end, zone)
        for start, end in zip(spans.start.tolist(), spans.end.tolist(), strict=True)
    )


def _segments(timeline: Timeline) -> tuple[Segment, ...]:
    pieces = timeline.pieces
    return tuple(
        Segment(**vars(_interval(start, end, timeline.zone)), active=active)
        for start, end, active in zip(
            pieces.start.tolist(), pieces.end.tolist(), pieces.active.tolist(), strict=True
        )
    )


def _poll_views(inputs: ReportInputs, zone: str) -> tuple[PollView, ...]:
    times, active = store_polls(inputs, 0)
    if len(times) == 0:
        return ()
    switches: list[datetime | None] = [utc_instant(t) for t in switch_ticks(times).tolist()]
    starts, ends = [None, *switches], [*switches, None]
    return tuple(
        PollView(
            at=utc_instant(at * TICKS_PER_US),
            at_local=local_instant(at * TICKS_PER_US, zone),
            active=is_active,
            holds_from=start,
            holds_until=end,
        )
        for at, is_active, start, end in zip(
            times.tolist(), active.tolist(), starts, ends, strict=True
        )
    )
