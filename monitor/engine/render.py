"""Table → CSV text (docs/report-semantics.md §6): exact integer rounding, half up, two decimals."""

from __future__ import annotations

import csv
import io

import numpy as np
import numpy.typing as npt

from monitor.engine.report import ReportTable
from monitor.engine.units import TICKS_PER_HOUR, TICKS_PER_MINUTE, WINDOW_NAMES

# The last hour is reported in minutes, the day and the week in hours.
_TICKS_PER_UNIT = (TICKS_PER_MINUTE, TICKS_PER_HOUR, TICKS_PER_HOUR)


def header(*, percent: bool = False) -> list[str]:
    suffix = "_pct" if percent else ""
    return ["store_id"] + [
        f"{kind}_last_{window}{suffix}"
        for kind in ("uptime", "downtime")
        for window in WINDOW_NAMES
    ]


def render_csv(table: ReportTable, *, percent: bool = False) -> str:
    """The report as CSV text, rows in the table's order (sorted by store_id)."""
    return header_line(percent=percent) + render_rows(table, percent=percent)


def header_line(*, percent: bool = False) -> str:
    """The CSV's first line (no header cell needs quoting)."""
    return ",".join(header(percent=percent)) + "\n"


def render_rows(table: ReportTable, *, percent: bool = False) -> str:
    """The CSV's rows without the header: the reports of consecutive store
    ranges concatenate into the report of them all."""
    cells = figure_cells(table, percent=percent)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(
        [store, *row] for store, row in zip(table.store_ids.tolist(), cells, strict=True)
    )
    return out.getvalue()


def figure_cells(table: ReportTable, *, percent: bool = False) -> list[list[str]]:
    """Per row, the six figures as the CSV prints them (the header's columns after store_id)."""
    if percent:
        columns = [_percent(table.uptime, table.business), _percent(table.downtime, table.business)]
    else:
        columns = [_in_units(table.uptime), _in_units(table.downtime)]
    cells: list[list[str]] = np.concatenate(columns, axis=1).tolist()
    return cells


def business_cells(table: ReportTable) -> list[list[str]]:
    """Per row, the business time of each window (hour, day, week), in the CSV's units."""
    cells: list[list[str]] = _in_units(table.business).tolist()
    return cells


def _in_units(ticks: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Minutes for the last hour, hours for the day and the week: two decimals, half up."""
    return _two_decimals(_hundredths(ticks, np.array(_TICKS_PER_UNIT, dtype=np.int64)))


def _hundredths(
    ticks: npt.NDArray[np.int64], ticks_per_unit: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """round_half_up(ticks / ticks_per_unit, 2) × 100, in exact integer arithmetic."""
    return (200 * ticks + ticks_per_unit) // (2 * ticks_per_unit)


def _percent(part: npt.NDArray[np.int64], whole: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """100 × part / whole rounded half up to two decimals; empty where whole is 0."""
    safe_whole = np.where(whole == 0, 1, whole)
    cells = _two_decimals((20_000 * part + safe_whole) // (2 * safe_whole))
    return np.where(whole == 0, "", cells)


def _two_decimals(hundredths: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    whole, cents = np.divmod(hundredths, 100)
    cents_text = np.char.add(np.where(cents < 10, ".0", "."), cents.astype(str))
    return np.char.add(whole.astype(str), cents_text)
