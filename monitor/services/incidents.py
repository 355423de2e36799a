"""Incidents: a store's outages told live (docs/report-semantics.md §11, docs/incidents.md).

`evaluate_incidents(stores, at, …)` makes the stored incidents of the stores it
looks at equal to their outages as the engine sees them at `at`
(monitor.engine.incidents), in one transaction, and records an IncidentEvent
for every change in that same transaction (the outbox the channels deliver
from). It runs after every load that commits (`evaluate_after_load`) and
every minute (`EVALUATE`, Celery beat or the embedded queue's ticker).

Reconciling a store, within the look-back window (the week before `at`):

- an outage whose start an incident has keeps that incident (its id); one that
  overlaps an incident whose start a late poll moved keeps that one, moved; an
  outage cut by the window's start continues the incident that began before it;
- a changed incident records `incident.resolved` when its outage ended,
  `incident.updated` when its start or end moved otherwise;
- an outage without an incident becomes one (`incident.opened`, and
  `incident.resolved` at once when it is over), unless the store is silent;
- an incident whose outage is gone altogether (an exclusion now covers it,
  its hours changed) is deleted, with an `incident.updated` whose document's
  status is "retracted";
- an open incident of a silent store records one `store.silent`.

Which stores are looked at: only those that may have something to change,
so that an evaluation reads a few stores' week, not the fleet's (see
`_candidates`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from monitor import db, selectors
from monitor.engine.hours import DEFAULT_TIMEZONE
from monitor.engine.incidents import LOOK_BACK_US, IncidentState, incident_state
from monitor.engine.keys import sort_by_group
from monitor.engine.timeline import local_instant, utc_instant
from monitor.engine.units import TICKS_PER_MINUTE, TICKS_PER_US, US_PER_SECOND
from monitor.jobqueue.base import Job
from monitor.models import Incident, IncidentEvent, Store
from monitor.services import notifications

logger = logging.getLogger(__name__)

_TICKS_PER_SECOND = US_PER_SECOND * TICKS_PER_US
# The status a deleted incident's last document shows (its outage is gone).
RETRACTED = "retracted"
# ORM lookups by many keys go in chunks: SQLite limits a statement's parameters.
_CHUNK = 500
# What an evaluation may change of a stored incident.
_CHANGING = ["status", "start_tick", "end_tick", "started_at", "ended_at", "silent_at"]


def incident_document(incident: Incident) -> dict[str, Any]:
    """The incident as the API answers it and every event carries it.

    Instants are ISO 8601, in UTC and in the store's local time with its offset,
    truncated to the microsecond; the duration uses the exact value (§8) and is
    None while the incident is open.
    """
    zone = incident.store.timezone_str or DEFAULT_TIMEZONE
    end = incident.end_tick
    return {
        "id": incident.pk,
        "store_id": incident.store.store_id,
        "status": incident.status,
        "started_at": utc_instant(incident.start_tick).isoformat(),
        "ended_at": None if end is None else utc_instant(end).isoformat(),
        "duration_seconds": None
        if end is None
        else (end - incident.start_tick) / _TICKS_PER_SECOND,
        "started_at_local": local_instant(incident.start_tick, zone).isoformat(),
        "ended_at_local": None if end is None else local_instant(end, zone).isoformat(),
        "timezone": zone,
    }


@dataclass
class Evaluation:
    """What one evaluation did: the stores it looked at, and the events it recorded."""

    at: datetime
    stores: int = 0
    events: dict[str, int] = field(default_factory=dict)

    @property
    def recorded(self) -> int:
        return sum(self.events.values())


def evaluate_incidents(
    stores: Collection[int] | None,
    at: datetime,
    *,
    threshold_minutes: int,
    silent_after_minutes: int,
    changed: Collection[int] | None = None,
    earliest: Mapping[int, int] | None = None,
) -> Evaluation:
    """Bring the incidents of `stores` (Store keys; None: every store) up to date at
    `at` (aware), with the threshold and silence limit given (minutes).

    `changed`: of `stores`, those whose data may hold an outage the stored
    incidents do not know of yet (a poll load: the stores it brought an
    inactive poll); None: any of them (hours, zones, the calendar); empty:
    none, only time passed (the periodic evaluation). `earliest`: of a poll
    load, each store's earliest poll in it (µs): its incidents already over
    can move only when that poll is late (older than the store's latest);
    None: any of them may move. Running it twice records nothing the second time.
    """
    if at.tzinfo is None:
        raise ValueError(f"evaluation instant {at.isoformat()} has no UTC offset")
    at = at.astimezone(UTC)
    evaluation = Evaluation(at)
    candidates = _candidates(stores, at, silent_after_minutes, changed, earliest)
    if not candidates:
        return evaluation
    keys = sorted(candidates)
    with transaction.atomic():
        db.current().lock_stores(keys)
        inputs, store_pks = selectors.report_inputs_keyed(
            at, selectors.StoreRange(store_pks=tuple(keys))
        )
        state = incident_state(
            inputs,
            np.arange(len(store_pks), dtype=np.int64),
            threshold_ticks=threshold_minutes * TICKS_PER_MINUTE,
            silent_after_ticks=silent_after_minutes * TICKS_PER_MINUTE,
        )
        changes = _Changes(at)
        known = _incidents_reaching(store_pks.tolist(), state.window_start)
        outages = _outages_by_store(state)
        silent = state.silent.tolist()
        for index, pk in enumerate(store_pks.tolist()):
            mine, theirs = outages.get(index, []), known.get(pk, [])
            if not _as_stored(mine, theirs, silent=silent[index]):
                _reconcile(state.window_start, silent[index], pk, mine, theirs, changes)
        changes.save()
        if changes.events:
            # The channels' dispatcher takes the events once they are committed.
            notifications.dispatch_on_commit()
    evaluation.stores = len(store_pks)
    evaluation.events = changes.counts()
    return evaluation


def _candidates(
    stores: Collection[int] | None,
    at: datetime,
    silent_after_minutes: int,
    changed: Collection[int] | None,
    earliest: Mapping[int, int] | None,
) -> set[int]:
    """The stores whose incidents may change at `at`:

    - those with an open incident (it may resolve, move, fall silent);
    - after a load, those with an incident over but within the look-back
      window, which a late poll, or new hours or calendar, may move;
    - live stores (a poll within the silence limit) whose latest poll is
      inactive (an incident may open), or that a load changed.

    A silent store without an incident opens none; an active one without an
    incident in reach has no outage to tell (its outages became incidents
    when they happened, or were too short).
    """
    at_us = selectors.to_epoch_us(at)
    silence_start = at - timedelta(minutes=silent_after_minutes)
    load = stores is not None or changed is None
    reaching = Q(status=Incident.Status.OPEN)
    if load:
        reaching |= Q(end_tick__gt=(at_us - LOOK_BACK_US) * TICKS_PER_US)
    held: set[int] = set()
    over: set[int] = set()
    # order_by(): the model's ordering would join DISTINCT's columns (one row an incident).
    found = (
        Incident.objects.filter(reaching).order_by().values_list("store_id", "status").distinct()
    )
    for store, status in found:
        (held if status == Incident.Status.OPEN else over).add(store)
    poll_store, poll_time, poll_active = selectors.polls_between(silence_start, at)
    live, latest_us, latest_active = _latest_polls(poll_store, poll_time, poll_active)
    if earliest is not None:
        # A poll no older than the store's latest moves nothing before it.
        latest = dict(zip(live.tolist(), latest_us.tolist(), strict=True))
        over = {pk for pk in over if pk in earliest and earliest[pk] < latest.get(pk, at_us + 1)}
    candidates = held | over | set(live[~latest_active].tolist())
    candidates |= set(live.tolist()) if changed is None else set(live.tolist()) & set(changed)
    return candidates if stores is None else candidates & set(stores)


def _latest_polls(
    store: np.ndarray, time_us: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stores of these polls, and the instant and status of each one's latest."""
    store, time_us, active = sort_by_group(store, time_us, active)
    last = np.ones(len(store), dtype=bool)
    last[:-1] = store[1:] != store[:-1]
    return store[last], time_us[last], active[last]


def _incidents_reaching(pks: list[int], window_start: int) -> dict[int, list[_Stored]]:
    """The incidents of these stores that are open or end within the window, by store,
    oldest first: only what reconciling reads (most of them stay as they are)."""
    found: dict[int, list[_Stored]] = {}
    for chunk in _chunks(pks):
        reaching = Incident.objects.filter(store_id__in=chunk).filter(
            Q(status=Incident.Status.OPEN) | Q(end_tick__gt=window_start)
        )
        for row in reaching.order_by("store_id", "start_tick").values_list(
            "id", "store_id", "status", "start_tick", "end_tick", "silent_at"
        ):
            incident = _Stored(*row)
            found.setdefault(incident.store_id, []).append(incident)
    return found


def _chunks(keys: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


@dataclass(frozen=True)
class _Outage:
    start: int
    end: int | None  # None: open


@dataclass(eq=False)
class _Stored:
    """A stored incident as reconciling reads and changes it (a model only if it changes)."""

    pk: int
    store_id: int
    status: str
    start_tick: int
    end_tick: int | None
    silent_at: datetime | None

    def model(self, at: datetime) -> Incident:
        incident = Incident(id=self.pk, store_id=self.store_id, silent_at=self.silent_at)
        _set_bounds(incident, _Outage(self.start_tick, self.end_tick))
        incident.updated_at = at
        return incident


class _Changes:
    """The writes of one evaluation, made together by save()."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.created: list[Incident] = []
        self.changed: list[_Stored] = []
        self.deleted: list[_Stored] = []
        # (incident, type); the documents are made last, new incidents having
        # their ids by then.
        self.events: list[tuple[_Stored | Incident, str]] = []

    def event(self, incident: _Stored | Incident, kind: str) -> None:
        self.events.append((incident, kind))

    def save(self) -> None:
        models = {
            id(stored): stored.model(self.at)
            for stored in [*self.changed, *self.deleted]
            + [i for i, _ in self.events if isinstance(i, _Stored)]
        }

        def model(incident: _Stored | Incident) -> Incident:
            return incident if isinstance(incident, Incident) else models[id(incident)]

        _attach_stores([*models.values(), *self.created])
        retracted = {
            id(stored): {**incident_document(models[id(stored)]), "status": RETRACTED}
            for stored in self.deleted
        }
        # The deleted first: a moved incident may take a start a deleted one had.
        Incident.objects.filter(pk__in=[stored.pk for stored in self.deleted]).delete()
        if self.changed:
            Incident.objects.bulk_update(
                [models[id(stored)] for stored in self.changed], [*_CHANGING, "updated_at"]
            )
        Incident.objects.bulk_create(self.created)
        IncidentEvent.objects.bulk_create(
            IncidentEvent(
                incident=None if id(incident) in retracted else model(incident),
                organization_id=model(incident).store.organization_id,
                type=kind,
                document=retracted.get(id(incident)) or incident_document(model(incident)),
            )
            for incident, kind in self.events
        )

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for _, kind in self.events:
            counted[kind] = counted.get(kind, 0) + 1
        return counted


def _attach_stores(incidents: list[Incident]) -> None:
    """Give these incidents their Store objects (the documents name the store's id and
    zone, the events its organization), each store read once."""
    pks = sorted({incident.store_id for incident in incidents})
    stores: dict[int, Store] = {}
    for chunk in _chunks(pks):
        stores.update((store.pk, store) for store in Store.objects.filter(pk__in=chunk))
    for incident in incidents:
        incident.store = stores[incident.store_id]


def _outages_by_store(state: IncidentState) -> dict[int, list[_Outage]]:
    """The outages of each store (by its index), oldest first."""
    found: dict[int, list[_Outage]] = {}
    outages = state.outages
    for store, start, end, is_open in zip(
        outages.store.tolist(),
        outages.start.tolist(),
        outages.end.tolist(),
        outages.open.tolist(),
        strict=True,
    ):
        found.setdefault(store, []).append(_Outage(start, None if is_open else end))
    return found


def _as_stored(outages: list[_Outage], known: list[_Stored], *, silent: bool) -> bool:
    """Whether the store's incidents are its outages already (the common case, told
    apart cheaply): the same bounds, and no open one to mark silent."""
    if [(o.start, o.end) for o in outages] != [(i.start_tick, i.end_tick) for i in known]:
        return False
    return not silent or all(i.end_tick is not None or i.silent_at for i in known)


def _reconcile(
    window_start: int,
    silent: bool,
    pk: int,
    outages: list[_Outage],
    known: list[_Stored],
    changes: _Changes,
) -> None:
    """Make the incidents of store `pk` its outages; record each change."""
    matched = _match(outages, known, window_start)
    for outage in outages:
        incident = matched.get(outage)
        if incident is None:
            if not silent:
                _open(pk, outage, changes)
            continue
        start = incident.start_tick if outage.start == window_start else outage.start
        _move(incident, _Outage(min(start, outage.start), outage.end), changes)
    kept = set(map(id, matched.values()))
    for incident in known:
        if id(incident) not in kept:
            changes.deleted.append(incident)
            changes.event(incident, IncidentEvent.Type.UPDATED)
        elif silent and incident.status == Incident.Status.OPEN and incident.silent_at is None:
            incident.silent_at = changes.at
            if incident not in changes.changed:
                changes.changed.append(incident)
            changes.event(incident, IncidentEvent.Type.SILENT)


def _match(
    outages: list[_Outage], known: list[_Stored], window_start: int
) -> dict[_Outage, _Stored]:
    """Which incident each outage continues: the one with its start; else, for an
    outage cut by the window's start, one begun before the window and reaching
    it; else the first one it overlaps (a late poll moved its start)."""
    matched: dict[_Outage, _Stored] = {}
    free = list(known)
    by_start = {incident.start_tick: incident for incident in known}
    for outage in outages:
        incident = by_start.get(outage.start)
        if incident is not None and incident in free:
            matched[outage] = incident
            free.remove(incident)
    for outage in outages:
        if outage in matched:
            continue
        for incident in free:
            began_before = outage.start == window_start and incident.start_tick < window_start
            if began_before or _overlaps(outage, incident):
                matched[outage] = incident
                free.remove(incident)
                break
    return matched


def _overlaps(outage: _Outage, incident: _Stored) -> bool:
    far = 2**62
    outage_end = far if outage.end is None else outage.end
    incident_end = far if incident.end_tick is None else incident.end_tick
    return outage.start < incident_end and incident.start_tick < outage_end


def _open(pk: int, outage: _Outage, changes: _Changes) -> None:
    incident = Incident(store_id=pk)
    _set_bounds(incident, outage)
    incident.updated_at = changes.at
    changes.created.append(incident)
    changes.event(incident, IncidentEvent.Type.OPENED)
    if outage.end is not None:
        changes.event(incident, IncidentEvent.Type.RESOLVED)


def _move(incident: _Stored, outage: _Outage, changes: _Changes) -> None:
    """Give the incident its outage's bounds; the event that says what changed."""
    if (incident.start_tick, incident.end_tick) == (outage.start, outage.end):
        return
    was_open = incident.status == Incident.Status.OPEN
    incident.start_tick, incident.end_tick = outage.start, outage.end
    incident.status = Incident.Status.OPEN if outage.end is None else Incident.Status.RESOLVED
    changes.changed.append(incident)
    if was_open and outage.end is not None:
        changes.event(incident, IncidentEvent.Type.RESOLVED)
    else:
        changes.event(incident, IncidentEvent.Type.UPDATED)


def _set_bounds(incident: Incident, outage: _Outage) -> None:
    incident.start_tick = outage.start
    incident.started_at = utc_instant(outage.start)
    incident.end_tick = outage.end
    incident.ended_at = None if outage.end is None else utc_instant(outage.end)
    incident.status = Incident.Status.OPEN if outage.end is None else Incident.Status.RESOLVED


# ---- when evaluations run -----------------------------------------------------------------


def evaluate_now(
    stores: Collection[int] | None = None,
    changed: Collection[int] | None = None,
    earliest: Mapping[int, int] | None = None,
) -> Evaluation:
    """An evaluation at the current time with the configured threshold and silence
    limit (ALERT_THRESHOLD_MINUTES, ALERT_SILENT_AFTER_MINUTES)."""
    evaluation = evaluate_incidents(
        stores,
        datetime.now(UTC),
        threshold_minutes=settings.ALERT_THRESHOLD_MINUTES,
        silent_after_minutes=settings.ALERT_SILENT_AFTER_MINUTES,
        changed=changed,
        earliest=earliest,
    )
    if evaluation.recorded:
        logger.info(
            "incidents at %s: %d stores looked at, events %s",
            evaluation.at.isoformat(),
            evaluation.stores,
            evaluation.events,
        )
    return evaluation


def evaluate_after_load(
    stores: Iterable[int] | None,
    changed: Iterable[int] | None,
    earliest: Mapping[int, int] | None = None,
) -> None:
    """After a load committed: the stores it named (None: every store), of which
    `changed` may hold a new outage (None: all of them); of a poll load, each
    store's earliest poll in it (see evaluate_incidents)."""
    evaluate_now(
        None if stores is None else frozenset(stores),
        None if changed is None else frozenset(changed),
        earliest,
    )


def evaluate_on_commit(stores: Iterable[int] | None) -> None:
    """Once the caller's transaction commits, evaluate these stores (None: every
    store), any of which may hold a new outage (a change of hours or calendar)."""
    keys = None if stores is None else frozenset(stores)
    transaction.on_commit(partial(evaluate_after_load, keys, None), robust=True)


def _evaluate_every_store(_: str) -> None:
    evaluate_now(None, frozenset())


# The periodic evaluation (every ALERT_EVALUATE_INTERVAL_SECONDS: Celery beat, or
# the embedded queue's ticker): what time alone changes. Its key names nothing.
EVALUATE = Job[str]("monitor.incidents_evaluate", _evaluate_every_store)
EVERY_STORE = "every-store"
