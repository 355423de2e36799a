"""The incidents on the pages: /incidents/, the fleet's open count, a store's own."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import Channel, Incident, Organization, Store
from monitor.pages.views import INCIDENTS_PER_PAGE
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.incidents import make_incident, tick
from tests.tenancy import PASSWORD, Tenants, make_tenants

pytestmark = pytest.mark.django_db

T = datetime(2023, 1, 25, 17, 30, tzinfo=UTC)


def rows(page: str) -> list[int]:
    """The incident ids of a page's incident rows, in order."""
    return [int(pk) for pk in re.findall(r'<tr data-incident="(\d+)">', page)]


def text(page: str) -> str:
    """The page's text: inline tags dropped, others read as a space, entities read,
    spaces collapsed."""
    inline = re.sub(r"</?(a|strong|span|time|code|small)\b[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def test_the_incidents_page_lists_open_ones_first_with_times_and_durations(
    client: Client,
) -> None:
    kolkata = Store.objects.create(store_id="k/1 é", timezone_str="Asia/Kolkata")
    resolved = make_incident(kolkata, T, tick(T + timedelta(minutes=40, seconds=5), half=True))
    long_ago = make_incident("chicago", T - timedelta(days=2), T - timedelta(hours=20))
    started = datetime.now(UTC) - timedelta(hours=2, minutes=5, seconds=10)
    still_open = make_incident("chicago", started)

    page = client.get("/incidents/").content.decode()

    assert rows(page) == [still_open.pk, resolved.pk, long_ago.pk]
    shown = text(page)
    assert "3 incidents · page 1 of 1" in shown
    # Local time with its offset, then UTC; the exact length, rounded down to the second.
    assert (
        "Wed 25 Jan 2023 23:00:00 UTC+0530 Wed 25 Jan 2023 23:40:05 UTC+0530 "
        "2023-01-25 17:30:00 2023-01-25 18:10:05 40 min 05 s"
    ) in shown
    assert "Mon 23 Jan 2023 11:30:00 UTC-0600" in shown
    assert "1 d 4 h 00 min" in shown  # Jan 23 17:30 to Jan 24 21:30 UTC
    assert "2 h 05 min so far" in shown
    assert "ongoing" in shown
    assert 'href="/stores/k/1%20%C3%A9"' in page
    assert 'href="/stores/chicago"' in page
    assert '<span class="status open">Open</span>' in page


def test_the_incidents_page_filters_by_status_and_store(client: Client) -> None:
    a_open = make_incident("a", T)
    a_old = make_incident("a", T - timedelta(hours=2), T - timedelta(hours=1))
    b_old = make_incident("b", T - timedelta(hours=3), T - timedelta(hours=2))

    assert rows(client.get("/incidents/?status=open").content.decode()) == [a_open.pk]
    assert rows(client.get("/incidents/?status=resolved").content.decode()) == [a_old.pk, b_old.pk]
    by_store = client.get("/incidents/", {"store_id": "a", "status": "resolved"}).content.decode()
    assert rows(by_store) == [a_old.pk]
    assert "1 resolved incident of store a" in text(by_store)
    assert 'value="resolved" selected' in by_store


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("status=closed", 400, "status: Select a valid choice"),
        ("page=0", 400, "page:"),
        ("store_id=nope", 404, "no store with id &#x27;nope&#x27;"),
        ("organization=nope", 404, "no organization"),
    ],
)
def test_the_incidents_page_refuses_bad_filters(
    client: Client, query: str, status: int, reason: str
) -> None:
    response = client.get(f"/incidents/?{query}")

    assert response.status_code == status
    assert reason in response.content.decode()


def test_the_incidents_page_pages(client: Client) -> None:
    made = [
        make_incident(f"s{i:03d}", T + timedelta(minutes=i), T + timedelta(hours=3))
        for i in range(INCIDENTS_PER_PAGE + 3)
    ]
    newest_first = [incident.pk for incident in reversed(made)]

    first = client.get("/incidents/?status=resolved").content.decode()
    second = client.get("/incidents/?status=resolved&page=2").content.decode()

    assert rows(first) == newest_first[:INCIDENTS_PER_PAGE]
    assert rows(second) == newest_first[INCIDENTS_PER_PAGE:]
    assert 'href="/incidents/?status=resolved&amp;page=2"' in first
    assert 'href="/incidents/?status=resolved&amp;page=1"' in second
    assert "page 2 of 2" in text(second)


def test_the_fleet_shows_the_open_incident_count(client: Client) -> None:
    assert "No open incident" in text(client.get("/").content.decode())
    make_incident("a", T)
    make_incident("b", T - timedelta(hours=1))
    make_incident("c", T - timedelta(hours=2), T - timedelta(hours=1))

    page = client.get("/").content.decode()

    assert '<a href="/incidents/?status=open" data-open-incidents="2">' in page
    assert "2 open incidents: stores are down in business hours now." in text(page)


