"""The fleet of a report, read back from its CSVs: totals, histogram, sorting, search, pages."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from monitor.models import Report, ReportPart
from monitor.selectors import report_csv
from monitor.services.fleet import Fleet, FleetError, Share, fleet_of, fleet_parse
from tests.report_data import SPEC_NOW, store_random_data
from tests.support.reports import report_completed

ABSOLUTE = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week\n"
    "a1,60.00,20.00,100.00,0.00,4.00,68.00\n"
    "a2,0.00,0.00,0.00,0.00,0.00,0.00\n"
    "b1,30.00,12.01,150.00,30.00,11.99,18.00\n"
    "b10,45.50,24.00,168.00,14.50,0.00,0.00\n"
)
PERCENT = (
    "store_id,uptime_last_hour_pct,uptime_last_day_pct,uptime_last_week_pct,"
    "downtime_last_hour_pct,downtime_last_day_pct,downtime_last_week_pct\n"
    "a1,100.00,83.33,59.52,0.00,16.67,40.48\n"
    "a2,,,,,,\n"
    "b1,50.00,50.04,89.29,50.00,49.96,10.71\n"
    "b10,75.83,100.00,100.00,24.17,0.00,0.00\n"
)


@pytest.fixture
def fleet() -> Fleet:
    return fleet_parse("r1", ABSOLUTE, PERCENT)


def test_shares_are_exact_sums_of_the_printed_figures(fleet: Fleet) -> None:
    # day: up 20.00 + 12.01 + 24.00 = 56.01 of 56.01 + 15.99 = 72.00 h → 77.7916… %
    assert fleet.share_up("day") == Share(up=5601, business=7200)
    assert fleet.share_up("day").percent() == "77.79"
    assert fleet.share_up("week").percent() == "82.94"  # 418 of 504 h = 82.936… %
    assert Share(up=1, business=8).percent() == "12.50"
    assert Share(up=1, business=200_000).percent() == "0.00"  # 0.0005 % rounds half up to 0.00
    assert Share(up=1, business=20_000).percent() == "0.01"  # 0.005 % rounds half up
    assert Share(up=0, business=0).percent() == "–"


def test_histogram_bins_weekly_percent_and_leaves_out_stores_without_business_time(
    fleet: Fleet,
) -> None:
    assert fleet.histogram() == [0, 0, 0, 0, 0, 1, 0, 0, 1, 1]  # 59.52, 89.29, 100.00
    assert fleet.without_business_time() == 1


def test_default_order_worst_first_with_missing_percent_last(fleet: Fleet) -> None:
    page = fleet.page(sort="uptime_last_week_pct", descending=False, prefix="", page=1, per_page=10)
    assert [row.store_id for row in page.rows] == ["a1", "b1", "b10", "a2"]
    descending = fleet.page(
        sort="uptime_last_week_pct", descending=True, prefix="", page=1, per_page=10
    )
    assert [row.store_id for row in descending.rows] == ["b10", "b1", "a1", "a2"]


def test_rows_carry_the_figures_as_printed(fleet: Fleet) -> None:
    row = fleet.page(sort="store_id", descending=False, prefix="b10", page=1, per_page=5).rows[0]
    assert row.figures == ("45.50", "24.00", "168.00", "14.50", "0.00", "0.00")
    assert row.week_pct == "100.00"


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("store_id", False, ["a1", "a2", "b1", "b10"]),
        ("store_id", True, ["b10", "b1", "a2", "a1"]),
        ("downtime_last_week", True, ["a1", "b1", "a2", "b10"]),  # ties keep store_id order
        ("uptime_last_hour", False, ["a2", "b1", "b10", "a1"]),
    ],
)
def test_sorts_by_each_column(
    fleet: Fleet, sort: str, descending: bool, expected: list[str]
) -> None:
    page = fleet.page(sort=sort, descending=descending, prefix="", page=1, per_page=10)
    assert [row.store_id for row in page.rows] == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("", 4), ("a", 2), ("b1", 2), ("b10", 1), ("b100", 0), ("c", 0), ("\U0010ffff", 0)],
)
def test_search_by_id_prefix(fleet: Fleet, prefix: str, expected: int) -> None:
    page = fleet.page(sort="store_id", descending=False, prefix=prefix, page=1, per_page=10)
    assert page.matches == expected
    assert all(row.store_id.startswith(prefix) for row in page.rows)


def test_pages_are_clamped_and_counted(fleet: Fleet) -> None:
    pages = [
        fleet.page(sort="store_id", descending=False, prefix="", page=n, per_page=3)
        for n in (1, 2, 9, 0)
    ]
    assert [(p.page, p.pages, len(p.rows)) for p in pages] == [
        (1, 2, 3),
        (2, 2, 1),
        (2, 2, 1),
        (1, 2, 3),
    ]


def test_unknown_sort_column_is_an_error(fleet: Fleet) -> None:
    with pytest.raises(FleetError, match="cannot sort by 'nope'"):
        fleet.page(sort="nope", descending=False, prefix="", page=1, per_page=3)


def test_csvs_listing_different_stores_are_refused() -> None:
    with pytest.raises(FleetError, match="different stores"):
        fleet_parse("r1", ABSOLUTE, PERCENT.replace("b10,", "b11,"))
    with pytest.raises(FleetError, match="does not start with"):
        fleet_parse("r1", "id,x\n", PERCENT)
    with pytest.raises(FleetError, match="not a number"):
        fleet_parse("r1", ABSOLUTE.replace("68.00", "x"), PERCENT)


def test_quoted_store_ids_are_read_as_the_csv_module_does() -> None:
    absolute = ABSOLUTE.replace("b10,", '"b,1""0",')
    percent = PERCENT.replace("b10,", '"b,1""0",')
    fleet = fleet_parse("r1", absolute, percent)
    assert fleet.store_ids == ["a1", "a2", "b1", 'b,1"0']
    row = fleet.page(sort="store_id", descending=True, prefix="b,", page=1, per_page=5).rows[0]
    assert (row.store_id, row.week_pct, row.figures[0]) == ('b,1"0', "100.00", "45.50")


def complete_report(settings: Settings, *, shard_stores: int) -> Report:
    settings.REPORT_SHARD_STORES = shard_stores
    store_random_data(stores=7, seed=3)
    return report_completed(requested_as_of=SPEC_NOW)


@pytest.mark.django_db
def test_a_report_in_parts_has_the_fleet_of_its_whole_csvs(settings: Settings) -> None:
    report = complete_report(settings, shard_stores=2)
    assert report.part_count == 4

    fleet = fleet_of(report)

    whole = fleet_parse(report.report_id, report_csv(report), report_csv(report, percent=True))
    assert fleet.store_ids == whole.store_ids
    assert fleet.hundredths.keys() == whole.hundredths.keys()
    for column, values in whole.hundredths.items():
        assert fleet.hundredths[column].tolist() == values.tolist()


@pytest.mark.django_db
def test_the_fleet_of_a_report_whose_parts_are_gone_is_an_error(settings: Settings) -> None:
    report = complete_report(settings, shard_stores=2)
    ReportPart.objects.filter(report=report, index=3).delete()  # retention, mid-read

    with pytest.raises(FleetError, match="deleted"):
        fleet_of(report)
