"""Feed the same readable test stores to the engine and read its table back as reference rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, time

import numpy as np

from monitor.engine import ReportInputs, ReportTable, compute_report, render_csv
from monitor.engine.hours import CLOSED, EVERY_STORE
from tests.engine.reference import EPOCH, ONE_US, Excluded, StoreData, StoreFigures, windows


def instant_us(instant: datetime) -> int:
    return (instant - EPOCH) // ONE_US


def local_time_us(wall: time | None) -> int:
    if wall is None:
        return CLOSED
    return ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1_000_000 + wall.microsecond


def engine_inputs(
    stores: Sequence[StoreData], as_of: datetime, every_store: Sequence[Excluded] = ()
) -> ReportInputs:
    """The stores as the engine's inputs. `every_store`: exclusions of `*`, which the
    stores' own `excluded` must list too (the reference reads them there)."""
    polls = [(index, poll) for index, store in enumerate(stores) for poll in store.polls]
    hours = [(index, row) for index, store in enumerate(stores) for row in store.hours]
    special = [(index, row) for index, store in enumerate(stores) for row in store.special]
    excluded = [
        (index, period)
        for index, store in enumerate(stores)
        for period in store.excluded
        if period not in every_store
    ] + [(EVERY_STORE, period) for period in every_store]
    return ReportInputs(
        store_ids=np.array([store.store_id for store in stores], dtype=np.str_),
        timezones=np.array([store.timezone for store in stores], dtype=np.str_),
        poll_store=np.array([index for index, _ in polls], dtype=np.int64),
        poll_time_us=np.array([instant_us(poll.at) for _, poll in polls], dtype=np.int64),
        poll_active=np.array([poll.active for _, poll in polls], dtype=np.bool_),
        hours_store=np.array([index for index, _ in hours], dtype=np.int64),
        hours_day=np.array([row.day for _, row in hours], dtype=np.int64),
        hours_start_us=np.array([local_time_us(row.start) for _, row in hours], dtype=np.int64),
        hours_end_us=np.array([local_time_us(row.end) for _, row in hours], dtype=np.int64),
        as_of_us=instant_us(as_of),
        special_store=np.array([index for index, _ in special], dtype=np.int64),
        special_date=np.array(
            [row.date.toordinal() - _EPOCH_ORDINAL for _, row in special], dtype=np.int64
        ),
        special_start_us=np.array([local_time_us(row.start) for _, row in special], dtype=np.int64),
        special_end_us=np.array([local_time_us(row.end) for _, row in special], dtype=np.int64),
        exclusion_store=np.array([index for index, _ in excluded], dtype=np.int64),
        exclusion_start_us=np.array([instant_us(p.start) for _, p in excluded], dtype=np.int64),
        exclusion_end_us=np.array([instant_us(p.end) for _, p in excluded], dtype=np.int64),
    )


_EPOCH_ORDINAL = EPOCH.date().toordinal()


def reordered(
    inputs: ReportInputs, poll_order: Sequence[int], hours_order: Sequence[int]
) -> ReportInputs:
    """The same inputs with the poll rows and the hours rows in another order."""
    polls = np.asarray(poll_order, dtype=np.int64)
    hours = np.asarray(hours_order, dtype=np.int64)
    return dataclasses.replace(
        inputs,
        poll_store=inputs.poll_store[polls],
        poll_time_us=inputs.poll_time_us[polls],
        poll_active=inputs.poll_active[polls],
        hours_store=inputs.hours_store[hours],
        hours_day=inputs.hours_day[hours],
        hours_start_us=inputs.hours_start_us[hours],
        hours_end_us=inputs.hours_end_us[hours],
    )


def figures_of(table: ReportTable) -> list[StoreFigures]:
    return [
        StoreFigures(
            str(store_id),
            windows(int(v) for v in table.uptime[i]),
            windows(int(v) for v in table.business[i]),
        )
        for i, store_id in enumerate(table.store_ids)
    ]


def engine_report(stores: Sequence[StoreData], as_of: datetime) -> list[StoreFigures]:
    return figures_of(compute_report(engine_inputs(stores, as_of)))


def engine_csv(stores: Sequence[StoreData], as_of: datetime, *, percent: bool = False) -> str:
    return render_csv(compute_report(engine_inputs(stores, as_of)), percent=percent)


def table_of(rows: Sequence[StoreFigures]) -> ReportTable:
    """A table holding exactly these figures, to test render_csv on its own."""
    return ReportTable(
        store_ids=np.array([row.store_id for row in rows], dtype=np.str_),
        uptime=np.array([row.uptime for row in rows], dtype=np.int64).reshape(-1, 3),
        business=np.array([row.business for row in rows], dtype=np.int64).reshape(-1, 3),
    )


def engine_render(rows: Sequence[StoreFigures], *, percent: bool = False) -> str:
    return render_csv(table_of(rows), percent=percent)
