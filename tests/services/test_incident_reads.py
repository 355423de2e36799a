"""incident_reads against a model of its rules: which incidents a query keeps (a store,
a status, the window [since, until) they overlap, in exact ticks), in which order,
and the page of them, on whichever database the suite runs on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import Incident, Store
from monitor.scope import PLATFORM
from monitor.services.incident_reads import (
    IncidentNotFoundError,
    IncidentQueryError,
    incident_get,
    incidents_list,
)
from tests.support.incidents import make_incident, tick

pytestmark = pytest.mark.django_db

T = datetime(2023, 1, 25, tzinfo=UTC)
BASE = tick(T)
STORES = ("a", "b", "c")
# Incidents within 20 minutes of T, on whole and half microseconds: bounds collide often.
TICKS = st.integers(-6, 6).map(lambda n: BASE + n * 180_000_000 + n % 2)


@st.composite
def incident_specs(draw: st.DrawFn) -> list[tuple[str, int, int | None]]:
    """(store, start tick, end tick or None) of incidents, each store's disjoint."""
    specs: list[tuple[str, int, int | None]] = []
    for store in STORES:
        bounds = sorted(set(draw(st.lists(TICKS, max_size=6))))
        for start, end in zip(bounds[::2], bounds[1::2], strict=False):
            specs.append((store, start, end))
        if len(bounds) % 2 and draw(st.booleans()):  # the last one still open
            specs.append((store, bounds[-1], None))
    return specs


def instants(draw_tick: int) -> datetime:
    """A query's instant: whole microseconds, as a query string gives them."""
    return T + timedelta(microseconds=(draw_tick - BASE) // 2)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=incident_specs(),
    store=st.sampled_from([None, *STORES]),
    status=st.sampled_from([None, "open", "resolved"]),
    since=st.none() | TICKS.map(instants),
    until=st.none() | TICKS.map(instants),
    limit=st.integers(1, 5),
    offset=st.integers(0, 6),
)
def test_a_query_keeps_orders_and_pages_as_the_rules_say(
    specs: list[tuple[str, int, int | None]],
    store: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> None:
    Incident.objects.all().delete()
    Store.objects.all().delete()
    for store_id in STORES:
        Store.objects.create(store_id=store_id)
    made = [make_incident(store_id, start, end) for store_id, start, end in specs]

    def kept(incident: Incident) -> bool:
        end = incident.end_tick
        return (
            (store is None or incident.store.store_id == store)
            and (status is None or incident.status == status)
            and (since is None or end is None or end > tick(since))
            and (until is None or incident.start_tick < tick(until))
        )

    expected = sorted(
        filter(kept, made), key=lambda i: (i.end_tick is not None, -i.start_tick, -i.pk)
    )
    if since is not None and until is not None and since >= until:
        with pytest.raises(IncidentQueryError):
            incidents_list(scope=PLATFORM, since=since, until=until)
        return

    listed = incidents_list(
        scope=PLATFORM,
        store_id=store,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )

    assert listed.total == len(expected)
    assert [i.pk for i in listed.incidents] == [i.pk for i in expected[offset : offset + limit]]


def test_an_id_no_column_can_hold_is_no_incident() -> None:
    make_incident("a", T)
    for incident_id in (0, -1, 2**63, 10**40):
        with pytest.raises(IncidentNotFoundError):
            incident_get(incident_id, scope=PLATFORM)
