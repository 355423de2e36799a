"""The sample data generator writes files shaped like the real Loop set (data README)."""

from __future__ import annotations

import csv
import itertools
import re
import statistics
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.sample_data.generator import (
    DEFAULT_END,
    NO_HOURS_SHARE,
    NO_ZONE_SHARE,
    SampleData,
    SampleDataError,
    generate_sample_data,
)

# docs/report-semantics.md §1 spellings, written as the generator must write them.
TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d{1,6}))? UTC")
CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?")
STORES = 600


@dataclass(frozen=True)
class Poll:
    store_id: str
    active: bool
    instant: datetime
    fraction_digits: int


@dataclass(frozen=True)
class Loaded:
    result: SampleData
    polls: list[Poll]
    hours: dict[str, list[tuple[int, str, str]]]
    zones: dict[str, str]

    @property
    def polled(self) -> set[str]:
        return {poll.store_id for poll in self.polls}

    def polls_by_store(self) -> dict[str, list[Poll]]:
        by_store: dict[str, list[Poll]] = defaultdict(list)
        for poll in sorted(self.polls, key=lambda poll: (poll.store_id, poll.instant)):
            by_store[poll.store_id].append(poll)
        return by_store


def read_rows(path: Path, header: list[str]) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == header
    return rows[1:]


def parse_poll(store_id: str, status: str, written: str) -> Poll:
    match = TIMESTAMP.fullmatch(written)
    assert match, f"not a spec timestamp: {written!r}"
    fraction = match.group(2) or ""
    instant = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) + timedelta(
        microseconds=int(fraction.ljust(6, "0"))
    )
    assert status in ("active", "inactive")
    return Poll(store_id, status == "active", instant, len(fraction))


def load(result: SampleData) -> Loaded:
    polls = [
        parse_poll(*row)
        for row in read_rows(result.status_csv, ["store_id", "status", "timestamp_utc"])
    ]
    hours: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    header = ["store_id", "day", "start_time_local", "end_time_local"]
    for store_id, day, start, end in read_rows(result.hours_csv, header):
        hours[store_id].append((int(day), start, end))
    zones = dict(read_rows(result.timezones_csv, ["store_id", "timezone_str"]))
    return Loaded(result, polls, dict(hours), zones)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load(generate_sample_data(tmp_path_factory.mktemp("sample"), stores=STORES, seed=7))


def file_bytes(result: SampleData) -> list[bytes]:
    return [
        path.read_bytes() for path in (result.status_csv, result.hours_csv, result.timezones_csv)
    ]


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate_sample_data(tmp_path / "a", stores=40, seed=3)
    again = generate_sample_data(tmp_path / "b", stores=40, seed=3)
    other = generate_sample_data(tmp_path / "c", stores=40, seed=4)
    assert file_bytes(first) == file_bytes(again)
    assert all(a != b for a, b in zip(file_bytes(first), file_bytes(other), strict=True))


def test_counts_reported_match_the_files(sample: Loaded) -> None:
    assert sample.result.poll_rows == len(sample.polls)
    assert sample.result.hours_rows == sum(len(rows) for rows in sample.hours.values())
    assert sample.result.timezone_rows == len(sample.zones)
    assert sample.result.polled_stores == len(sample.polled) == STORES
    named = sample.hours.keys() | sample.zones.keys()
    assert sample.result.unpolled_stores == len(named - sample.polled)


def test_store_ids_are_integers_like_the_real_ones(sample: Loaded) -> None:
    ids = sample.polled | sample.hours.keys() | sample.zones.keys()
    assert all(store_id.isdigit() and not store_id.startswith("0") for store_id in ids)
    lengths = Counter(len(store_id) for store_id in ids)
    assert max(lengths) == 19
    assert lengths[19] > 0.8 * len(ids)


def test_polls_end_at_the_fixed_instant_within_the_window(sample: Loaded) -> None:
    instants = [poll.instant for poll in sample.polls]
    assert max(instants) == DEFAULT_END
    assert min(instants) >= datetime(2023, 1, 18, tzinfo=UTC)
    assert min(instants) < datetime(2023, 1, 18, 1, tzinfo=UTC)


