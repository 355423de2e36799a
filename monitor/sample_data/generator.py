"""Sample input files shaped like the public Loop store-monitoring data set.

The real polls file (1.8 M rows) is not shipped, so this generator plays its part
for `make run`, the tests and the benchmarks. The shape follows the data README:
about 129 polls per store at irregular minutes of roughly every hour over 7.75
days, outages as runs of inactive polls, several business hours intervals a day
for many stores, missing weekdays, ~22 % of polled stores without hours and
~4.6 % without a zone, and a few stores that are in those files but never polled.

Everything is drawn from one seed. Stores are processed in fixed-size chunks, so
memory stays bounded and the output depends only on the seed and the arguments.
Rows are formatted as NumPy byte matrices, not one Python string per row: that
is what keeps writing millions of polls fast.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from monitor.ingest import rules
from monitor.ingest.errors import FileRefusedError, RowRejectedError
from monitor.ingest.loaders import HOURS, POLLS, ZONES
from monitor.ingest.reader import Column, open_csv
from monitor.sample_data.calendar import SampleCalendar, write_calendar

DEFAULT_END = datetime(2023, 1, 25, 18, 13, 22, 479220, tzinfo=UTC)  # the real v1 file's last poll
DEFAULT_DAYS = 7.75

STATUS_FILE = "store_status.csv"
HOURS_FILE = "menu_hours.csv"
TIMEZONES_FILE = "timezones.csv"

# Shares measured on the real v1 set (data README): 3,094 and 644 of 14,092
# polled stores have no hours rows / no zone; ~0.8 % of the stores named in the
# zones file are never polled.
NO_HOURS_SHARE = 3094 / 14092
NO_ZONE_SHARE = 644 / 14092
NEVER_POLLED_SHARE = 0.008

# 129.3 polls per store over the real file's 186.2 hours: a store is polled in
# about 69 % of the hours, at a minute of its own that wanders a little.
POLLED_HOUR_SHARE = 129.3 / 186.2
POLL_MINUTE_JITTER_SD_US = 4 * 60 * 10**6
# The real file writes microseconds with trailing zeros dropped, so a few polls
# have no fraction at all; whole-second polls make that spelling common enough
# to appear in small samples too.
WHOLE_SECOND_SHARE = 0.001
# Outages: a poll starts one with a per-store probability (most stores are
# reliable, a few flaky), and it lasts a geometric number of polls, sometimes
# long. Overall about 7 % of polls are inactive.
OUTAGE_START_GAMMA = (0.8, 0.03)
OUTAGE_MEAN_POLLS = 2.5
LONG_OUTAGE_SHARE = 0.1
LONG_OUTAGE_MEAN_POLLS = 12.0

STORES_PER_CHUNK = 2048
HOUR_US = 3600 * 10**6
DAY_END = -1  # catalogue placeholder: each store writes its day end as 23:59:59 or 23:59:00
DAY_END_SPELLINGS = np.array([23 * 3600 + 59 * 60 + 59, 23 * 3600 + 59 * 60])

# Zones of the real v1 file with their counts, plus a few others so that reports
# meet a half-hour offset and a southern-hemisphere DST.
ZONE_WEIGHTS: Mapping[str, float] = {
    "America/New_York": 8191,
    "America/Los_Angeles": 3224,
    "America/Chicago": 1517,
    "America/Phoenix": 418,
    "America/Denver": 127,
    "America/Detroit": 62,
    "America/Indiana/Indianapolis": 15,
    "America/Edmonton": 2,
    "America/Boise": 1,
    "Pacific/Honolulu": 1,
    "Asia/Beirut": 1,
    "Asia/Kolkata": 20,
    "Europe/London": 20,
    "Australia/Sydney": 10,
}

# How many weekdays a store lists (real v1 hours file: 81 % list all 7).
LISTED_DAYS_WEIGHTS: Mapping[int, float] = {
    7: 9050,
    6: 1446,
    5: 391,
    4: 44,
    3: 31,
    2: 4,
    1: 150,
}

# The importer's columns: the header matching and aliases of a source file are its own.
HOURS_COLUMNS = HOURS.columns
TIMEZONE_COLUMNS = ZONES.columns
POLL_COLUMNS = POLLS.columns


class SampleDataError(ValueError):
    """A source file given to the generator cannot be used (which file, why)."""


@dataclass(frozen=True)
class SampleData:
    """What `generate_sample_data` wrote."""

    status_csv: Path
    hours_csv: Path
    timezones_csv: Path
    poll_rows: int
    hours_rows: int
    timezone_rows: int
    polled_stores: int
    unpolled_stores: int  # named in the hours or zones file, never polled
    # Special hours, exclusions and closed weekdays (already in hours_csv and
    # hours_rows); None when asked for none.
    calendar: SampleCalendar | None = None


def _hm(hours: int, minutes: int = 0) -> int:
    return hours * 3600 + minutes * 60


def _hours_kinds() -> list[tuple[float, list[list[tuple[int, int]]]]]:
    """Kinds of weekly schedule with their share of stores, each a list of day templates.

    Modelled on the real hours files: most stores have one interval a day, many
    a late-night close split at midnight (`00:00–01:00` plus `11:00–23:59:59`,
    the way the real files write it), some a lunch break, a few three or four
    meals, tiny `00:00–00:10` placeholders, and some overnight rows (end before
    start, docs/report-semantics.md §4 — not in the real files but a legitimate input).
    """
    opens = [_hm(h, m) for h, m in [(6, 0), (7, 0), (8, 0), (9, 0), (10, 0), (10, 30), (11, 0)]]
    opens += [_hm(11, 30), _hm(12, 0)]
    closes = [_hm(h, m) for h, m in [(15, 0), (19, 0), (20, 0), (20, 30), (20, 45), (21, 0)]]
    closes += [_hm(21, 30), _hm(22, 0), _hm(22, 30), _hm(23, 0), _hm(23, 30), DAY_END]
    return [
        (0.56, [[(start, end)] for start in opens for end in closes]),
        (0.12, [[(0, DAY_END)]]),
        (
            0.09,
            [
                [(0, late), (start, DAY_END)]
                for late in (_hm(1), _hm(2))
                for start in (_hm(10), _hm(11))
            ],
        ),
        (
            0.07,
            [
                [(lunch, lunch_end), (dinner, dinner_end)]
                for lunch, lunch_end in [(_hm(11), _hm(14, 30)), (_hm(11, 30), _hm(15))]
                for dinner, dinner_end in [(_hm(17), _hm(21)), (_hm(17, 30), _hm(22))]
            ],
        ),
        (
            0.05,
            [[(start, end)] for start in (_hm(16), _hm(17)) for end in (_hm(21), _hm(22), _hm(23))],
        ),
        (0.004, [[(_hm(6, 30), _hm(10, 30)), (_hm(11), _hm(15)), (_hm(17), _hm(22))]]),
        (
            0.003,
            [
                [
                    (_hm(6, 30), _hm(10, 30)),
                    (_hm(11), _hm(15)),
                    (_hm(17), _hm(22)),
                    (_hm(22, 30), DAY_END),
                ]
            ],
        ),
        (0.015, [[(0, _hm(0, 10))], [(0, _hm(0, 1))]]),
        (
            0.02,
            [[(start, end)] for start in (_hm(17), _hm(18), _hm(20)) for end in (_hm(1), _hm(3))],
        ),
    ]


@dataclass(frozen=True)
class _HoursCatalogue:
    """Day templates as arrays: up to 4 (start, end) intervals, grouped by kind."""

    starts: np.ndarray  # (templates, 4) seconds of the day
    ends: np.ndarray  # (templates, 4), DAY_END where the day end goes
    counts: np.ndarray  # (templates,) intervals used
    kind_first: np.ndarray  # (kinds,) index of each kind's first template
    kind_sizes: np.ndarray  # (kinds,)
    kind_weights: np.ndarray  # (kinds,) summing to 1

    @classmethod
    def build(cls) -> _HoursCatalogue:
        kinds = _hours_kinds()
        templates = [template for _, kind in kinds for template in kind]
        starts = np.zeros((len(templates), 4), dtype=np.int64)
        ends = np.zeros((len(templates), 4), dtype=np.int64)
        for index, template in enumerate(templates):
            starts[index, : len(template)] = [start for start, _ in template]
            ends[index, : len(template)] = [end for _, end in template]
        sizes = np.array([len(kind) for _, kind in kinds])
        weights = np.array([weight for weight, _ in kinds])
        return cls(
            starts=starts,
            ends=ends,
            counts=np.array([len(template) for template in templates]),
            kind_first=np.cumsum(sizes) - sizes,
            kind_sizes=sizes,
            kind_weights=weights / weights.sum(),
        )


_CATALOGUE = _HoursCatalogue.build()
_ZONES = np.array([zone.encode() for zone in ZONE_WEIGHTS], dtype=np.bytes_)
_ZONE_P = np.array(list(ZONE_WEIGHTS.values())) / sum(ZONE_WEIGHTS.values())
_LISTED_DAYS = np.array(list(LISTED_DAYS_WEIGHTS))
_LISTED_DAYS_P = np.array(list(LISTED_DAYS_WEIGHTS.values())) / sum(LISTED_DAYS_WEIGHTS.values())


@dataclass(frozen=True)
class _Column:
    """A text column as a byte matrix (one row per value, zero-padded) and each value's length."""

    matrix: np.ndarray  # (rows, width) uint8
    lengths: np.ndarray  # (rows,)

    @classmethod
    def of(cls, values: np.ndarray) -> _Column:
        """From a NumPy bytes array (dtype S)."""
        values = np.ascontiguousarray(values)
        matrix = values.view(np.uint8).reshape(len(values), values.dtype.itemsize)
        return cls(matrix, np.strings.str_len(values))

    def take(self, indices: np.ndarray) -> _Column:
        return _Column(self.matrix[indices], self.lengths[indices])


