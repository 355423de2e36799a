"""An organization's report is the fleet report restricted to its stores: both
checked against the independent reference (tests/engine/reference.py), computed
in several parts by the report's job, reading only the organization's stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from monitor import selectors
from monitor.models import Organization, Report, Store
from monitor.scope import PLATFORM, Scope
from monitor.selectors import report_csv
from monitor.services import report_parts
from monitor.services.imports import Body
from monitor.services.organizations import organization_create, store_organizations_import
from monitor.services.reports import report_generate
from tests.engine.reference import reference_csv, reference_report
from tests.test_end_to_end import END, import_files, sample, stores_from_csvs  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def run_report(organization: Organization | None) -> Report:
    """The report of the organization's stores (None: every store) as of END, by
    its job in this process (in parts of REPORT_SHARD_STORES stores)."""
    report = Report.objects.create(requested_as_of=END, organization=organization)
    report_parts.report_run(report.report_id)
    done = Report.objects.get(pk=report.pk)
    assert done.status == Report.Status.COMPLETE, done.error
    return done


def rows_of(csv: str, store_ids: set[str]) -> str:
    header, *rows = csv.splitlines(keepends=True)
    return header + "".join(row for row in rows if row.split(",", 1)[0] in store_ids)


def test_an_organizations_report_is_the_reference_fleet_report_of_its_stores(
    sample: Path,  # noqa: F811
    settings: Settings,
) -> None:
    settings.REPORT_SHARD_STORES = 7  # several parts, for the organizations too
    import_files(sample)
    stores = stores_from_csvs(sample)
    ids = sorted(Store.objects.values_list("store_id", flat=True))
    owned = {"acme": set(ids[::3]), "zeta": set(ids[1::3])}  # the rest: no organization's
    for slug in owned:
        organization_create(slug=slug)
    rows = "".join(f"{s},{slug}\n" for slug, mine in owned.items() for s in sorted(mine))
    store_organizations_import(
        Body(f"store_id,organization\n{rows}".encode(), "text/csv"), scope=PLATFORM
    )

    fleet = run_report(None)
    expected = reference_report(stores, END)
    assert report_csv(fleet) == reference_csv(expected)  # the oracle-checked fleet report
    for slug, mine in owned.items():
        organization = Organization.objects.get(slug=slug)
        report = run_report(organization)
        assert report.part_count > 1
        mine_expected = [figures for figures in expected if figures.store_id in mine]
        for percent in (False, True):
            csv = report_csv(report, percent=percent)
            assert csv == reference_csv(mine_expected, percent=percent)
            assert csv == rows_of(report_csv(fleet, percent=percent), mine)
        assert report.row_count == len(mine_expected)


def test_an_organizations_report_reads_only_its_stores(
    sample: Path,  # noqa: F811
) -> None:
    import_files(sample)
    ids = sorted(Store.objects.values_list("store_id", flat=True))
    acme = organization_create(slug="acme")
    Store.objects.filter(store_id__in=ids[:5]).update(organization=acme)
    scope = Scope(acme)

    inputs = selectors.report_inputs(END, scope.all_stores)
    whole = selectors.report_inputs(END)

    assert sorted(inputs.store_ids) == ids[:5]
    assert set(inputs.poll_store.tolist()) <= set(range(5))
    assert set(inputs.hours_store.tolist()) <= set(range(5))
    # Exactly the polls of its stores that the fleet report reads, and no other.
    acme_pks = [i for i, store_id in enumerate(whole.store_ids) if store_id in ids[:5]]
    read_for_acme = sum(int((whole.poll_store == pk).sum()) for pk in acme_pks)
    assert len(inputs.poll_time_us) == read_for_acme < len(whole.poll_time_us)
    assert report_generate(as_of=END, stores=scope.all_stores).csv() == rows_of(
        report_generate(as_of=END).csv(), set(ids[:5])
    )
