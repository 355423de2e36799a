"""A Complete report's fleet: its rows read back from the stored CSVs, sorted,
searched and paged for the fleet page, with the fleet's totals.

Every figure shown is one the report printed: the six figures of the CSV and
the weekly uptime percentage of the percent CSV, kept as integer hundredths
(sorting) and printed back exactly as the CSV has them (two decimals). The
fleet's shares of business time up are sums of those printed hundredths,
divided in exact integer arithmetic.

A Complete report never changes (see services.report_attempts: writes only match Running
rows), so the parsed fleet of a few recent reports is cached by report id.
It is read part by part: what is cached is the parsed figures, never a CSV.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from monitor.engine.render import header
from monitor.formatting import percent_text, two_decimals
from monitor.models import Report
from monitor.selectors import ReportPartsMissingError, report_csv_chunks

# Sortable columns: the CSV's six figures and the weekly uptime percentage.
FIGURE_COLUMNS = tuple(header()[1:])
WEEK_PCT = "uptime_last_week_pct"
STORE_ID = "store_id"
SORT_COLUMNS = (STORE_ID, WEEK_PCT, *FIGURE_COLUMNS)
HISTOGRAM_BINS = 10  # 0–10 %, …, 90–100 % (100 % falls in the last bin)
_NO_PERCENT = -1  # a store without business time in the week has no percentage
_FIGURES = re.compile(r"\d+\.\d\d(?:,\d+\.\d\d)*")  # cells joined by commas


class FleetError(ValueError):
    """The report has no fleet to show (not Complete, or unreadable)."""


@dataclass(frozen=True)
class FleetRow:
    store_id: str
    week_pct: str  # as the percent CSV prints it; "" without business time
    figures: tuple[str, ...]  # the six figures, as the CSV prints them


@dataclass(frozen=True)
class FleetPage:
    rows: list[FleetRow]
    page: int  # 1-based, clamped to the pages there are
    pages: int
    matches: int  # stores whose id starts with the prefix


@dataclass(frozen=True)
class Share:
    """Uptime as a share of business time, from summed printed hundredths."""

    up: int
    business: int

    def percent(self) -> str:
        """100 × up / business, rounded half up to two decimals; "–" without business time."""
        if self.business == 0:
            return "–"
        return percent_text(self.up, self.business)


@dataclass(frozen=True)
class Fleet:
    report_id: str
    store_ids: list[str]  # sorted as the CSV is (plain string order)
    # Integer hundredths per sortable column (store_id excluded), same order as store_ids.
    hundredths: dict[str, npt.NDArray[np.int64]]

    def share_up(self, window: str) -> Share:
        """The fleet's share of business time up over `window` ("hour", "day" or "week")."""
        up = int(self.hundredths[f"uptime_last_{window}"].sum())
        down = int(self.hundredths[f"downtime_last_{window}"].sum())
        return Share(up=up, business=up + down)

    def histogram(self) -> list[int]:
        """Stores per 10 % bin of weekly uptime; stores without business time left out."""
        pct = self.hundredths[WEEK_PCT]
        bins = np.minimum(pct[pct != _NO_PERCENT] // 1000, HISTOGRAM_BINS - 1)
        counts: list[int] = np.bincount(bins, minlength=HISTOGRAM_BINS).tolist()
        return counts

    def without_business_time(self) -> int:
        return int((self.hundredths[WEEK_PCT] == _NO_PERCENT).sum())

    def page(
        self, *, sort: str, descending: bool, prefix: str, page: int, per_page: int
    ) -> FleetPage:
        """One page of the stores whose id starts with `prefix`, sorted by `sort`.

        Ties keep store_id order; stores without a weekly percentage come last
        whichever the direction.
        """
        if sort not in SORT_COLUMNS:
            raise FleetError(f"cannot sort by {sort!r}; columns: {', '.join(SORT_COLUMNS)}")
        first, last = self._prefix_range(prefix)
        order = self._order(sort, descending, first, last)
        pages = max(1, -(-len(order) // per_page))
        page = min(max(page, 1), pages)
        shown = order[(page - 1) * per_page : page * per_page].tolist()
        rows = [self._row(i) for i in shown]
        return FleetPage(rows=rows, page=page, pages=pages, matches=len(order))

    def _row(self, index: int) -> FleetRow:
        figures = tuple(figure_text(int(self.hundredths[c][index])) for c in FIGURE_COLUMNS)
        week_pct = figure_text(int(self.hundredths[WEEK_PCT][index]))
        return FleetRow(self.store_ids[index], week_pct, figures)

    def _prefix_range(self, prefix: str) -> tuple[int, int]:
        # The ids are sorted, so those sharing a prefix are one contiguous run,
        # from the prefix itself up to the first string past all its extensions.
        first = bisect.bisect_left(self.store_ids, prefix)
        after = _past_extensions(prefix)
        if after is None:
            return first, len(self.store_ids)
        return first, bisect.bisect_left(self.store_ids, after, lo=first)

    def _order(self, sort: str, descending: bool, first: int, last: int) -> npt.NDArray[np.intp]:
        indices = np.arange(first, last)
        if sort == STORE_ID:
            return indices[::-1] if descending else indices
        values = self.hundredths[sort][first:last]
        key = -values if descending else values.copy()
        # Past every real key in either direction: missing percentages go last.
        key[values == _NO_PERCENT] = np.iinfo(np.int64).max
        return indices[np.argsort(key, kind="stable")]


def _past_extensions(prefix: str) -> str | None:
    """The least string greater than every string starting with `prefix`; None: no such string."""
    kept = prefix.rstrip(chr(sys.maxunicode))
    if not kept:
        return None
    return kept[:-1] + chr(ord(kept[-1]) + 1)


def fleet_of(report: Report) -> Fleet:
    """The fleet of a Complete report (cached by report id)."""
    if report.status != Report.Status.COMPLETE:
        raise FleetError(f"report {report.report_id} is {report.status}, not Complete")
    return _fleet_cached(report.report_id)


@lru_cache(maxsize=4)
def _fleet_cached(report_id: str) -> Fleet:
    report = Report.objects.filter(pk=report_id).first()
    gone = FleetError(f"report {report_id} was deleted (retention) meanwhile")
    if report is None:
        raise gone
    try:
        absolute, percent = report_csv_chunks(report), report_csv_chunks(report, percent=True)
        return fleet_read(report_id, zip(absolute, percent, strict=True))
    except ReportPartsMissingError as error:
        raise gone from error


def fleet_parse(report_id: str, absolute_csv: str, percent_csv: str) -> Fleet:
    """The fleet from a report's two CSV texts (same stores, same order)."""
    return fleet_read(report_id, [(absolute_csv, percent_csv)])


def fleet_read(report_id: str, pieces: Iterable[tuple[str, str]]) -> Fleet:
    """The fleet from a report's two CSV forms read in step, a piece of each
    at a time (the headers first, then whole rows: a report part's), so
    that only the parsed figures, never a whole CSV, are held."""
    store_ids: list[str] = []
    parsed: dict[str, list[npt.NDArray[np.int64]]] = {c: [] for c in (*FIGURE_COLUMNS, WEEK_PCT)}
    for index, (absolute, percent) in enumerate(pieces):
        absolute_columns = _columns(absolute, header(), with_header=index == 0)
        percent_columns = _columns(percent, header(percent=True), with_header=index == 0)
        ids = list(absolute_columns[STORE_ID])
        if ids != list(percent_columns[STORE_ID]):
            raise FleetError(f"report {report_id}: its two CSV forms list different stores")
        store_ids += ids
        for name in FIGURE_COLUMNS:
            parsed[name].append(_hundredths(absolute_columns[name]))
        parsed[WEEK_PCT].append(_hundredths(percent_columns[WEEK_PCT], missing=_NO_PERCENT))
    hundredths = {name: np.concatenate(arrays) for name, arrays in parsed.items()}
    return Fleet(report_id, store_ids, hundredths)


def _columns(text: str, names: list[str], *, with_header: bool) -> dict[str, tuple[str, ...]]:
    """A piece of a report CSV as its columns of cells, by name (the csv module
    unquotes ids holding a comma or a quote, and ends rows at "\n" only: an id
    may hold other line separators, U+2028…); a header, `with_header`, is checked."""
    rows = list(csv.reader(io.StringIO(text)))
    if with_header and (not rows or rows.pop(0) != names):
        raise FleetError(f"a stored report CSV does not start with {','.join(names)}")
    try:  # the rows' transpose: strict, every row has as many cells
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    except ValueError:
        columns = []
    if len(columns) != len(names):
        raise FleetError(f"a stored report CSV has a row without its {len(names)} cells")
    return dict(zip(names, columns, strict=True))


def _hundredths(cells: Sequence[str], *, missing: int | None = None) -> npt.NDArray[np.int64]:
    """("12.34", "0.50") → [1234, 50]: a figure always has two decimals. An
    empty cell (a percentage without business time) is `missing`, where allowed."""
    empty = [not cell for cell in cells] if missing is not None else []
    joined = ",".join("0.00" if not cell and missing is not None else cell for cell in cells)
    if cells and not _FIGURES.fullmatch(joined):
        raise FleetError("a stored report CSV holds a figure that is not a number")
    if not cells:
        return np.zeros(0, dtype=np.int64)
    values = np.fromstring(joined.replace(".", ""), dtype=np.int64, sep=",")
    if missing is not None:
        values[np.array(empty, dtype=bool)] = missing
    return values


def figure_text(hundredths: int) -> str:
    """1234 → "12.34": a figure as the CSV prints it; "" for a missing percentage."""
    if hundredths == _NO_PERCENT:
        return ""
    return two_decimals(hundredths)
