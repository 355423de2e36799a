"""Incidents as the API and the pages read them (docs/report-semantics.md §11).

Every read takes the reader's Scope: another organization's incident, or one
of a store out of reach, answers exactly as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor import selectors
from monitor.engine.hours import DEFAULT_TIMEZONE
from monitor.engine.timeline import local_instant, utc_instant
from monitor.models import Incident
from monitor.scope import Scope
from monitor.services.stores import MAX_LIMIT, MAX_OFFSET

STATUSES = tuple(Incident.Status.values)
# The largest primary key a 64-bit column holds: a larger id is of no incident
# (SQLite cannot even bind it).
_MAX_ID = 2**63 - 1


class IncidentQueryError(ValueError):
    """A malformed query of the incidents (the message says what)."""


class IncidentNotFoundError(LookupError):
    """No such incident or store, or one out of the reader's reach (alike)."""


@dataclass(frozen=True)
class IncidentList:
    total: int  # incidents matching the query, over every page
    incidents: tuple[Incident, ...]  # this page's, each with its store


@dataclass(frozen=True)
class IncidentTimes:
    """An incident's bounds as people read them: in UTC and in the store's local time
    (truncated to the microsecond), and its exact length in ticks once resolved."""

    incident: Incident
    timezone: str
    start: datetime
    start_local: datetime
    end: datetime | None
    end_local: datetime | None
    ticks: int | None


def incidents_list(
    *,
    scope: Scope,
    store_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> IncidentList:
    """A page of the incidents `scope` sees, open first then the latest first;
    of one store, of one status, overlapping [since, until) (selectors.incidents_matching).
    A store out of reach is no store: IncidentNotFoundError."""
    if status is not None and status not in STATUSES:
        raise IncidentQueryError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if since is not None and until is not None and since >= until:
        raise IncidentQueryError(
            f"since ({since.isoformat()}) must be before until ({until.isoformat()})"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise IncidentQueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise IncidentQueryError(f"offset must be between 0 and {MAX_OFFSET}, not {offset}")
    store = None
    if store_id is not None:
        store = scope.store(store_id)
        if store is None:
            raise IncidentNotFoundError(f"no store with id {store_id!r}")
    matching = selectors.incidents_matching(
        scope.incidents(), store=store, status=status, since=since, until=until
    )
    return IncidentList(total=matching.count(), incidents=tuple(matching[offset : offset + limit]))


def incident_get(incident_id: int, *, scope: Scope) -> Incident:
    """The incident with this id, with its store, if `scope` sees it."""
    incident = None
    if 0 < incident_id <= _MAX_ID:
        incident = scope.incidents().select_related("store").filter(pk=incident_id).first()
    if incident is None:
        raise IncidentNotFoundError(f"no incident with id {incident_id}")
    return incident


def open_incident_count(*, scope: Scope) -> int:
    """How many incidents of the stores `scope` sees are open."""
    return selectors.open_incident_count(scope.incidents())


def store_incidents(
    store_id: str, *, scope: Scope, since: datetime, until: datetime
) -> tuple[Incident, ...]:
    """Every incident of one store overlapping [since, until), open first then the
    latest first (the store page's, beside its outages of the same week)."""
    store = scope.store(store_id)
    if store is None:
        raise IncidentNotFoundError(f"no store with id {store_id!r}")
    return tuple(
        selectors.incidents_matching(scope.incidents(), store=store, since=since, until=until)
    )


def incident_times(incident: Incident) -> IncidentTimes:
    """The incident's bounds in UTC and local time (as services.incidents.incident_document
    prints them), and its exact length in ticks (None while open)."""
    zone = incident.store.timezone_str or DEFAULT_TIMEZONE
    end = incident.end_tick
    return IncidentTimes(
        incident=incident,
        timezone=zone,
        start=utc_instant(incident.start_tick),
        start_local=local_instant(incident.start_tick, zone),
        end=None if end is None else utc_instant(end),
        end_local=None if end is None else local_instant(end, zone),
        ticks=None if end is None else end - incident.start_tick,
    )
