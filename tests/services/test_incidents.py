"""Incidents (docs/report-semantics.md §11): evaluate_incidents keeps the stored incidents
equal to the stores' outages, records one event per change in the same
transaction, and records nothing when run again."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from monitor.engine.units import TICKS_PER_MINUTE, TICKS_PER_US
from monitor.models import (
    BusinessHours,
    Exclusion,
    Incident,
    IncidentEvent,
    Organization,
    StatusPoll,
    Store,
)
from monitor.scope import PLATFORM
from monitor.selectors import to_epoch_us
from monitor.services.imports import Body, polls_import
from monitor.services.incidents import RETRACTED, Evaluation, evaluate_incidents
from monitor.services.store_edits import store_hours_replace
from tests.engine.reference import Excluded, Poll, StoreData
from tests.engine.test_incidents import reference_outages
from tests.engine.test_properties import hours_rows

pytestmark = pytest.mark.django_db

T = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)  # a Monday
SILENT_AFTER = 180


def at(minutes: float) -> datetime:
    """`minutes` after T (negative: before)."""
    return T + timedelta(minutes=minutes)


def ticks(instant: datetime) -> int:
    return to_epoch_us(instant) * TICKS_PER_US


def store(store_id: str = "s1", zone: str = "UTC", **fields: object) -> Store:
    made: Store = Store.objects.create(store_id=store_id, timezone_str=zone, **fields)
    return made


def polls(of: Store, *rows: tuple[float, bool]) -> None:
    StatusPoll.objects.bulk_create(
        StatusPoll(store=of, timestamp_utc=at(minutes), active=active) for minutes, active in rows
    )


def evaluate(
    stores: Iterable[Store] | None,
    when: datetime,
    *,
    threshold: int = 0,
    changed: Iterable[Store] | None = None,
    earliest: dict[Store, datetime] | None = None,
) -> Evaluation:
    return evaluate_incidents(
        None if stores is None else [s.pk for s in stores],
        when,
        threshold_minutes=threshold,
        silent_after_minutes=SILENT_AFTER,
        changed=None if changed is None else [s.pk for s in changed],
        earliest=None
        if earliest is None
        else {s.pk: to_epoch_us(instant) for s, instant in earliest.items()},
    )


def events() -> list[tuple[str, int | None, str]]:
    return [
        (event.type, event.incident_id, event.document["status"])
        for event in IncidentEvent.objects.order_by("created_at", "type")
    ]


def bounds(incident: Incident) -> tuple[int, int | None, str]:
    return incident.start_tick, incident.end_tick, incident.status


def test_an_outage_opens_an_incident_at_once_from_its_own_start() -> None:
    acme = Organization.objects.create(slug="acme", name="Acme")
    s1 = store(organization=acme)
    polls(s1, (-60, True), (-10, False))

    evaluation = evaluate([s1], T)

    incident = Incident.objects.get()
    assert bounds(incident) == (ticks(at(-35)), None, "open")
    assert incident.started_at == at(-35)
    assert evaluation.events == {"incident.opened": 1}
    event = IncidentEvent.objects.get()
    assert (event.type, event.incident_id, event.organization_id) == (
        "incident.opened",
        incident.pk,
        acme.pk,
    )
    assert event.document == {
        "id": incident.pk,
        "store_id": "s1",
        "status": "open",
        "started_at": "2024-05-06T11:25:00+00:00",
        "ended_at": None,
        "duration_seconds": None,
        "started_at_local": "2024-05-06T11:25:00+00:00",
        "ended_at_local": None,
        "timezone": "UTC",
    }
    assert event.dispatched_at is None


def test_running_it_again_records_nothing() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False))
    evaluate([s1], T)

    again = evaluate([s1], T)
    later = evaluate(None, at(1), changed=[])

    assert again.recorded == later.recorded == 0
    assert IncidentEvent.objects.count() == 1
    assert Incident.objects.count() == 1


def test_an_active_poll_resolves_it_at_the_midpoint_keeping_its_id() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False))
    evaluate([s1], T)
    opened = Incident.objects.get()

    polls(s1, (10, True))
    evaluate([s1], at(11), changed=[])

    resolved = Incident.objects.get()
    assert resolved.pk == opened.pk
    assert bounds(resolved) == (ticks(at(-35)), ticks(at(0)), "resolved")
    assert resolved.ended_at == T
    assert events() == [
        ("incident.opened", opened.pk, "open"),
        ("incident.resolved", opened.pk, "resolved"),
    ]
    document = IncidentEvent.objects.get(type="incident.resolved").document
    assert document["duration_seconds"] == 35 * 60


def test_a_late_poll_moving_the_start_sends_an_update_with_the_same_id() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False))
    evaluate([s1], T)
    opened = Incident.objects.get()

    polls(s1, (-50, False))  # late: the store was down earlier than thought
    evaluate([s1], at(1), changed=[s1])

    moved = Incident.objects.get()
    assert moved.pk == opened.pk
    assert bounds(moved) == (ticks(at(-55)), None, "open")
    assert events()[-1] == ("incident.updated", opened.pk, "open")


def test_a_late_poll_moving_a_resolved_end_sends_an_update() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False), (10, True))
    evaluate([s1], at(11))
    resolved = Incident.objects.get()
    assert bounds(resolved) == (ticks(at(-35)), ticks(at(0)), "resolved")

    polls(s1, (5, False))  # late: still down at 5
    evaluate([s1], at(12), changed=[s1])

    assert bounds(Incident.objects.get(pk=resolved.pk)) == (
        ticks(at(-35)),
        ticks(at(7.5)),
        "resolved",
    )
    assert [kind for kind, _, _ in events()] == [
        "incident.opened",
        "incident.resolved",
        "incident.updated",
    ]


def test_a_late_active_poll_splits_it_the_second_part_is_a_new_incident() -> None:
    s1 = store()
    polls(s1, (-60, True), (-40, False), (-10, False))
    evaluate([s1], T)
    first = Incident.objects.get()

    polls(s1, (-25, True))
    evaluate([s1], at(1), changed=[s1])

    early, late = Incident.objects.order_by("start_tick")
    assert early.pk == first.pk
    assert bounds(early) == (ticks(at(-50)), ticks(at(-32.5)), "resolved")
    assert bounds(late) == (ticks(at(-17.5)), None, "open")
    assert [kind for kind, _, _ in events()][1:] == ["incident.resolved", "incident.opened"]


def test_the_threshold_delays_the_opening_not_the_start() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False))  # down since -35

    assert evaluate([s1], at(-30), threshold=30).recorded == 0  # polls after -30 don't exist
    assert evaluate([s1], at(-6), threshold=30).recorded == 0  # 29 minutes
    evaluate([s1], at(-5), threshold=30)

    assert bounds(Incident.objects.get()) == (ticks(at(-35)), None, "open")


def test_a_short_resolved_outage_under_the_threshold_is_no_incident() -> None:
    s1 = store()
    polls(s1, (-12, True), (-10, False), (-6, True))  # down from -11 to -8

    assert evaluate([s1], T, threshold=5).recorded == 0
    evaluate([s1], T, threshold=0)
    assert bounds(Incident.objects.get()) == (ticks(at(-11)), ticks(at(-8)), "resolved")


def test_a_silent_store_opens_nothing_and_an_open_incident_gets_one_notice() -> None:
    quiet, loud = store("quiet"), store("loud")
    polls(quiet, (-400, True), (-200, False))  # its last poll is 200 minutes old
    polls(loud, (-60, True), (-10, False))

    evaluate([quiet, loud], T)
    assert list(Incident.objects.values_list("store__store_id", flat=True)) == ["loud"]

    evaluate(None, at(SILENT_AFTER - 10 + 1), changed=[])  # loud is silent now
    evaluate(None, at(SILENT_AFTER + 30), changed=[])
    incident = Incident.objects.get()
    assert incident.status == "open"
    assert incident.silent_at == at(SILENT_AFTER - 10 + 1)
    assert [kind for kind, _, _ in events()] == ["incident.opened", "store.silent"]


def test_closing_time_resolves_it_and_a_silent_store_opens_nothing_the_next_morning() -> None:
    s1 = store()
    for day in range(7):
        BusinessHours.objects.create(
            store=s1, day_of_week=day, start_time_local=time(9), end_time_local=time(13)
        )
    polls(s1, (-60, True), (-30, False))  # 11:00 active, 11:30 inactive

    evaluate([s1], T)
    assert bounds(Incident.objects.get()) == (ticks(at(-45)), None, "open")

    evaluate(None, at(61), changed=[])  # 13:01: closed at 13:00
    assert bounds(Incident.objects.get()) == (ticks(at(-45)), ticks(at(60)), "resolved")

    evaluate(None, at(22 * 60), changed=[])  # 10:00 next day: down again, but silent
    assert Incident.objects.count() == 1
    assert [kind for kind, _, _ in events()] == ["incident.opened", "incident.resolved"]


def test_business_hours_opening_on_an_inactive_store_open_an_incident() -> None:
    s1 = store()
    for day in range(7):
        BusinessHours.objects.create(
            store=s1, day_of_week=day, start_time_local=time(12), end_time_local=time(18)
        )
    polls(s1, (-90, True), (-30, False))  # inactive since 11:00, before opening

    assert evaluate(None, at(-1), changed=[]).recorded == 0
    evaluate(None, at(1), changed=[])

    assert bounds(Incident.objects.get()) == (ticks(T), None, "open")


def test_an_overnight_shift_keeps_one_incident_across_midnight() -> None:
    s1 = store()
    for day in range(7):
        BusinessHours.objects.create(
            store=s1, day_of_week=day, start_time_local=time(20), end_time_local=time(2)
        )
    night = T.replace(hour=23)
    polls(s1, (11 * 60 - 60, True), (11 * 60 - 30, False))  # 22:00 active, 22:30 inactive
    evaluate([s1], night)
    opened = Incident.objects.get()

    evaluate(None, night + timedelta(hours=1, minutes=30), changed=[])  # 00:30
    evaluate(None, night + timedelta(hours=3, minutes=1), changed=[])  # 02:01: closed

    incident = Incident.objects.get()
    assert incident.pk == opened.pk
    assert bounds(incident) == (
        ticks(night - timedelta(minutes=45)),
        ticks(night + timedelta(hours=3)),
        "resolved",
    )


def test_an_exclusion_starting_resolves_it_and_one_covering_it_retracts_it() -> None:
    s1 = store()
    polls(s1, (-60, True), (-10, False))
    Exclusion.objects.create(store=s1, start_utc=at(30), end_utc=at(90))
    evaluate([s1], T)

    evaluate(None, at(30), changed=[])  # the exclusion starts now: not business time
    incident = Incident.objects.get()
    assert bounds(incident) == (ticks(at(-35)), ticks(at(30)), "resolved")

    # Maintenance, it turns out: the whole outage is excluded.
    Exclusion.objects.create(store=None, start_utc=at(-40), end_utc=at(30))
    evaluate([s1], at(32))

    assert not Incident.objects.exists()
    retraction = IncidentEvent.objects.get(type="incident.updated")
    assert retraction.incident_id is None
    assert retraction.document["status"] == RETRACTED
    assert retraction.document["id"] == incident.pk


def test_an_outage_older_than_the_look_back_keeps_its_start() -> None:
    s1 = store()
    ten_days = 60 * 24 * 10
    polls(s1, (-ten_days, False))
    evaluate([s1], at(-ten_days + 1))
    incident = Incident.objects.get()
    assert incident.start_tick == ticks(at(-ten_days))

    polls(s1, (-10, False))  # still down ten days later: the week cannot see its start
    evaluate([s1], T)
    evaluate(None, at(1), changed=[])

    assert bounds(Incident.objects.get()) == (ticks(at(-ten_days)), None, "open")
    assert IncidentEvent.objects.count() == 1


def test_only_the_stores_asked_for_are_evaluated() -> None:
    one, two = store("one"), store("two")
    polls(one, (-10, False))
    polls(two, (-10, False))

    evaluation = evaluate([one], T)

    assert evaluation.stores == 1
    assert list(Incident.objects.values_list("store__store_id", flat=True)) == ["one"]


def test_a_store_without_change_or_incident_is_not_read() -> None:
    up, down = store("up"), store("down")
    polls(up, (-10, True))
    polls(down, (-10, False))

    assert evaluate([up, down], T, changed=[]).stores == 1  # down: its latest is inactive
    assert evaluate([up], T, changed=[]).stores == 0


def test_a_timely_poll_reads_no_store_whose_incidents_are_over_a_late_one_does() -> None:
    s1 = store()
    polls(s1, (-60, True), (-40, False), (-20, True))
    evaluate([s1], T)
    assert Incident.objects.get().status == "resolved"

    polls(s1, (0, True))
    assert evaluate([s1], T, changed=[], earliest={s1: T}).stores == 0
    polls(s1, (-30, True))  # late: between the inactive poll and the active one
    late = evaluate([s1], T, changed=[], earliest={s1: at(-30)})
    assert (late.stores, late.events) == (1, {"incident.updated": 1})


def test_an_evaluation_instant_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        evaluate(None, T.replace(tzinfo=None))


# ---- evaluated after every load that commits ----------------------------------------------


def _poll_body(*rows: tuple[str, str, datetime]) -> Body:
    data = [
        {"store_id": store_id, "status": status, "timestamp_utc": instant.isoformat()}
        for store_id, status, instant in rows
    ]
    return Body(orjson.dumps(data), "application/json")


def test_a_poll_load_evaluates_the_stores_it_named_once_committed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    now = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        polls_import(
            _poll_body(
                ("down", "active", now - timedelta(minutes=60)),
                ("down", "inactive", now - timedelta(minutes=10)),
                ("up", "active", now - timedelta(minutes=10)),
            )
        )

    incident = Incident.objects.get()
    assert incident.store.store_id == "down"
    assert incident.start_tick == ticks(now - timedelta(minutes=35))
    assert [kind for kind, _, _ in events()] == ["incident.opened"]

    with django_capture_on_commit_callbacks(execute=True):
        polls_import(_poll_body(("down", "active", now)))
    assert Incident.objects.get().status == "resolved"


def test_a_rolled_back_load_evaluates_nothing(django_capture_on_commit_callbacks: Any) -> None:
    now = datetime.now(UTC)

    def interrupted_load() -> None:
        with transaction.atomic():
            polls_import(_poll_body(("down", "inactive", now - timedelta(minutes=10))))
            raise RuntimeError("interrupted")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        interrupted_load()
    assert callbacks == []
    assert not Incident.objects.exists()


def test_changing_hours_evaluates_the_store(django_capture_on_commit_callbacks: Any) -> None:
    now = datetime.now(UTC)
    s1 = store()
    StatusPoll.objects.create(store=s1, timestamp_utc=now - timedelta(minutes=10), active=False)
    closed = [{"day": str(day), "start_time_local": "", "end_time_local": ""} for day in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        store_hours_replace("s1", closed, scope=PLATFORM)
    assert not Incident.objects.exists()  # closed all week: never down

    with django_capture_on_commit_callbacks(execute=True):
        store_hours_replace("s1", [], scope=PLATFORM)  # open all week
    assert Incident.objects.get().status == "open"


def test_the_sample_data_raises_no_incident(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("load_sample_data", "--stores", "40", stdout=io.StringIO())

    assert callbacks  # the evaluations ran: the data is old, every store silent
    assert StatusPoll.objects.filter(active=False).exists()
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


# ---- the contract check: a live store's incidents are its outages ----------------------------

ZONES = ("UTC", "America/Chicago", "Asia/Kolkata", "Australia/Lord_Howe")
START = datetime(2024, 3, 8, 6, 0, tzinfo=UTC)  # two days before America's DST jump


@st.composite
def live_series(draw: st.DrawFn) -> tuple[StoreData, list[tuple[datetime, bool]], datetime]:
    """A store (zone, hours, maybe an exclusion) and its polls in the order they
    arrive: each a new poll within the silence limit of the one before, or now and
    then a late one between earlier polls; and the final evaluation instant."""
    zone = draw(st.sampled_from(ZONES))
    hours = draw(hours_rows())
    arrivals: list[tuple[datetime, bool]] = []
    now = START
    for _ in range(draw(st.integers(1, 15))):
        late = len(arrivals) > 1 and draw(st.integers(0, 4)) == 0
        if late:
            earliest = min(at for at, _ in arrivals)
            at_ = earliest + timedelta(
                seconds=draw(st.integers(1, int((now - earliest).total_seconds())))
            )
            if any(at_ == seen for seen, _ in arrivals):
                continue
        else:
            now += timedelta(seconds=draw(st.integers(60, (SILENT_AFTER - 10) * 60)))
            at_ = now
        arrivals.append((at_, draw(st.booleans())))
    excluded: tuple[Excluded, ...] = ()
    if draw(st.booleans()):
        start = START + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        excluded = (Excluded(start, start + timedelta(minutes=draw(st.integers(1, 600)))),)
    final = now + timedelta(minutes=draw(st.integers(0, SILENT_AFTER - 10)))
    data = StoreData(
        "s1",
        zone,
        hours=hours,
        polls=tuple(Poll(at_, active) for at_, active in arrivals),
        excluded=excluded,
    )
    return data, arrivals, final


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(live_series(), st.sampled_from([0, 20]))
def test_a_live_stores_incidents_are_its_outages(
    series: tuple[StoreData, list[tuple[datetime, bool]], datetime], threshold: int
) -> None:
    data, arrivals, final = series
    with transaction.atomic():
        s1 = store("s1", data.timezone)
        BusinessHours.objects.bulk_create(
            BusinessHours(
                store=s1, day_of_week=row.day, start_time_local=row.start, end_time_local=row.end
            )
            for row in data.hours
        )
        for period in data.excluded:
            Exclusion.objects.create(store=s1, start_utc=period.start, end_utc=period.end)
        now = START
        for at_, active in arrivals:
            now = max(now, at_)
            evaluate(None, now, threshold=threshold, changed=[])  # the minute's tick
            StatusPoll.objects.create(store=s1, timestamp_utc=at_, active=active)
            # The load's, as polls_import's: the store, inactive or not, its earliest poll.
            evaluate(
                [s1],
                now,
                threshold=threshold,
                changed=[] if active else [s1],
                earliest={s1: at_},
            )
        evaluate(None, final, threshold=threshold, changed=[])

        expected = reference_outages(data, final, threshold * TICKS_PER_MINUTE)
        stored = [
            (
                incident.start_tick,
                ticks(final) if incident.end_tick is None else incident.end_tick,
                incident.status == "open",
            )
            for incident in Incident.objects.order_by("start_tick")
        ]
        assert stored == expected
        assert not Incident.objects.filter(silent_at__isnull=False).exists()
        transaction.set_rollback(True)
