"""Two organizations and the platform: their stores, keys, users and reports (scope tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from monitor.models import ApiKey, Exclusion, Organization, Report, SpecialHours, Store
from monitor.scope import PLATFORM, Scope
from monitor.services import report_parts, report_trigger
from monitor.services.api_keys import api_key_create
from monitor.services.organizations import organization_create, organization_user_create
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.incidents import make_incident

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Tenant:
    """One organization (or the platform: organization None) and what it owns."""

    organization: Organization | None
    key: str  # a write key
    store_id: str  # its store
    report: Report  # Complete, as of SPEC_NOW
    user: AbstractBaseUser

    @property
    def scope(self) -> Scope:
        return Scope(self.organization)

    @property
    def headers(self) -> dict[str, Any]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}


@dataclass(frozen=True)
class Tenants:
    acme: Tenant  # owns example-1
    zeta: Tenant  # owns example-2
    platform: Tenant  # staff; never-polled belongs to no organization
    unassigned_store_id: str
    # Calendar rows made after the reports: zeta's special date and exclusion, and
    # the platform's exclusion of every store.
    zeta_special_date: str
    exclusion_ids: tuple[int, int]  # zeta's store's, every store's
    # Incidents of zeta's store (open) and of the unassigned store (resolved).
    incident_ids: tuple[int, int]


def complete_report(scope: Scope) -> Report:
    """The scope's report as of SPEC_NOW, run to completion in this process."""
    report = report_trigger.report_trigger(scope=scope, as_of=SPEC_NOW).report
    report_parts.report_run(report.report_id)
    return Report.objects.get(pk=report.pk)


def make_tenants() -> Tenants:
    """The spec's examples (docs/report-semantics.md §7): example-1 for acme,
    example-2 for zeta, never-polled for no one; a report of each."""
    store_spec_examples()
    tenants = {}
    for slug, store_id in (("acme", "example-1"), ("zeta", "example-2")):
        organization = organization_create(slug=slug, name=slug.title())
        Store.objects.filter(store_id=store_id).update(organization=organization)
        key = api_key_create(name=f"{slug}-key", scope=ApiKey.Scope.WRITE, organization=slug)
        user = organization_user_create(username=f"{slug}-user", slug=slug, password=PASSWORD)
        tenants[slug] = Tenant(
            organization, key.key, store_id, complete_report(Scope(organization)), user
        )
    staff = get_user_model().objects.create_superuser("staff", password=PASSWORD)
    platform = Tenant(
        None,
        api_key_create(name="platform-key", scope=ApiKey.Scope.WRITE).key,
        "never-polled",
        complete_report(PLATFORM),
        staff,
    )
    zeta_store = Store.objects.get(store_id="example-2")
    SpecialHours.objects.create(store=zeta_store, date=date(2023, 1, 24))  # closed that day
    start, end = SPEC_NOW - timedelta(hours=30), SPEC_NOW - timedelta(hours=29)
    zetas = Exclusion.objects.create(store=zeta_store, start_utc=start, end_utc=end)
    everyone = Exclusion.objects.create(store=None, start_utc=start, end_utc=end)
    zetas_incident = make_incident(zeta_store, SPEC_NOW - timedelta(minutes=20))
    unassigned_incident = make_incident("never-polled", start, end)
    return Tenants(
        tenants["acme"],
        tenants["zeta"],
        platform,
        "never-polled",
        "2023-01-24",
        (zetas.pk, everyone.pk),
        (zetas_incident.pk, unassigned_incident.pk),
    )
