"""Organizations enforced (monitor.scope): what an organization's key and user may
list, read, write and trigger, and what only the platform may do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from monitor.models import BusinessHours, Exclusion, Organization, Report, StatusPoll, Store
from monitor.selectors import report_csv
from tests.report_data import SPEC_CSV
from tests.tenancy import PASSWORD, Tenants, make_tenants

pytestmark = pytest.mark.django_db
API = "/api/monitor"
MADE_UP = "no-such-store"


@pytest.fixture
def tenants(settings: Settings) -> Tenants:
    settings.API_KEYS_REQUIRED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    return make_tenants()


def log_in(client: Client, username: str) -> None:
    """Through the login page, as a person does."""
    answer = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content


def listed_ids(client: Client, headers: dict[str, Any], query: str = "") -> list[str]:
    response = client.get(f"{API}/stores{query}", **headers)
    assert response.status_code == 200, response.content
    return [store["store_id"] for store in response.json()["stores"]]


# ---- reads ---------------------------------------------------------------------------------


def test_an_organization_lists_only_its_stores(client: Client, tenants: Tenants) -> None:
    acme, platform = tenants.acme, tenants.platform
    assert listed_ids(client, acme.headers) == ["example-1"]
    assert client.get(f"{API}/stores", **acme.headers).json()["total"] == 1
    assert listed_ids(client, acme.headers, "?search=example") == ["example-1"]
    assert listed_ids(client, acme.headers, "?organization=acme") == ["example-1"]
    assert listed_ids(client, platform.headers) == ["example-1", "example-2", "never-polled"]
    # The platform's filter by organization; an organization knows no other.
    assert listed_ids(client, platform.headers, "?organization=zeta") == ["example-2"]
    for slug in ("zeta", "nope"):
        answer = client.get(f"{API}/stores?organization={slug}", **acme.headers)
        assert (answer.status_code, answer.json()) == (
            404,
            {"error": f"no organization {slug!r}"},
        )


@pytest.mark.parametrize("store_id", ["example-2", "never-polled", MADE_UP])
def test_another_organizations_store_an_unassigned_one_and_none_answer_alike(
    client: Client, tenants: Tenants, store_id: str
) -> None:
    answer = client.get(f"{API}/stores/{store_id}", **tenants.acme.headers)
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": f"no store with id {store_id!r}"},
    )
    log_in(client, "acme-user")
    page = client.get(f"/stores/{store_id}")
    assert page.status_code == 404
    assert f"no store with id {store_id!r}".replace("'", "&#x27;") in page.content.decode()


def test_an_organization_reads_its_own_store(client: Client, tenants: Tenants) -> None:
    answer = client.get(f"{API}/stores/example-1", **tenants.acme.headers)
    assert answer.status_code == 200
    assert answer.json()["store_id"] == "example-1"
    assert client.get(f"{API}/stores/example-2", **tenants.platform.headers).status_code == 200


# ---- writes --------------------------------------------------------------------------------

ROWS: dict[str, Callable[[str], dict[str, str]]] = {
    "polls": lambda store_id: {
        "store_id": store_id,
        "status": "active",
        "timestamp_utc": "2023-01-25T17:59:00Z",
    },
    "business_hours": lambda store_id: {
        "store_id": store_id,
        "day": "1",
        "start_time_local": "08:00",
        "end_time_local": "09:00",
    },
    "timezones": lambda store_id: {"store_id": store_id, "timezone_str": "Asia/Kolkata"},
}


def stored(store_id: str) -> tuple[Any, ...]:
    store = Store.objects.get(store_id=store_id)
    return (
        store.timezone_str,
        store.organization_id,
        StatusPoll.objects.filter(store=store).count(),
        BusinessHours.objects.filter(store=store).count(),
    )


@pytest.mark.parametrize("source", list(ROWS))
def test_rows_for_stores_out_of_reach_are_rejected_and_the_others_load(
    client: Client, tenants: Tenants, source: str
) -> None:
    before = {store_id: stored(store_id) for store_id in ("example-2", "never-polled")}
    rows = [ROWS[source](s) for s in ("example-1", "example-2", "never-polled", "brand-new")]

    answer = client.post(
        f"{API}/{source}", rows, content_type="application/json", **tenants.acme.headers
    )

    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "loaded": 2,
        "duplicates": 0,
        "rejected": 2,
        "errors": [
            {"row": 2, "reason": "store_id 'example-2' is not a store of organization acme"},
            {"row": 3, "reason": "store_id 'never-polled' is not a store of organization acme"},
        ],
    }
    assert {store_id: stored(store_id) for store_id in before} == before
    # A new store id is created in the writer's organization.
    assert Store.objects.get(store_id="brand-new").organization == tenants.acme.organization


def test_the_platform_writes_every_store_and_creates_unassigned_ones(
    client: Client, tenants: Tenants
) -> None:
    rows = [ROWS["polls"](s) for s in ("example-1", "example-2", "brand-new")]
    answer = client.post(
        f"{API}/polls", rows, content_type="application/json", **tenants.platform.headers
    )
    assert answer.json()["loaded"] == 3
    assert Store.objects.get(store_id="brand-new").organization is None


@pytest.mark.parametrize("store_id", ["example-2", "never-polled"])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("business_hours", [{"day": "0", "start_time_local": "09:00", "end_time_local": "10:00"}]),
        ("business_hours", []),
        ("timezone", {"timezone_str": "Asia/Kolkata"}),
    ],
)
def test_one_store_edits_out_of_reach_answer_as_unknown_stores(
    client: Client, tenants: Tenants, store_id: str, path: str, body: Any
) -> None:
    before = stored(store_id)
    answer = client.put(
        f"{API}/stores/{store_id}/{path}",
        body,
        content_type="application/json",
        **tenants.acme.headers,
    )
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": f"no store with id {store_id!r}"},
    )
    assert stored(store_id) == before


def test_a_one_store_edit_of_a_new_id_creates_it_in_the_organization(
    client: Client, tenants: Tenants
) -> None:
    answer = client.put(
        f"{API}/stores/brand-new/timezone",
        {"timezone_str": "Asia/Kolkata"},
        content_type="application/json",
        **tenants.acme.headers,
    )
    assert answer.status_code == 200
    assert stored("brand-new")[:2] == ("Asia/Kolkata", tenants.acme.organization.pk)  # type: ignore[union-attr]


# ---- the platform's alone ------------------------------------------------------------------


def test_ownership_changes_are_the_platforms(client: Client, tenants: Tenants) -> None:
    acme, platform = tenants.acme, tenants.platform
    rows = [{"store_id": "example-2", "organization": "acme"}]
    refused = [
        client.post(
            f"{API}/store_organizations", rows, content_type="application/json", **acme.headers
        ),
        client.put(
            f"{API}/stores/example-1/organization",
            {"organization": None},
            content_type="application/json",
            **acme.headers,
        ),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert answer.json() == {
            "error": "changing which organization a store belongs to is for platform keys "
            "and staff only"
        }
    assert Store.objects.get(store_id="example-2").organization == tenants.zeta.organization

    moved = client.put(
        f"{API}/stores/example-2/organization",
        {"organization": "acme"},
        content_type="application/json",
        **platform.headers,
    )
    assert moved.json() == {"store_id": "example-2", "organization": "acme"}
    assert listed_ids(client, acme.headers) == ["example-1", "example-2"]
    freed = client.put(
        f"{API}/stores/example-2/organization",
        {"organization": None},
        content_type="application/json",
        **platform.headers,
    )
    assert freed.json() == {"store_id": "example-2", "organization": None}
    unknown = client.put(
        f"{API}/stores/example-2/organization",
        {"organization": "nope"},
        content_type="application/json",
        **platform.headers,
    )
    assert unknown.status_code == 404  # as ?organization= naming no organization
    assert "no organization 'nope'" in unknown.json()["error"]

    loaded = client.post(
        f"{API}/store_organizations",
        [*rows, {"store_id": "x", "organization": "nope"}],
        content_type="application/json",
        **platform.headers,
    )
    assert loaded.json()["loaded"] == 1
    assert loaded.json()["errors"][0]["row"] == 2
    assert Store.objects.get(store_id="example-2").organization == acme.organization


def test_metrics_are_the_platforms(client: Client, tenants: Tenants) -> None:
    refused = client.get("/metrics", **tenants.acme.headers)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "/metrics is for platform keys and staff only"},
    )
    assert client.get("/metrics", **tenants.platform.headers).status_code == 200


# ---- reports -------------------------------------------------------------------------------


def test_an_organizations_report_holds_its_stores_as_the_fleet_report_prints_them(
    tenants: Tenants,
) -> None:
    header, example_1, example_2 = SPEC_CSV.splitlines(keepends=True)
    assert report_csv(tenants.platform.report) == SPEC_CSV
    assert report_csv(tenants.acme.report) == header + example_1
    assert report_csv(tenants.zeta.report) == header + example_2
    assert tenants.acme.report.organization == tenants.acme.organization
    assert tenants.platform.report.organization is None


def report_paths(report: Report) -> list[str]:
    report_id = report.report_id
    return [
        f"{API}/get_report/{report_id}",
        f"{API}/get_report?report_id={report_id}",
        f"{API}/reports/{report_id}",
        f"{API}/reports/{report_id}/csv",
    ]


def test_anothers_report_answers_404_on_every_path(client: Client, tenants: Tenants) -> None:
    for reader, report in [
        (tenants.acme, tenants.zeta.report),
        (tenants.acme, tenants.platform.report),
        (tenants.zeta, tenants.acme.report),
    ]:
        for path in report_paths(report):
            answer = client.get(path, **reader.headers)
            assert (answer.status_code, answer.json()) == (
                404,
                {"error": f"no report with id {report.report_id!r}"},
            ), path
    for path in report_paths(tenants.acme.report):
        assert client.get(path, **tenants.acme.headers).status_code == 200, path
        assert client.get(path, **tenants.platform.headers).status_code == 200, path


def listed_reports(client: Client, headers: dict[str, Any], query: str = "") -> set[str]:
    answer = client.get(f"{API}/reports{query}", **headers)
    assert answer.status_code == 200
    return {report["report_id"] for report in answer.json()["reports"]}


def test_lists_show_only_ones_own_reports(client: Client, tenants: Tenants) -> None:
    acme, zeta, platform = tenants.acme, tenants.zeta, tenants.platform
    assert listed_reports(client, acme.headers) == {acme.report.report_id}
    assert listed_reports(client, zeta.headers) == {zeta.report.report_id}
    everyone = {t.report.report_id for t in (acme, zeta, platform)}
    assert listed_reports(client, platform.headers) == everyone
    assert listed_reports(client, platform.headers, "?organization=zeta") == {zeta.report.report_id}
    assert client.get(f"{API}/reports?organization=zeta", **acme.headers).status_code == 404
    [listed] = client.get(f"{API}/reports", **acme.headers).json()["reports"]
    assert listed["organization"] == "acme"


def trigger(client: Client, headers: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        f"{API}/trigger_report",
        {"as_of": "2023-01-25T18:00:00Z"},
        content_type="application/json",
        **headers,
    )
    assert answer.status_code == 200, answer.content
    body: dict[str, Any] = answer.json()
    return body


def test_reuse_is_per_organization(client: Client, tenants: Tenants) -> None:
    acme, zeta, platform = tenants.acme, tenants.zeta, tenants.platform
    for tenant in (acme, zeta, platform):
        assert trigger(client, tenant.headers) == {
            "report_id": tenant.report.report_id,
            "status": "Complete",
            "reused": True,
        }
    # A new organization triggers its own report, never another's.
    other = Organization.objects.create(slug="other", name="Other")
    Store.objects.filter(store_id="never-polled").update(organization=other)
    from monitor.services.api_keys import api_key_create

    key = api_key_create(name="other-key", scope="read", organization="other").key
    fresh = trigger(client, {"HTTP_AUTHORIZATION": f"Bearer {key}"})
    assert fresh["reused"] is False
    assert fresh["report_id"] not in {t.report.report_id for t in (acme, zeta, platform)}
    assert Report.objects.get(pk=fresh["report_id"]).organization == other


# ---- pages ---------------------------------------------------------------------------------


def test_an_organizations_user_sees_its_fleet_and_reports_only(
    client: Client, tenants: Tenants
) -> None:
    acme, zeta = tenants.acme, tenants.zeta
    log_in(client, "acme-user")
    fleet = client.get("/").content.decode()
    assert acme.report.report_id in fleet
    assert "example-1" in fleet
    assert "example-2" not in fleet
    reports = client.get("/reports/").content.decode()
    assert acme.report.report_id in reports
    assert zeta.report.report_id not in reports
    assert tenants.platform.report.report_id not in reports
    for path in (
        f"/?report={zeta.report.report_id}",
        f"/reports/{zeta.report.report_id}/progress",
        f"/reports/{zeta.report.report_id}/report.csv",
        f"/reports/{zeta.report.report_id}/report-percent.csv",
        "/?organization=zeta",
        "/reports/?organization=zeta",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/stores/example-1").status_code == 200


def test_new_report_from_a_page_is_the_organizations(client: Client, tenants: Tenants) -> None:
    log_in(client, "acme-user")
    Report.objects.all().delete()
    response = client.post("/reports/new")
    assert response.status_code == 302
    new = Report.objects.get()
    assert new.organization == tenants.acme.organization


def test_staff_see_everything_with_a_filter_by_organization(
    client: Client, tenants: Tenants
) -> None:
    log_in(client, "staff")
    everyone = client.get("/reports/").content.decode()
    for tenant in (tenants.acme, tenants.zeta, tenants.platform):
        assert tenant.report.report_id in everyone
    assert 'name="organization"' in everyone
    zeta_only = client.get("/reports/?organization=zeta").content.decode()
    assert tenants.zeta.report.report_id in zeta_only
    assert tenants.acme.report.report_id not in zeta_only
    # The fleet: the platform's report of every store, or one organization's.
    assert tenants.platform.report.report_id in client.get("/").content.decode()
    acme_fleet = client.get("/?organization=acme").content.decode()
    assert tenants.acme.report.report_id in acme_fleet
    assert "example-2" not in acme_fleet
    assert client.get("/stores/example-2").status_code == 200
    # Filtered by an organization, New report is that organization's.
    Report.objects.all().delete()
    client.post("/reports/new", {"organization": "zeta"})
    assert Report.objects.get().organization == tenants.zeta.organization


def test_a_login_of_no_organization_that_is_not_staff_sees_nothing(
    client: Client, tenants: Tenants
) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("stray", password=PASSWORD)
    log_in(client, "stray")
    for path in ("/", "/reports/", "/stores/example-1"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "belongs to no organization" in answer.content.decode()


def test_a_body_whose_every_row_is_out_of_reach_loads_nothing(
    client: Client, tenants: Tenants
) -> None:
    for source, row in ROWS.items():
        answer = client.post(
            f"{API}/{source}",
            [row("example-2"), row("never-polled")],
            content_type="application/json",
            **tenants.acme.headers,
        )
        assert answer.status_code == 200, answer.content
        assert (answer.json()["loaded"], answer.json()["rejected"]) == (0, 2)


def test_an_organizations_every_store_exclusion_is_every_store_of_its_own(
    client: Client, tenants: Tenants
) -> None:
    row = {"store_id": "*", "start_utc": "2023-01-25 10:00:00", "end_utc": "2023-01-25 11:00:00"}
    answer = client.post(
        f"{API}/exclusions", [row], content_type="application/json", **tenants.acme.headers
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["loaded"] == 1
    made = Exclusion.objects.filter(start_utc__hour=10)
    assert [e.store.store_id for e in made if e.store] == ["example-1"]
    assert not made.filter(store__isnull=True).exists()

    listed = client.get(f"{API}/exclusions", **tenants.acme.headers).json()
    stores = {e["store_id"] for e in listed["exclusions"]}
    assert stores == {"example-1", "*"}  # its own, and the platform's of every store
    everyone = tenants.exclusion_ids[1]
    refused = client.delete(f"{API}/exclusions/{everyone}", **tenants.acme.headers)
    assert refused.status_code == 404
    assert Exclusion.objects.filter(pk=everyone).exists()