def _csv_bytes(fields: Sequence[_Column | bytes], rows: int) -> bytes:
    """Rows made of the fields side by side; a `bytes` field is the same text on every row.

    Lays every field out at full width in one matrix, then keeps each value's own
    length: values never need quoting here (ids are quoted beforehand if needed).
    """
    blocks: list[np.ndarray] = []
    keeps: list[np.ndarray] = []
    for field in fields:
        if isinstance(field, bytes):
            constant = np.frombuffer(field, dtype=np.uint8)
            blocks.append(np.broadcast_to(constant, (rows, len(field))))
            keeps.append(np.ones((rows, len(field)), dtype=bool))
        else:
            blocks.append(field.matrix)
            keeps.append(np.arange(field.matrix.shape[1]) < field.lengths[:, None])
    data: bytes = np.concatenate(blocks, axis=1)[np.concatenate(keeps, axis=1)].tobytes()
    return data


def _timestamp_column(micros: np.ndarray) -> _Column:
    """`YYYY-MM-DD HH:MM:SS[.f]` with the fraction's trailing zeros dropped, as the real file."""
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us").astype("S26")
    matrix = text.view(np.uint8).reshape(len(text), 26).copy()
    matrix[:, 10] = ord(" ")
    fraction_digits = matrix[:, 20:26] != ord("0")
    # Length up to the last non-zero fraction digit; without one, drop the dot too.
    last_digit = 26 - np.argmax(fraction_digits[:, ::-1], axis=1)
    return _Column(matrix, np.where(fraction_digits.any(axis=1), last_digit, 19))