def test_about_129_polls_per_store_roughly_hourly_at_irregular_minutes(sample: Loaded) -> None:
    by_store = sample.polls_by_store()
    assert 120 <= statistics.mean(len(polls) for polls in by_store.values()) <= 138
    gaps = [
        (later.instant - earlier.instant) / timedelta(hours=1)
        for polls in by_store.values()
        for earlier, later in itertools.pairwise(polls)
    ]
    assert min(gaps) > 0  # no store is polled twice at the same instant
    assert 0.9 <= statistics.median(gaps) <= 1.2
    minutes = Counter(poll.instant.minute for poll in sample.polls)
    assert len(minutes) == 60
    assert max(minutes.values()) < 3 * len(sample.polls) / 60


def test_fractions_have_zero_to_six_digits(sample: Loaded) -> None:
    digits = Counter(poll.fraction_digits for poll in sample.polls)
    assert set(digits) <= set(range(7))
    assert {0, 4, 5, 6} <= set(digits)
    assert digits[6] > 0.8 * len(sample.polls)


def test_statuses_come_in_runs_not_coin_flips(sample: Loaded) -> None:
    by_store = sample.polls_by_store()
    inactive_share = sum(not poll.active for poll in sample.polls) / len(sample.polls)
    assert 0.02 <= inactive_share <= 0.2
    changes = sum(
        earlier.active != later.active
        for polls in by_store.values()
        for earlier, later in itertools.pairwise(polls)
    )
    pairs = len(sample.polls) - len(by_store)
    independent_changes = 2 * inactive_share * (1 - inactive_share) * pairs
    assert changes < 0.5 * independent_changes
    assert sum(all(poll.active for poll in polls) for polls in by_store.values()) > 0


def seconds(clock: str) -> float:
    hours, minutes, *rest = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + (float(rest[0]) if rest else 0.0)


def test_hours_rows_are_valid_by_the_spec_and_as_varied_as_the_real_ones(sample: Loaded) -> None:
    rows = [(store, *row) for store, store_rows in sample.hours.items() for row in store_rows]
    closed = [row for row in rows if row[2:] == ("", "")]  # closed weekdays (§10.1)
    assert closed
    assert all(sum(r[:2] == row[:2] for r in rows) == 1 for row in closed)  # the day's only row
    rows = [row for row in rows if row not in closed]
    for store_id, day, start, end in rows:
        assert store_id.strip() == store_id != ""
        assert 0 <= day <= 6
        assert CLOCK.fullmatch(start), start
        assert CLOCK.fullmatch(end), end
        assert start != end
    per_day = Counter((store_id, day) for store_id, day, _, _ in rows)
    assert max(per_day.values()) <= 4
    assert any(count >= 2 for count in per_day.values())
    ends = Counter(end for *_, end in rows)
    assert ends["23:59:59"] > 0
    assert ends["23:59:00"] > 0
    assert any(len({row[0] for row in store_rows}) < 7 for store_rows in sample.hours.values())
    assert any(start == "00:00:00" and seconds(end) <= 600 for _, _, start, end in rows)
    assert any(end < start for _, _, start, end in rows)  # overnight (docs/report-semantics.md §4)


def test_intervals_of_a_day_do_not_overlap(sample: Loaded) -> None:
    days: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for store_id, store_rows in sample.hours.items():
        for day, start, end in store_rows:
            if start:  # not a closed row
                days[store_id, day].append((seconds(start), seconds(end)))
    for intervals in days.values():
        intervals.sort()
        for (_, earlier_end), (later_start, _) in itertools.pairwise(intervals):
            assert earlier_end <= later_start


def test_zones_are_iana_names_with_dst_among_them(sample: Loaded) -> None:
    available = zoneinfo.available_timezones()
    assert set(sample.zones.values()) <= available
    july = datetime(2023, 7, 1, 12)
    assert any(zoneinfo.ZoneInfo(zone).dst(july) for zone in sample.zones.values())
    assert Counter(sample.zones.values()).most_common(1)[0][0] == "America/New_York"


def test_shares_of_stores_without_hours_or_zone_and_never_polled(sample: Loaded) -> None:
    without_hours = sample.polled - sample.hours.keys()
    without_zone = sample.polled - sample.zones.keys()
    assert abs(len(without_hours) / STORES - NO_HOURS_SHARE) < 0.05
    assert abs(len(without_zone) / STORES - NO_ZONE_SHARE) < 0.025
    assert without_zone <= without_hours  # as in the real set
    assert 1 <= len(sample.hours.keys() - sample.polled) <= 0.02 * STORES
    assert 1 <= len(sample.zones.keys() - sample.polled) <= 0.02 * STORES