def test_a_store_page_shows_its_open_incident_and_its_weeks_incidents(client: Client) -> None:
    store_spec_examples()  # example-1: Chicago, inactive from 17:25 UTC on
    store = Store.objects.get(store_id="example-1")
    open_now = make_incident(store, SPEC_NOW - timedelta(minutes=35))
    in_week = make_incident(
        store, SPEC_NOW - timedelta(days=2), SPEC_NOW - timedelta(days=2, hours=-1)
    )
    across_start = make_incident(
        store, SPEC_NOW - timedelta(days=7, hours=1), SPEC_NOW - timedelta(days=6, hours=23)
    )
    before = make_incident(store, SPEC_NOW - timedelta(days=9), SPEC_NOW - timedelta(days=8))
    others = make_incident("example-2", SPEC_NOW - timedelta(hours=1))

    page = client.get("/stores/example-1", {"as_of": "2023-01-25T18:00:00Z"}).content.decode()

    assert f'data-open-incident="{open_now.pk}"' in page
    assert "Open incident: down since Wed 25 Jan 2023 11:25:00 (UTC-0600)" in text(page)
    assert rows(page) == [open_now.pk, in_week.pk, across_start.pk]
    assert before.pk not in rows(page)
    assert others.pk not in rows(page)
    assert "1 h 00 min" in text(page)
    assert 'href="/incidents/?store_id=example-1"' in page
    # A week without an incident says so; the open incident is the store's state
    # now, shown whatever the as-of instant.
    earlier = client.get("/stores/example-2", {"as_of": "2023-01-20T18:00:00Z"}).content.decode()
    assert "No incident in the week." in earlier
    assert f'data-open-incident="{others.pk}"' in earlier


def test_the_nav_links_the_incidents_page(client: Client) -> None:
    page = client.get("/incidents/").content.decode()
    assert '<a href="/incidents/" aria-current="page">Incidents</a>' in page
    assert '<a href="/incidents/">Incidents</a>' in client.get("/reports/").content.decode()


# Organizations: a member sees its stores' incidents only; staff every one.


@pytest.fixture
def tenants(settings: Settings) -> Tenants:
    settings.API_KEYS_REQUIRED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    made = make_tenants()
    make_incident(made.acme.store_id, SPEC_NOW - timedelta(minutes=10))
    return made


def test_an_organization_member_sees_its_own_incidents_only(
    client: Client, tenants: Tenants
) -> None:
    acme_incident = Incident.objects.get(store__store_id="example-1")
    client.force_login(tenants.acme.user)  # type: ignore[arg-type]

    listed = client.get("/incidents/").content.decode()
    fleet = client.get("/").content.decode()
    anothers = client.get("/incidents/", {"store_id": tenants.zeta.store_id})
    narrowed = client.get("/incidents/", {"organization": "zeta"})

    assert rows(listed) == [acme_incident.pk]
    assert tenants.zeta.store_id not in listed
    assert "never-polled" not in listed
    assert 'data-open-incidents="1"' in fleet
    assert anothers.status_code == narrowed.status_code == 404


def test_staff_see_every_incident_and_narrow_to_an_organization(
    client: Client, tenants: Tenants
) -> None:
    client.force_login(tenants.platform.user)  # type: ignore[arg-type]
    every = rows(client.get("/incidents/").content.decode())
    zetas = client.get("/incidents/", {"organization": "zeta"}).content.decode()
    fleet = client.get("/", {"organization": "zeta"}).content.decode()

    assert sorted(every) == sorted(Incident.objects.values_list("pk", flat=True))
    assert len(every) == 3
    assert rows(zetas) == list(tenants.incident_ids[:1])
    assert '<input type="hidden" name="organization" value="zeta">' in zetas
    assert 'href="/incidents/?status=open&amp;organization=zeta" data-open-incidents="1"' in fleet


def test_the_incidents_page_needs_a_login_where_keys_are_required(
    client: Client, tenants: Tenants
) -> None:
    client.logout()
    response = client.get("/incidents/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    login = client.post("/accounts/login/", {"username": "acme-user", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/incidents/").status_code == 200


# Failing notification channels: the pages say so, to whom they belong.


def failing(organization: Organization | None, *, since: datetime) -> Channel:
    return Channel.objects.create(
        kind=Channel.Kind.WEBHOOK,
        target="https://example.com/hook",
        organization=organization,
        failing_since=since,
        failing_at=since + timedelta(hours=24),
    )


def test_the_fleet_and_incidents_pages_show_the_failing_channels(client: Client) -> None:
    Channel.objects.create(kind=Channel.Kind.EMAIL, target="ops@example.com")  # delivering
    assert "data-failing-channels" not in client.get("/").content.decode()
    channel = failing(None, since=T)

    for path in ("/", "/incidents/"):
        page = client.get(path).content.decode()
        assert 'data-failing-channels="1"' in page, path
        shown = text(page)
        assert "1 notification channel failing" in shown, path
        assert "No delivery has reached it for 24 hours" in shown, path
        assert f"Webhook channel {channel.pk}: failing since 2023-01-25 17:30 UTC, never" in shown
        assert "example.com/hook" not in page  # a target may hold a token: never shown


def test_a_member_sees_its_organizations_failing_channels_only(
    client: Client, tenants: Tenants
) -> None:
    mine = failing(tenants.acme.organization, since=T)
    failing(tenants.zeta.organization, since=T)
    failing(None, since=T)
    client.force_login(tenants.acme.user)  # type: ignore[arg-type]

    page = client.get("/incidents/").content.decode()

    assert 'data-failing-channels="1"' in page
    assert re.findall(r'data-failing-channel="(\d+)"', page) == [str(mine.pk)]
