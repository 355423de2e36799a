"""`python -m bench.incidents`: what evaluating incidents adds to a batch of polls.

A fresh PostgreSQL database (BENCH_PG_DATABASE + "_incidents") gets a data set
generated for the occasion (--stores stores, the real 14,092 by default, its
hours, zones and calendar) whose polls end a minute ago: a live fleet's last
week. Importing it evaluates that week once (the week's outages become
incidents, as they would for live data). Then, round after round, one batch of
polls, one per store at the current time (each store keeps its latest status,
2 % of them flip), is loaded as the ingestion API loads a JSON body
(services.imports.polls_import), and timed in three parts:

- the load, inside its transaction;
- what runs once it has committed: the incidents' evaluation of the stores it
  named (what the load's caller waits for on top of the load itself);
- the same evaluation again, alone (nothing left to record: its reads and the
  engine).

The target (issue 21): the evaluation adds at most 0.5 s to a batch of 14,092
polls at the real shape on PostgreSQL. `make bench` runs it; a smaller
`--stores` checks the code path quickly.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import django
import orjson
import psycopg

from bench.__main__ import PG_DATABASE, PG_SERVER, REAL_POLLED_STORES

TARGET_SECONDS = 0.5
FLIPPED = 0.02  # the share of stores whose batch poll changes their status
DATABASE = f"{PG_DATABASE}_incidents"


def fresh_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_monitoring.settings")
    # No broker: the evaluation's events wait for the channels; nothing is sent.
    os.environ["CELERY_BROKER_URL"] = ""
    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=REAL_POLLED_STORES)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    fresh_database()

    from django.core.management import call_command

    from monitor.models import Incident, IncidentEvent
    from monitor.sample_data.generator import generate_sample_data
    from monitor.services.imports import dataset_import

    call_command("migrate", "--no-input", verbosity=0)
    with TemporaryDirectory(prefix="bench-incidents-") as folder:
        started = time.perf_counter()
        data = generate_sample_data(
            Path(folder),
            stores=options.stores,
            seed=1,
            end=datetime.now(UTC) - timedelta(minutes=1),
        )
        generated = time.perf_counter() - started
        started = time.perf_counter()
        results = dataset_import(
            timezones=data.timezones_csv,
            hours=data.hours_csv,
            special_hours=data.calendar.special_hours_csv if data.calendar else None,
            exclusions=data.calendar.exclusions_csv if data.calendar else None,
            polls=data.status_csv,
        )
        imported = time.perf_counter() - started
    print(
        f"incidents: {options.stores:,} stores, {results[-1].loaded:,} polls ending a minute "
        f"ago (generated {generated:.1f} s); import with its evaluation {imported:.1f} s: "
        f"{Incident.objects.count():,} incidents of the week "
        f"({Incident.objects.filter(status='open').count():,} open), "
        f"{IncidentEvent.objects.count():,} events"
    )
    added = [_round(number) for number in range(1, options.rounds + 1)]
    median = statistics.median(added)
    verdict = "met" if median <= TARGET_SECONDS else "NOT MET"
    print(
        f"incidents: evaluation after a batch of {options.stores:,} polls: median "
        f"{median:.3f} s of {len(added)} (best {min(added):.3f} s); target ≤ "
        f"{TARGET_SECONDS} s {verdict}; load {_load()}"
    )


def _round(number: int) -> float:
    """Load one batch of polls, one per store, at now; the seconds its evaluation added."""
    from django.db import connection, transaction

    from monitor.db.names import sql_names
    from monitor.models import Store
    from monitor.services.imports import Body, polls_import
    from monitor.services.incidents import evaluate_now

    names = sql_names()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (p.{names.poll_store}) s.{names.store_id}, p.{names.poll_active} "
            f"FROM {names.polls} AS p JOIN {names.stores} AS s "
            f"ON s.{names.store_pk} = p.{names.poll_store} "
            f"ORDER BY p.{names.poll_store}, p.{names.poll_time} DESC"
        )
        latest = cursor.fetchall()
    rng = random.Random(number)
    now = datetime.now(UTC)
    statuses = {store_id: active != (rng.random() < FLIPPED) for store_id, active in latest}
    body = orjson.dumps(
        [
            {
                "store_id": store_id,
                "status": "active" if active else "inactive",
                "timestamp_utc": now.isoformat(),
            }
            for store_id, active in statuses.items()
        ]
    )
    marks: dict[str, float] = {}
    with transaction.atomic():
        # Callbacks run in the order registered: these two bracket the load's own.
        transaction.on_commit(lambda: marks.setdefault("committed", time.perf_counter()))
        started = time.perf_counter()
        result = polls_import(Body(body, "application/json"))
        loaded = time.perf_counter() - started
        transaction.on_commit(lambda: marks.setdefault("evaluated", time.perf_counter()))
    evaluation_s = marks["evaluated"] - marks["committed"]
    keys = dict(Store.objects.values_list("store_id", "pk"))
    started = time.perf_counter()
    now_us = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    again = evaluate_now(
        frozenset(keys[store_id] for store_id in statuses),
        frozenset(keys[store_id] for store_id, active in statuses.items() if not active),
        {keys[store_id]: now_us for store_id in statuses},
    )
    alone = time.perf_counter() - started
    down = sum(not active for active in statuses.values())
    print(
        f"incidents: round {number}: {result.loaded:,} polls ({down:,} inactive) loaded in "
        f"{loaded:.2f} s; the evaluation after it {evaluation_s:.3f} s; again alone "
        f"{alone:.3f} s ({again.stores:,} stores read, {again.recorded} events); load {_load()}"
    )
    return evaluation_s


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