def test_days_sets_the_span(tmp_path: Path) -> None:
    loaded = load(generate_sample_data(tmp_path, stores=30, days=2, seed=1))
    instants = [poll.instant for poll in loaded.polls]
    assert max(instants) == DEFAULT_END
    assert min(instants) >= datetime(2023, 1, 23, 18, tzinfo=UTC)
    assert 25 <= len(instants) / 30 <= 42  # 2 days × 24 h × ~69 %


def test_end_sets_the_last_instant(tmp_path: Path) -> None:
    end = datetime(2024, 10, 14, 23, 55, 18, 727055, tzinfo=UTC)
    loaded = load(generate_sample_data(tmp_path, stores=5, days=1, end=end))
    assert max(poll.instant for poll in loaded.polls) == end


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"stores": 0}, "stores must be at least 1"),
        ({"stores": 5, "days": 0}, "days must be positive"),
        ({"stores": 5, "end": datetime(2023, 1, 25)}, "aware"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(SampleDataError, match=message):
        generate_sample_data(tmp_path, **arguments)


# --- with real-looking source files -------------------------------------------------

FILE_STORES = [f"6b1f0c5e-0000-4000-8000-{index:012d}" for index in range(50)]


def write_sources(tmp_path: Path) -> tuple[Path, Path]:
    """A v2-style hours file (dayOfWeek, BOM, odd header case, a blank line) and a zones file."""
    hours = tmp_path / "hours.csv"
    lines = [" Store_ID ,dayOfWeek,START_TIME_LOCAL,end_time_local,extra"]
    for store_id in FILE_STORES[:40]:
        lines += [f"{store_id},{day},10:00:00,22:00:00,x" for day in range(3)]
    lines.insert(5, "")
    hours.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    zones = tmp_path / "zones.csv"
    zone_lines = ["store_id,timezone_str"]
    zone_lines += [f"{store_id},America/Denver" for store_id in FILE_STORES[10:]]
    zones.write_text("\n".join(zone_lines) + "\n", encoding="utf-8")
    return hours, zones


def test_sources_give_the_stores_and_their_rows_pass_through(tmp_path: Path) -> None:
    hours, zones = write_sources(tmp_path)
    result = generate_sample_data(
        tmp_path / "out", stores=70, seed=2, hours_from=hours, timezones_from=zones
    )
    loaded = load(result)
    assert set(loaded.hours) == set(FILE_STORES[:40])
    assert all(
        rows
        == [(0, "10:00:00", "22:00:00"), (1, "10:00:00", "22:00:00"), (2, "10:00:00", "22:00:00")]
        for rows in loaded.hours.values()
    )
    assert loaded.zones == dict.fromkeys(FILE_STORES[10:], "America/Denver")
    assert len(loaded.polled) == 70
    file_stores_polled = loaded.polled & set(FILE_STORES)
    assert len(file_stores_polled) >= 45
    # The others are polled-only stores, as in the real set: no hours, no zone.
    assert all(store_id.isdigit() for store_id in loaded.polled - set(FILE_STORES))
    assert result.unpolled_stores == len(set(FILE_STORES) - loaded.polled)


def test_fewer_stores_than_the_sources_keep_only_their_rows(tmp_path: Path) -> None:
    hours, zones = write_sources(tmp_path)
    loaded = load(
        generate_sample_data(
            tmp_path / "out", stores=8, seed=5, hours_from=hours, timezones_from=zones
        )
    )
    assert len(loaded.polled) == 8
    assert loaded.polled <= set(FILE_STORES)
    # Each polled store keeps all its rows; other stores of the files are left out
    # but for the odd never-polled one.
    assert {store_id for store_id in loaded.polled if store_id in FILE_STORES[:40]} <= set(
        loaded.hours
    )
    assert {store_id for store_id in loaded.polled if store_id in FILE_STORES[10:]} <= set(
        loaded.zones
    )
    assert all(len(rows) == 3 for rows in loaded.hours.values())
    named = loaded.hours.keys() | loaded.zones.keys()
    assert len(named - loaded.polled) <= 2


def test_only_an_hours_source_generates_the_zones(tmp_path: Path) -> None:
    hours, _ = write_sources(tmp_path)
    loaded = load(generate_sample_data(tmp_path / "out", stores=40, seed=5, hours_from=hours))
    assert set(loaded.hours) <= set(FILE_STORES[:40])
    assert set(loaded.zones) <= loaded.polled | set(FILE_STORES)
    assert len(loaded.zones) > 30


def test_day_is_preferred_to_day_of_week_when_both_are_there(tmp_path: Path) -> None:
    hours = tmp_path / "hours.csv"
    hours.write_text(
        "store_id,dayOfWeek,day,start_time_local,end_time_local\ns1,6,2,09:00,17:00\n",
        encoding="utf-8",
    )
    loaded = load(generate_sample_data(tmp_path / "out", stores=1, hours_from=hours))
    assert loaded.hours == {"s1": [(2, "09:00", "17:00")]}


def test_an_id_with_a_comma_stays_one_field(tmp_path: Path) -> None:
    zones = tmp_path / "zones.csv"
    zones.write_text('store_id,timezone_str\n"a,""b""",Asia/Kolkata\n', encoding="utf-8")
    loaded = load(generate_sample_data(tmp_path / "out", stores=1, timezones_from=zones))
    assert loaded.polled == {'a,"b"'}
    assert loaded.zones == {'a,"b"': "Asia/Kolkata"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "store_id,start_time_local,end_time_local\n",
            r"no 'day' or 'dayOfWeek' or 'day_of_week' column",
        ),
        ("", "the file is empty"),
        (b"store_id,day,start_time_local,end_time_local\n\xff\xfe,1,2,3\n", "not UTF-8"),
    ],
)
def test_unusable_source_files_are_refused_with_their_name(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    hours = tmp_path / "bad_hours.csv"
    if isinstance(content, bytes):
        hours.write_bytes(content)
    else:
        hours.write_text(content, encoding="utf-8")
    with pytest.raises(SampleDataError, match=message) as raised:
        generate_sample_data(tmp_path / "out", stores=3, hours_from=hours)
    assert str(hours) in str(raised.value)
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_missing_source_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SampleDataError, match="cannot be read"):
        generate_sample_data(tmp_path / "out", stores=3, timezones_from=tmp_path / "none.csv")


