"""Incident rows made directly, as the evaluation (monitor.services.incidents) stores them."""

from __future__ import annotations

from datetime import datetime

from monitor.engine.timeline import utc_instant
from monitor.engine.units import TICKS_PER_US
from monitor.models import Incident, Store
from monitor.selectors import to_epoch_us


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
