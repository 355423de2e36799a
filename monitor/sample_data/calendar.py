"""A sample calendar (docs/report-semantics.md §10) for generated stores: closed weekdays,
holidays and special hours in the report's week, and exclusions, one of them of every store.

Shares are of the stores given, as the performance target puts them: 10 % with
special dates in the week, 5 % with an exclusion of their own; 5 % get a closed
weekday (a row added to the business hours file, for a weekday they list no
row for). The files are small (a row or two per store concerned): written
with the csv module.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

SPECIAL_HOURS_FILE = "special_hours.csv"
EXCLUSIONS_FILE = "exclusions.csv"
SPECIAL_SHARE = 0.10
EXCLUDED_SHARE = 0.05
CLOSED_WEEKDAY_SHARE = 0.05
# A date's special rows: closed (a holiday), shorter hours, or open late past midnight.
_SPECIAL_KINDS = ((("", ""),), (("10:00", "14:00"),), (("12:00", "15:00"), ("18:00", "02:00")))
EVERY_STORE_REASON = "the poller was down"


@dataclass(frozen=True)
class SampleCalendar:
    special_hours_csv: Path
    exclusions_csv: Path
    special_rows: int
    exclusion_rows: int
    closed_weekday_rows: int  # appended to the business hours file


def write_calendar(
    out_dir: Path,
    store_ids: list[str],
    end: datetime,
    hours_csv: Path | None,
    rng: np.random.Generator,
) -> SampleCalendar:
    """Write the calendar files for `store_ids` into `out_dir`, around the week before
    `end`, and append closed weekdays to `hours_csv` (generated hours; None: hours
    copied from a real file, which stay as they are)."""
    stores = np.array(store_ids, dtype=object)
    special_csv = out_dir / SPECIAL_HOURS_FILE
    exclusions_csv = out_dir / EXCLUSIONS_FILE
    special_rows = _write_special_hours(special_csv, stores, end, rng)
    exclusion_rows = _write_exclusions(exclusions_csv, stores, end, rng)
    closed_rows = 0 if hours_csv is None else _append_closed_weekdays(hours_csv, rng)
    return SampleCalendar(special_csv, exclusions_csv, special_rows, exclusion_rows, closed_rows)


def _chosen(stores: np.ndarray, share: float, rng: np.random.Generator) -> list[str]:
    count = round(len(stores) * share)
    return sorted(rng.choice(stores, size=count, replace=False).tolist()) if count else []


def _write_special_hours(
    path: Path, stores: np.ndarray, end: datetime, rng: np.random.Generator
) -> int:
    rows = []
    for store_id in _chosen(stores, SPECIAL_SHARE, rng):
        day = (end - timedelta(days=int(rng.integers(1, 7)))).date()
        kind = _SPECIAL_KINDS[int(rng.integers(len(_SPECIAL_KINDS)))]
        rows += [[store_id, day.isoformat(), start, stop] for start, stop in kind]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["store_id", "date", "start_time_local", "end_time_local"])
        writer.writerows(rows)
    return len(rows)


def _write_exclusions(
    path: Path, stores: np.ndarray, end: datetime, rng: np.random.Generator
) -> int:
    """One exclusion of every store (three hours, two nights before `end`), and one of
    one to three hours for each store chosen."""
    night = (end - timedelta(days=2)).replace(hour=3, minute=0, second=0, microsecond=0)
    rows = [["*", _utc(night), _utc(night + timedelta(hours=3)), EVERY_STORE_REASON]]
    for store_id in _chosen(stores, EXCLUDED_SHARE, rng):
        start = end - timedelta(minutes=int(rng.integers(60, 7 * 24 * 60)))
        length = timedelta(minutes=int(rng.integers(60, 180)))
        rows.append([store_id, _utc(start), _utc(start + length), "planned maintenance"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["store_id", "start_utc", "end_utc", "reason"])
        writer.writerows(rows)
    return len(rows)


def _append_closed_weekdays(hours_csv: Path, rng: np.random.Generator) -> int:
    """A closed row for a weekday without rows, for CLOSED_WEEKDAY_SHARE of the stores
    the hours file lists with fewer than seven weekdays."""
    with hours_csv.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        store_at, day_at = header.index("store_id"), header.index("day")
        days: dict[str, set[int]] = {}
        for row in reader:
            days.setdefault(row[store_at], set()).add(int(row[day_at]))
    open_some = np.array(sorted(s for s, listed in days.items() if len(listed) < 7), dtype=object)
    closed = []
    for store_id in _chosen(open_some, CLOSED_WEEKDAY_SHARE, rng):
        free = sorted(set(range(7)) - days[store_id])
        row = ["", "", "", ""]
        row[store_at], row[day_at] = store_id, str(free[int(rng.integers(len(free)))])
        closed.append(row)
    with hours_csv.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(closed)
    return len(closed)


def _utc(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M:%S")