def test_formula_like_ids_of_a_source_file_are_left_out(tmp_path: Path) -> None:
    """docs/report-semantics.md §1, amendment 1: an import would reject them."""
    zones = tmp_path / "zones.csv"
    zones.write_text(
        "store_id,timezone_str\n=1+1,Asia/Kolkata\n-5,Asia/Kolkata\nok,Asia/Kolkata\n",
        encoding="utf-8",
    )
    loaded = load(generate_sample_data(tmp_path / "out", stores=3, timezones_from=zones, seed=2))
    assert "ok" in loaded.polled
    named = loaded.polled | set(loaded.hours) | set(loaded.zones)
    assert not [store_id for store_id in named if store_id[0] in "=+-@"]


def test_the_calendar_has_special_dates_exclusions_and_one_of_every_store(
    sample: Loaded,
) -> None:
    calendar = sample.result.calendar
    assert calendar is not None
    with calendar.special_hours_csv.open() as handle:
        special = list(csv.DictReader(handle))
    with calendar.exclusions_csv.open() as handle:
        exclusions = list(csv.DictReader(handle))
    assert (len(special), len(exclusions)) == (calendar.special_rows, calendar.exclusion_rows)
    assert len({row["store_id"] for row in special}) == round(STORES * 0.10)
    assert {row["store_id"] for row in special} <= sample.polled
    assert any(row["start_time_local"] == "" for row in special)  # a holiday
    assert any(row["end_time_local"] < row["start_time_local"] != "" for row in special)
    (everyone,) = [row for row in exclusions if row["store_id"] == "*"]
    assert everyone["reason"] == "the poller was down"
    assert len(exclusions) == 1 + round(STORES * 0.05)


def test_without_the_calendar_the_other_files_are_the_same(tmp_path: Path) -> None:
    plain = generate_sample_data(tmp_path / "a", stores=40, seed=3, calendar=False)
    assert plain.calendar is None
    with_calendar = generate_sample_data(tmp_path / "b", stores=40, seed=3)
    assert file_bytes(plain)[0] == file_bytes(with_calendar)[0]
    assert file_bytes(with_calendar)[1].startswith(file_bytes(plain)[1])
