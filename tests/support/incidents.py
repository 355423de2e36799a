"""Incident rows made directly, as the evaluation (monitor.services.incidents) stores them,
and their events (the notifications' outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.engine.timeline import utc_instant
from monitor.engine.units import TICKS_PER_US
from monitor.formatting import ticks_of
from monitor.models import Incident, IncidentEvent, Organization, Store
from monitor.selectors import to_epoch_us
from monitor.services.incidents import incident_document

STARTED = datetime(2023, 1, 25, 17, 30, tzinfo=UTC)  # the notification tests' incidents


def tick(instant: datetime, *, half: bool = False) -> int:
    """The instant's tick; `half`: half a microsecond after it (a midpoint)."""
    return to_epoch_us(instant) * TICKS_PER_US + int(half)


def make_incident(
    store: Store | str,
    start: datetime | int,
    end: datetime | int | None = None,
) -> Incident:
    """An incident of the store (made if given by id) from `start` to `end` (instants or
    exact ticks), open when `end` is None."""
    if isinstance(store, str):
        store = Store.objects.get_or_create(store_id=store)[0]
    start_tick = start if isinstance(start, int) else tick(start)
    end_tick = end if end is None or isinstance(end, int) else tick(end)
    return Incident.objects.create(
        store=store,
        status=Incident.Status.OPEN if end_tick is None else Incident.Status.RESOLVED,
        start_tick=start_tick,
        end_tick=end_tick,
        started_at=utc_instant(start_tick),
        ended_at=None if end_tick is None else utc_instant(end_tick),
    )


def incident_event(
    store_id: str,
    *,
    organization: Organization | None = None,
    event: str = IncidentEvent.Type.OPENED,
    zone: str = "America/Chicago",
    down_for: timedelta | None = None,
) -> IncidentEvent:
    """An incident of the store (made, in the organization, when missing) from
    STARTED, resolved after `down_for` when given, and its event, recorded as
    the evaluation records them."""
    store, _ = Store.objects.get_or_create(
        store_id=store_id, defaults={"timezone_str": zone, "organization": organization}
    )
    start = tick(STARTED)
    end = None if down_for is None else start + ticks_of(down_for)
    incident = Incident.objects.filter(store=store, start_tick=start).first() or make_incident(
        store, start, end
    )
    return IncidentEvent.objects.create(
        incident=incident,
        organization=store.organization,
        type=event,
        document=incident_document(incident),
    )


def incident_storm(count: int) -> list[IncidentEvent]:
    """`count` stores (storm-0, storm-1, …) going down at once: their incidents
    opened, in one batch, as one evaluation records them."""
    stores = Store.objects.bulk_create(
        Store(store_id=f"storm-{n}", timezone_str="America/Chicago") for n in range(count)
    )
    incidents = Incident.objects.bulk_create(
        Incident(store=store, start_tick=tick(STARTED), started_at=STARTED) for store in stores
    )
    return IncidentEvent.objects.bulk_create(
        IncidentEvent(
            incident=incident,
            type=IncidentEvent.Type.OPENED,
            document=incident_document(incident),
        )
        for incident in incidents
    )
