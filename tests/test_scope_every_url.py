"""Every URL pattern of the API and the pages, enumerated from the resolver, called
by one organization (its write key and its user's login at once) with another
organization's ids, with an unassigned store's and with the platform's report:
none answers 2xx, and nothing of theirs changes.

A new endpoint is walked as soon as it is routed. One whose path takes a
parameter other than a store or report id fails here until VICTIM_IDS says
which of another's ids to put there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from pytest_django.fixtures import Settings

from monitor.models import (
    BusinessHours,
    Channel,
    Delivery,
    Exclusion,
    Incident,
    Organization,
    ReportPart,
    SpecialHours,
    StatusPoll,
    Store,
)
from monitor.scope import Scope
from tests.tenancy import Tenants, make_tenants

pytestmark = pytest.mark.django_db

# For each parameter a path may take: another's id of that kind, from the tenants.
VICTIM_IDS: dict[str, Callable[[Tenants], list[str]]] = {
    "store_id": lambda t: [t.zeta.store_id, t.unassigned_store_id],
    "report_id": lambda t: [t.zeta.report.report_id, t.platform.report.report_id],
    "exclusion_id": lambda t: [str(pk) for pk in t.exclusion_ids],
    "incident_id": lambda t: [str(pk) for pk in t.incident_ids],
    "date": lambda t: [t.zeta_special_date],
    "channel_id": lambda t: [str(pk) for pk in _victim_channels()],
}


def _victim_channels() -> list[int]:
    """Zeta's channel and the platform's (made on first use)."""
    zeta = Organization.objects.get(slug="zeta")
    return [
        Channel.objects.get_or_create(kind="email", target=target, organization=owner)[0].pk
        for target, owner in [("ops@zeta.example", zeta), ("ops@example.com", None)]
    ]


METHODS = ("get", "head", "post", "put", "patch", "delete")
# Bodies that a write of each kind would accept (the ids come from the path).
BODIES: list[Any] = [
    {},
    [],
    {"timezone_str": "Asia/Kolkata"},
    [{"day": "0", "start_time_local": "09:00", "end_time_local": "10:00"}],
    {"organization": "acme"},
    {"organization": None},
]
# Query parameters that name an id, a filter or a search, on any path.
QUERY_NAMES = ("report", "report_id", "store_id", "organization", "q", "search")


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[RoutePattern]:
    """Every routed pattern, with its whole route (the prefixes of include())."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = entry.pattern
        assert isinstance(pattern, RoutePattern), f"{pattern}: a regex route to classify here"
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + str(pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield RoutePattern(prefix + str(pattern), name=entry.name, is_endpoint=True)


def filled(route: RoutePattern, tenants: Tenants) -> list[str]:
    """The route's paths with each parameter another's id (every combination)."""
    paths = ["/" + str(route)]
    for name in route.converters:
        assert name in VICTIM_IDS, f"/{route}: say in VICTIM_IDS which ids {name!r} takes"
        parameter = re.compile(rf"<(\w+:)?{name}>")
        paths = [
            parameter.sub(victim, path) for path in paths for victim in VICTIM_IDS[name](tenants)
        ]
    return paths


def victims_state(tenants: Tenants) -> dict[str, Any]:
    """Everything of theirs a request could change."""
    stores = [tenants.zeta.store_id, tenants.unassigned_store_id]
    reports = [tenants.zeta.report, tenants.platform.report]
    return {
        "stores": list(
            Store.objects.filter(store_id__in=stores)
            .order_by("store_id")
            .values_list("store_id", "timezone_str", "organization_id")
        ),
        "polls": StatusPoll.objects.filter(store__store_id__in=stores).count(),
        "hours": list(
            BusinessHours.objects.filter(store__store_id__in=stores).values_list(
                "store__store_id", "day_of_week", "start_time_local", "end_time_local"
            )
        ),
        "zeta_stores": list(Scope(tenants.zeta.organization).stores().values_list("store_id")),
        "reports": [
            (r.report_id, r.status, r.organization_id, r.row_count)
            for r in (type(r).objects.get(pk=r.pk) for r in reports)
        ],
        "parts": ReportPart.objects.filter(report__in=reports).count(),
        "special": list(
            SpecialHours.objects.filter(store__store_id__in=stores).values_list(
                "store__store_id", "date", "start_time_local", "end_time_local"
            )
        ),
        "exclusions": list(
            Exclusion.objects.filter(pk__in=tenants.exclusion_ids).values_list(
                "pk", "store_id", "start_utc", "end_utc"
            )
        ),
        "incidents": list(
            Incident.objects.filter(pk__in=tenants.incident_ids)
            .order_by("pk")
            .values_list("pk", "store_id", "status", "start_tick", "end_tick")
        ),
        "channels": list(
            Channel.objects.exclude(organization=tenants.acme.organization)
            .order_by("pk")
            .values_list("pk", "target", "organization_id")
        ),
        "deliveries": Delivery.objects.count(),
    }


@pytest.fixture
def tenants(settings: Settings) -> Tenants:
    settings.API_KEYS_REQUIRED = True
    settings.API_THROTTLE_RATES = {"read": None, "trigger": None, "write": None}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tenants = make_tenants()
    _victim_channels()
    return tenants


def call(client: Client, tenants: Tenants, method: str, path: str, body: Any = None) -> Any:
    """A request as acme: its key and its user's session (re-opened: logout ends it)."""
    client.force_login(tenants.acme.user)  # type: ignore[arg-type]
    send = getattr(client, method)
    if body is None:
        return send(path, **tenants.acme.headers)
    return send(path, body, content_type="application/json", **tenants.acme.headers)


def test_every_route_is_walked(tenants: Tenants) -> None:
    walked = {re.sub(r"<\w+:", "<", str(route)) for route in routes()}
    # The patterns this test knows hold ids, as a floor: the walk finds them all.
    assert {
        "api/monitor/stores/<store_id>",
        "api/monitor/stores/<store_id>/timezone",
        "api/monitor/reports/<report_id>/csv",
        "stores/<store_id>",
        "reports/<report_id>/report.csv",
    } <= walked


def test_no_path_with_anothers_id_answers_2xx(client: Client, tenants: Tenants) -> None:
    before = victims_state(tenants)
    answered = []
    for route in routes():
        if not route.converters:
            continue
        for path in filled(route, tenants):
            for method in METHODS:
                for body in [None, *BODIES] if method in ("post", "put", "patch") else [None]:
                    response = call(client, tenants, method, path, body)
                    answered.append((method, path))
                    assert not 200 <= response.status_code < 300, (
                        method,
                        path,
                        body,
                        response.status_code,
                    )
    assert len(answered) > 100
    assert victims_state(tenants) == before


def test_no_path_lists_or_changes_anothers_stores_and_reports(
    client: Client, tenants: Tenants
) -> None:
    """The paths without ids (lists, loads, triggers, pages), with another's ids
    in the query and in rows: a 2xx shows none of theirs and changes nothing."""
    before = victims_state(tenants)
    hidden = [tenants.zeta.store_id, tenants.unassigned_store_id]
    hidden_reports = [tenants.zeta.report.report_id, tenants.platform.report.report_id]
    values = {
        "report": hidden_reports,
        "report_id": hidden_reports,
        "store_id": hidden,
        "organization": ["zeta"],
        "q": ["example", *hidden],
        "search": ["example", "never", *hidden],
    }
    rows = [
        {
            "store_id": store_id,
            "status": "active",
            "timestamp_utc": "2023-01-25T17:59:00Z",
            "day": "0",
            "start_time_local": "09:00",
            "end_time_local": "10:00",
            "timezone_str": "Asia/Kolkata",
            "organization": "acme",
            "date": "2023-01-24",
            "start_utc": "2023-01-25 10:00:00",
            "end_utc": "2023-01-25 11:00:00",
        }
        for store_id in hidden
    ]
    for route in routes():
        if route.converters:
            continue
        path = "/" + str(route)
        for name in QUERY_NAMES:
            for value in values[name]:
                response = call(client, tenants, "get", f"{path}?{name}={value}")
                if 200 <= response.status_code < 300 and not response.streaming:
                    shown = response.content.decode(errors="replace")
                    for secret in [*hidden_reports, *hidden]:
                        if secret == value:
                            continue  # echoed back (a search box's value), not found
                        assert secret not in shown, (path, name, value, secret)
        for method in ("post", "put", "patch", "delete"):
            response = call(client, tenants, method, path, rows)
            if 200 <= response.status_code < 300:
                shown = response.content.decode(errors="replace")
                assert not any(report_id in shown for report_id in hidden_reports), (method, path)
    assert victims_state(tenants) == before