def _clock_column(seconds: np.ndarray) -> _Column:
    """`HH:MM:SS` for seconds of the day."""
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    digits = np.stack(
        [hours // 10, hours % 10, minutes // 10, minutes % 10, secs // 10, secs % 10], axis=1
    )
    matrix = np.full((len(seconds), 8), ord(":"), dtype=np.uint8)
    matrix[:, [0, 1, 3, 4, 6, 7]] = digits + ord("0")
    return _Column(matrix, np.full(len(seconds), 8))


def _csv_field(value: str) -> bytes:
    """A store id as one CSV field (quoted only when it has to be)."""
    if any(char in value for char in ',"\r\n'):
        value = '"' + value.replace('"', '""') + '"'
    return value.encode()


@dataclass(frozen=True)
class _Stores:
    """Every store the output names, in output order, and what each one gets."""

    ids: list[str]
    polled: np.ndarray  # bool
    generated_hours: np.ndarray  # bool: hours rows drawn here (False: none, or from a file)
    generated_zone: np.ndarray  # bool


def _random_ids(count: int, taken: set[str], rng: np.random.Generator) -> list[str]:
    """New integer store ids, drawn like the real ones: uniform below 2**63, so mostly 19
    digits and about 11 % shorter (sorting them as strings then differs from sorting them
    as numbers, as with the real ids)."""
    ids: list[str] = []
    seen = set(taken)
    while len(ids) < count:
        for value in rng.integers(1, 2**63, size=count - len(ids)).tolist():
            text = str(value)
            if text not in seen:
                seen.add(text)
                ids.append(text)
    return ids


def _pick_file_stores(
    file_ids: list[str], stores: int, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """(polled, never polled) stores out of the stores named in the source files.

    Takes enough of them for `stores` polled stores (all of them for the real
    files at full size), a few of which are never polled, as in the real set.
    """
    wanted = min(len(file_ids), math.ceil(stores / (1 - NEVER_POLLED_SHARE)))
    taken = np.sort(rng.choice(len(file_ids), size=wanted, replace=False))
    never = rng.random(wanted) < NEVER_POLLED_SHARE
    polled = [file_ids[index] for index in taken[~never][:stores]]
    unpolled = [file_ids[index] for index in taken[never]]
    return polled, unpolled


def _plan_stores(
    stores: int,
    file_ids: list[str],
    hours_from_file: bool,
    zones_from_file: bool,
    rng: np.random.Generator,
) -> _Stores:
    if file_ids:
        polled_ids, unpolled_ids = _pick_file_stores(file_ids, stores, rng)
    else:
        polled_ids, unpolled_ids = [], []
    new_polled = stores - len(polled_ids)
    new_unpolled = 0 if file_ids else round(stores * NEVER_POLLED_SHARE)
    new_ids = _random_ids(new_polled + new_unpolled, set(file_ids), rng)
    ids = polled_ids + new_ids[:new_polled] + unpolled_ids + new_ids[new_polled:]
    polled = np.arange(len(ids)) < stores
    order = rng.permutation(len(ids))
    ids = [ids[index] for index in order]
    polled = polled[order]
    # One draw decides both: in the real set the polled stores without a zone
    # are among those without hours. Never-polled stores exist only because a
    # file names them, so they always get rows.
    missing = rng.random(len(ids))
    no_rows = np.zeros(len(ids), dtype=bool)
    return _Stores(
        ids=ids,
        polled=polled,
        generated_hours=no_rows if hours_from_file else ~polled | (missing >= NO_HOURS_SHARE),
        generated_zone=no_rows if zones_from_file else ~polled | (missing >= NO_ZONE_SHARE),
    )


def _hours_bytes(ids: _Column, rng: np.random.Generator) -> tuple[bytes, int]:
    """Business hours rows of these stores: each a kind of schedule, a weekday template and
    a Friday/Saturday one (the same for half the stores), and some weekdays left out."""
    stores = len(ids.lengths)
    catalogue = _CATALOGUE
    kind = rng.choice(len(catalogue.kind_weights), size=stores, p=catalogue.kind_weights)
    weekday_template = catalogue.kind_first[kind] + rng.integers(0, catalogue.kind_sizes[kind])
    weekend_template = catalogue.kind_first[kind] + rng.integers(0, catalogue.kind_sizes[kind])
    weekend_differs = rng.random(stores) < 0.5
    listed_days = rng.choice(_LISTED_DAYS, size=stores, p=_LISTED_DAYS_P)
    day_end = rng.choice(DAY_END_SPELLINGS, size=stores)
    # Each store lists its first `listed_days` weekdays of a random order, in
    # that order (the real files do not sort days either).
    day_order = np.argsort(rng.random((stores, 7)), axis=1)
    store, position = np.nonzero(np.arange(7) < listed_days[:, None])
    day = day_order[store, position]
    on_weekend = weekend_differs[store] & ((day == 4) | (day == 5))
    template = np.where(on_weekend, weekend_template[store], weekday_template[store])

    intervals = catalogue.counts[template]
    row_day = np.repeat(np.arange(len(template)), intervals)
    interval = np.arange(len(row_day)) - np.repeat(np.cumsum(intervals) - intervals, intervals)
    row_template, row_store = template[row_day], store[row_day]
    start = catalogue.starts[row_template, interval]
    end = catalogue.ends[row_template, interval]
    end = np.where(end == DAY_END, day_end[row_store], end)
    day_column = _Column((day[row_day] + ord("0")).astype(np.uint8)[:, None], np.ones(len(end)))
    fields: list[_Column | bytes] = [ids.take(row_store), b",", day_column, b","]
    fields += [_clock_column(start), b","]
    fields += [_clock_column(end), b"\n"]
    return _csv_bytes(fields, len(end)), len(end)


def _zones_bytes(ids: _Column, rng: np.random.Generator) -> tuple[bytes, int]:
    stores = len(ids.lengths)
    zones = _Column.of(_ZONES).take(rng.choice(len(_ZONES), size=stores, p=_ZONE_P))
    return _csv_bytes([ids, b",", zones, b"\n"], stores), stores


@dataclass(frozen=True)
class _PollHours:
    """The hour slots polled: a store is polled at most once per slot."""

    first_us: int  # start of the first slot: the hour at or before `end - days`
    slots: int
    end_us: int  # the latest poll of the whole file, exactly

    @classmethod
    def ending(cls, end: datetime, days: float) -> _PollHours:
        first = (end - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        end_us = _epoch_us(end)
        first_us = _epoch_us(first)
        return cls(first_us, math.ceil((end_us - first_us) / HOUR_US), end_us)


def _epoch_us(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _poll_bytes(
    ids: _Column, hours: _PollHours, rng: np.random.Generator, *, first_polls_end: bool
) -> tuple[bytes, int]:
    """Polls of these stores, in random order like the real file's.

    Each store is polled in a share of the hours (its own, about 69 % on
    average), near a minute of the hour of its own. With `first_polls_end` the
    first store's last poll is at the window's end exactly.
    """
    stores = len(ids.lengths)
    share = rng.beta(10 * POLLED_HOUR_SHARE, 10 * (1 - POLLED_HOUR_SHARE), size=stores)
    polled = rng.random((stores, hours.slots)) < share[:, None]
    minute = rng.integers(0, HOUR_US, size=stores)
    jitter = rng.normal(0, POLL_MINUTE_JITTER_SD_US, size=(stores, hours.slots)).astype(np.int64)
    micros = (
        hours.first_us + np.arange(hours.slots) * HOUR_US + (minute[:, None] + jitter) % HOUR_US
    )
    whole_second = rng.random(micros.shape) < WHOLE_SECOND_SHARE
    micros[whole_second] -= micros[whole_second] % 10**6
    if first_polls_end:
        polled[0, -1] = True
        micros[0, -1] = hours.end_us
    polled &= micros <= hours.end_us
    store, slot = np.nonzero(polled)  # row-major: each store's polls in time order
    micros = micros[store, slot]
    active = _outage_free(store, stores, rng)

    order = rng.permutation(len(store))
    statuses = _Column.of(np.where(active[order], b"active", b"inactive"))
    fields: list[_Column | bytes] = [ids.take(store[order]), b",", statuses, b","]
    fields.append(_timestamp_column(micros[order]))
    return _csv_bytes([*fields, b" UTC\n"], len(order)), len(order)


def _outage_free(store: np.ndarray, stores: int, rng: np.random.Generator) -> np.ndarray:
    """Whether each poll (grouped by store, in time order) is active: outages are runs.

    A poll starts an outage with its store's probability; the outage covers a
    geometric number of polls, cut at the store's last poll. Overlapping outages
    merge: a poll is inactive while any outage covers it.
    """
    rows = len(store)
    start_chance = np.minimum(rng.gamma(*OUTAGE_START_GAMMA, size=stores), 0.5)
    starts = np.flatnonzero(rng.random(rows) < start_chance[store])
    long = rng.random(len(starts)) < LONG_OUTAGE_SHARE
    length = np.where(
        long,
        rng.geometric(1 / LONG_OUTAGE_MEAN_POLLS, size=len(starts)),
        rng.geometric(1 / OUTAGE_MEAN_POLLS, size=len(starts)),
    )
    store_stop = np.cumsum(np.bincount(store, minlength=stores))  # row after each store's last
    stops = np.minimum(starts + length, store_stop[store[starts]])
    covering = np.bincount(starts, minlength=rows + 1) - np.bincount(stops, minlength=rows + 1)
    free: np.ndarray = np.cumsum(covering)[:rows] == 0
    return free


def _source_rows(path: Path, columns: Sequence[Column]) -> Iterator[list[str]]:
    """The trimmed values of `columns` in each row of a CSV file, its header matched as
    an import matches it; blank lines and rows whose store id an import would reject
    (a formula-like one, say) are left out."""
    try:
        with open_csv(path, columns) as csv_input:
            positions = [csv_input.positions[column.name] for column in columns]
            for row in csv_input.reader:
                values = [row[index].strip() if index < len(row) else "" for index in positions]
                if _valid_store_id(values[0]):
                    yield values
    except UnicodeDecodeError:
        raise SampleDataError(f"{path}: not UTF-8 text") from None
    except FileRefusedError as error:
        raise SampleDataError(str(error)) from None


def _valid_store_id(value: str) -> bool:
    try:
        rules.store_id(value)
    except RowRejectedError:
        return False
    return True


def _file_store_ids(path: Path, columns: Sequence[Column]) -> list[str]:
    """The distinct valid store ids of a file, in order of appearance."""
    return list(dict.fromkeys(row[0] for row in _source_rows(path, columns)))


def _copy_rows(source: Path, columns: Sequence[Column], keep: set[str], target: Path) -> int:
    """Copy the rows of the kept stores, under the canonical header (`day` for the day column)."""
    copied = 0
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_header(columns))
        for row in _source_rows(source, columns):
            if row[0] in keep:
                writer.writerow(row)
                copied += 1
    return copied


def _header(columns: Sequence[Column]) -> list[str]:
    return [column.name for column in columns]


def _id_column(ids: Sequence[str]) -> _Column:
    return _Column.of(np.array([_csv_field(store_id) for store_id in ids], dtype=np.bytes_))


def _open_output(stack: ExitStack, path: Path, header: Sequence[str]) -> BinaryIO:
    handle = stack.enter_context(path.open("wb"))
    handle.write(",".join(header).encode() + b"\n")
    return handle


def _write(handle: BinaryIO, chunk: tuple[bytes, int]) -> int:
    data, rows = chunk
    handle.write(data)
    return rows


def generate_sample_data(
    out_dir: Path,
    *,
    stores: int,
    days: float = DEFAULT_DAYS,
    seed: int = 0,
    end: datetime = DEFAULT_END,
    hours_from: Path | None = None,
    timezones_from: Path | None = None,
    calendar: bool = True,
) -> SampleData:
    """Write `store_status.csv`, `menu_hours.csv` and `timezones.csv` into `out_dir`.

    `stores` stores are polled over the `days` before `end` (the latest poll is
    `end` exactly). With `hours_from` / `timezones_from` (real files), the
    stores come from those files: their rows are copied through (day column
    renamed `day`) for the stores kept, and stores polled but in neither file
    are added up to `stores`, as the real set has them. With `calendar`, also the
    calendar's files (monitor.sample_data.calendar) for the polled stores.
    """
    if stores < 1:
        raise SampleDataError(f"stores must be at least 1, got {stores}")
    if not days > 0:
        raise SampleDataError(f"days must be positive, got {days}")
    if end.utcoffset() is None:
        raise SampleDataError(f"end must be an aware datetime, got {end.isoformat()}")
    end = end.astimezone(UTC)
    hours_ids = _file_store_ids(hours_from, HOURS_COLUMNS) if hours_from else []
    zone_ids = _file_store_ids(timezones_from, TIMEZONE_COLUMNS) if timezones_from else []
    file_ids = list(dict.fromkeys(hours_ids + zone_ids))

    # A third child for the calendar: the first two, and so the other files, are
    # the same with or without it.
    plan_seed, chunks_seed, calendar_seed = np.random.SeedSequence(seed).spawn(3)
    plan = _plan_stores(
        stores,
        file_ids,
        hours_from is not None,
        timezones_from is not None,
        np.random.default_rng(plan_seed),
    )
    poll_hours = _PollHours.ending(end, days)
    out_dir.mkdir(parents=True, exist_ok=True)
    status_csv, hours_csv = out_dir / STATUS_FILE, out_dir / HOURS_FILE
    timezones_csv = out_dir / TIMEZONES_FILE
    polls = hours_rows = zone_rows = 0
    with ExitStack() as stack:
        polls_out = _open_output(stack, status_csv, _header(POLL_COLUMNS))
        hours_out = None if hours_from else _open_output(stack, hours_csv, _header(HOURS_COLUMNS))
        zones_out = (
            None
            if timezones_from
            else _open_output(stack, timezones_csv, _header(TIMEZONE_COLUMNS))
        )
        chunk_starts = range(0, len(plan.ids), STORES_PER_CHUNK)
        end_pending = True
        for chunk_start, chunk_seed in zip(
            chunk_starts, chunks_seed.spawn(len(chunk_starts)), strict=True
        ):
            rng = np.random.default_rng(chunk_seed)
            chunk = slice(chunk_start, chunk_start + STORES_PER_CHUNK)
            ids = _id_column(plan.ids[chunk])
            if hours_out is not None:
                with_hours = np.flatnonzero(plan.generated_hours[chunk])
                hours_rows += _write(hours_out, _hours_bytes(ids.take(with_hours), rng))
            if zones_out is not None:
                with_zone = np.flatnonzero(plan.generated_zone[chunk])
                zone_rows += _write(zones_out, _zones_bytes(ids.take(with_zone), rng))
            polled = np.flatnonzero(plan.polled[chunk])
            first_polls_end = end_pending and len(polled) > 0
            polls += _write(
                polls_out,
                _poll_bytes(ids.take(polled), poll_hours, rng, first_polls_end=first_polls_end),
            )
            end_pending &= not first_polls_end
    kept = set(plan.ids)
    if hours_from:
        hours_rows = _copy_rows(hours_from, HOURS_COLUMNS, kept, hours_csv)
    if timezones_from:
        zone_rows = _copy_rows(timezones_from, TIMEZONE_COLUMNS, kept, timezones_csv)
    sample_calendar = None
    if calendar:
        polled_ids = [
            store_id for store_id, polled in zip(plan.ids, plan.polled, strict=True) if polled
        ]
        sample_calendar = write_calendar(
            out_dir,
            polled_ids,
            end,
            None if hours_from else hours_csv,
            np.random.default_rng(calendar_seed),
        )
        hours_rows += sample_calendar.closed_weekday_rows
    return SampleData(
        calendar=sample_calendar,
        status_csv=status_csv,
        hours_csv=hours_csv,
        timezones_csv=timezones_csv,
        poll_rows=polls,
        hours_rows=hours_rows,
        timezone_rows=zone_rows,
        polled_stores=stores,
        unpolled_stores=len(plan.ids) - stores,
    )
