"""Incidents: a store's outages told live (docs/report-semantics.md §11)."""

from __future__ import annotations

from typing import Any

from monitor.engine.hours import DEFAULT_TIMEZONE
from monitor.engine.timeline import local_instant, utc_instant
from monitor.engine.units import TICKS_PER_US, US_PER_SECOND
from monitor.models import Incident

_TICKS_PER_SECOND = US_PER_SECOND * TICKS_PER_US


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
