"""`python -m bench.organizations LABEL`: an organization's report against the fleet's.

Runs in the environment of an already-loaded database (DATABASE_URL). Gives
ORGANIZATION_STORES of the polled stores (a fixed random sample, spread over
the whole id range) to one organization, then runs the fleet's report and the
organization's, alternately, RUNS times each, by the report's job in this
process (services.jobs.report_run: planned in parts, the parts one after
another), and prints their medians against issue 19's target: the
organization's time at most the fleet's × (its share of the stores + 0.2).

It also checks that the organization's report reads only its stores' polls:
the polls its parts read are exactly those of its stores (the week window and
each one's last before it), and on PostgreSQL the polls table is never scanned
whole meanwhile (pg_stat_user_tables.seq_scan does not move).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta

import django

ORGANIZATION_STORES = 3_000
RUNS = 5
SHARE_MARGIN = 0.2  # the target: the fleet's time × (share + SHARE_MARGIN)
SLUG = "bench-organization"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")
    django.setup()
    from monitor import selectors
    from monitor.engine.units import WINDOW_LENGTHS_US
    from monitor.models import Organization, Report, StatusPoll, Store
    from monitor.scope import PLATFORM, Scope
    from monitor.services import report_parts
    from monitor.services.imports import Body
    from monitor.services.organizations import organization_create, store_organizations_import

    label = sys.argv[1] if len(sys.argv) > 1 else ""
    polled = sorted(
        Store.objects.filter(polls__isnull=False).distinct().values_list("store_id", flat=True)
    )
    chosen = random.Random(19).sample(polled, min(ORGANIZATION_STORES, len(polled)))
    organization = Organization.objects.filter(slug=SLUG).first() or organization_create(slug=SLUG)
    rows = "".join(f"{store_id},{SLUG}\n" for store_id in chosen)
    store_organizations_import(
        Body(f"store_id,organization\n{rows}".encode(), "text/csv"), scope=PLATFORM
    )

    def report_seconds(owner: Organization | None) -> tuple[float, Report]:
        report = Report.objects.create(organization=owner)
        started = time.perf_counter()
        report_parts.report_run(report.report_id)
        seconds = time.perf_counter() - started
        report.refresh_from_db()
        if report.status != Report.Status.COMPLETE:
            raise SystemExit(f"bench.organizations: a report failed: {report.error}")
        return seconds, report

    report_seconds(None)  # warm-up: the database's caches, this process's imports
    fleet_times, organization_times, loads = [], [], []
    organization_scans: int | None = 0
    for _ in range(RUNS):
        seconds, fleet = report_seconds(None)
        fleet_times.append(seconds)
        before = _polls_seq_scans()
        seconds, mine = report_seconds(organization)
        organization_times.append(seconds)
        after = _polls_seq_scans()
        if before is None or after is None or organization_scans is None:
            organization_scans = None
        else:
            organization_scans += after - before
        loads.append(os.getloadavg()[0])

    if fleet.as_of is None:
        raise SystemExit("bench.organizations: the fleet's report has no as-of instant")
    read = len(selectors.report_inputs(fleet.as_of, Scope(organization).all_stores).poll_time_us)
    fleet_read = len(selectors.report_inputs(fleet.as_of).poll_time_us)
    window_start = fleet.as_of - timedelta(microseconds=WINDOW_LENGTHS_US[-1])
    ours = Store.objects.filter(organization=organization)
    expected = (
        StatusPoll.objects.filter(
            store__in=ours, timestamp_utc__gte=window_start, timestamp_utc__lte=fleet.as_of
        ).count()
        + ours.filter(polls__timestamp_utc__lt=window_start).distinct().count()
    )
    if read != expected:
        raise SystemExit(f"bench.organizations: read {read} polls, its stores have {expected}")

    share = (mine.row_count or 0) / (fleet.row_count or 1)
    fleet_s, organization_s = statistics.median(fleet_times), statistics.median(organization_times)
    ratio = organization_s / fleet_s
    target = share + SHARE_MARGIN
    print(
        f"{label:<16} organization report {mine.row_count or 0:>6,} of {fleet.row_count or 0:,} "
        f"stores {organization_s:6.2f} s vs the fleet's {fleet_s:6.2f} s (medians of {RUNS}): "
        f"{ratio:.2f}x, target <= {share:.2f} + {SHARE_MARGIN} = {target:.2f}x "
        f"{'met' if ratio <= target else 'MISSED'}; load {statistics.mean(loads):.1f}"
    )
    scans = "not counted (SQLite)" if organization_scans is None else str(organization_scans)
    print(
        f"{label:<16} organization report reads {read:,} polls, exactly its stores' "
        f"(the fleet's report reads {fleet_read:,}); whole scans of the polls table "
        f"during its runs: {scans}"
    )
    if organization_scans:
        raise SystemExit("bench.organizations: the organization's report scanned the polls table")


def _polls_seq_scans() -> int | None:
    """PostgreSQL's count of whole scans of the polls table so far (None elsewhere)."""
    from django.db import connection

    from monitor.models import StatusPoll

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this session's counts, now
        cursor.execute(
            "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = %s",
            [StatusPoll._meta.db_table],
        )
        (scans,) = cursor.fetchone()
    return int(scans)


if __name__ == "__main__":
    main()
