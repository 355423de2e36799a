"""monitor.ingest.rules: the value rules of docs/report-semantics.md §1, one kind at a time."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError

# ---- timestamp_utc ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spelled", "stored"),
    [
        ("2023-01-22 12:09:39.388884 UTC", "2023-01-22 12:09:39.388884"),
        ("2023-01-22 12:09:39.38888 UTC", "2023-01-22 12:09:39.388880"),
        ("2023-01-22 12:09:39.3 UTC", "2023-01-22 12:09:39.300000"),
        ("2023-01-22 12:09:39 UTC", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.000000 UTC", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.0 UTC", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.000001 UTC", "2023-01-22 12:09:39.000001"),
        ("2023-01-31 23:59:59.5 UTC", "2023-01-31 23:59:59.500000"),  # day > 28: checked path
        ("2024-02-29 00:00:00 UTC", "2024-02-29 00:00:00"),  # leap day
        ("2023-01-22T12:09:39Z", "2023-01-22 12:09:39"),
        ("2023-01-22T12:09:39.388884Z", "2023-01-22 12:09:39.388884"),
        ("2023-01-22T12:09:39.4Z", "2023-01-22 12:09:39.400000"),
        ("2023-01-22T07:09:39-05:00", "2023-01-22 12:09:39"),
        ("2023-01-22T17:39:39.1234+05:30", "2023-01-22 12:09:39.123400"),
        ("2023-01-22T12:09:39+00:00", "2023-01-22 12:09:39"),
        ("2023-01-01T01:00:00+02:00", "2022-12-31 23:00:00"),  # the offset crosses a year
        # Amendment 2: no zone designator means UTC, in both spellings.
        ("2023-01-22 12:09:39", "2023-01-22 12:09:39"),
        ("2023-01-22T12:09:39", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.388884", "2023-01-22 12:09:39.388884"),
        ("2023-01-22 12:09:39.000000", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.5", "2023-01-22 12:09:39.500000"),
        ("2023-01-31 12:09:39.5", "2023-01-31 12:09:39.500000"),  # day > 28: checked path
        ("2023-01-22T12:09:39.123456", "2023-01-22 12:09:39.123456"),
    ],
)
def test_every_spelling_of_the_spec_gives_the_utc_instant(spelled: str, stored: str) -> None:
    assert rules.utc_timestamp(spelled) == stored


@pytest.mark.parametrize(
    "spelled",
    [
        # The spellings §1 names as still invalid.
        "2023-01-22 12:09:39Z",
        "2023-01-22T12:09:39 UTC",
        "2023-01-22 12:09 UTC",
        "2023-01-22 12:09",
        "2023-01-22 12:09:39 utc",
        "2023-01-22 12:09:39+00:00",
        "2023-01-22T12:09:39.1234567",  # 7 fraction digits, no zone
        "2023-01-22T12:09:39.1234567Z",  # 7 fraction digits
        "2023-01-22 12:09:39.1234567 UTC",
        "2023-01-22 12:09:39. UTC",
        "2023-01-22T12:09Z",  # no seconds
        "2023-1-22 12:09:39 UTC",
        "23-01-22 12:09:39 UTC",
        "2023/01/22 12:09:39 UTC",
        "2023-01-22 12:09:39  UTC",
        "2023-01-22T12:09:39+0500",
        "2023-01-22T12:09:39+05",
        "1674389379",
        "٢٠٢٣-01-22 12:09:39 UTC",  # other scripts' digits are not ASCII digits
        "yesterday",
    ],
)
def test_other_spellings_are_rejected_naming_the_accepted_ones(spelled: str) -> None:
    with pytest.raises(
        RowRejectedError, match=r"is not 'YYYY-MM-DD HH:MM:SS\[\.f\]\[ UTC\]' nor ISO"
    ):
        rules.utc_timestamp(spelled)


@pytest.mark.parametrize(
    "spelled",
    [
        "2023-02-29 00:00:00 UTC",  # not a leap year
        "2023-02-30 00:00:00 UTC",
        "2023-04-31 00:00:00 UTC",
        "2023-13-01 00:00:00 UTC",
        "2023-00-10 00:00:00 UTC",
        "2023-01-00 00:00:00 UTC",
        "2023-01-22 24:00:00 UTC",
        "2023-01-22 24:00:00",
        "2023-02-29T00:00:00",
        "2023-01-22 12:60:00 UTC",
        "2023-01-22 23:59:60 UTC",  # leap seconds are not instants Python can hold
        "2023-01-22T12:09:39+24:00",
        "0000-01-01 00:00:00 UTC",
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
    ],
)
def test_well_spelled_but_impossible_instants_are_rejected(spelled: str) -> None:
    with pytest.raises(RowRejectedError, match="is not a real instant"):
        rules.utc_timestamp(spelled)


def _fraction_digits(microsecond: int) -> st.SearchStrategy[int]:
    """Digit counts that write `microsecond` exactly (0: no fraction at all)."""
    exact = [n for n in range(1, 7) if microsecond % 10 ** (6 - n) == 0]
    return st.sampled_from(exact + ([0] if microsecond == 0 else []))


@st.composite
def spelled_instants(draw: st.DrawFn) -> tuple[str, datetime]:
    """An instant and one way of writing it that §1 accepts."""
    instant = draw(
        st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30))
    ).replace(tzinfo=UTC)
    digits = draw(_fraction_digits(instant.microsecond))
    fraction = f".{instant.microsecond:06d}"[: digits + 1] if digits else ""
    offset_minutes = draw(st.integers(-23 * 60 - 59, 23 * 60 + 59))
    spelling = draw(st.sampled_from(["space UTC", "space", "Z", "T", "offset"]))
    if spelling in ("space UTC", "space"):
        zone = " UTC" if spelling == "space UTC" else ""
        return f"{instant:%Y-%m-%d %H:%M:%S}{fraction}{zone}", instant
    if spelling in ("Z", "T"):
        zone = "Z" if spelling == "Z" else ""
        return f"{instant:%Y-%m-%dT%H:%M:%S}{fraction}{zone}", instant
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign, minutes = ("-" if offset_minutes < 0 else "+"), abs(offset_minutes)
    return (
        f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{sign}{minutes // 60:02d}:{minutes % 60:02d}",
        instant,
    )


@given(spelled_instants())
def test_any_accepted_spelling_round_trips_to_its_instant_with_microseconds(
    case: tuple[str, datetime],
) -> None:
    spelled, instant = case
    stored = rules.utc_timestamp(spelled)
    # Django's own text of the instant on SQLite: str() of the naive UTC datetime.
    assert stored == str(instant.replace(tzinfo=None))
    assert datetime.fromisoformat(stored).replace(tzinfo=UTC) == instant


# ---- amendment 5: a poll's instant, the calendar's years ---------------------------

LOADED_AT = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "1970-01-01 00:00:00 UTC",
        "1970-01-01T01:00:00+01:00",  # the epoch, with an offset
        "2023-01-22T12:09:39Z",
        "2026-12-08 14:00:00",  # 24 hours after the load, exactly
        "2026-12-08T09:00:00-05:00",
    ],
)
def test_a_poll_lies_from_1970_to_a_day_after_its_load(value: str) -> None:
    with rules.loading(LOADED_AT):
        assert rules.poll_timestamp(value) == rules.utc_timestamp(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1969-12-31 23:59:59.999999 UTC", "is before 1970-01-01 00:00:00 UTC"),
        ("0001-01-01 00:00:00", "is before 1970-01-01 00:00:00 UTC"),
        ("1970-01-01T00:59:59+01:00", "is before 1970-01-01 00:00:00 UTC"),
        ("2026-12-08 14:00:00.000001", "is after 2026-12-08 14:00:00 UTC, 24 hours after it"),
        ("9999-12-31 23:59:59 UTC", "is after 2026-12-08 14:00:00 UTC, 24 hours after it"),
    ],
)
def test_a_poll_outside_amendment_5_s_range_is_rejected(value: str, reason: str) -> None:
    with rules.loading(LOADED_AT), pytest.raises(RowRejectedError, match=re.escape(reason)):
        rules.poll_timestamp(value)


def test_without_a_load_the_limit_is_a_day_after_now() -> None:
    ahead = datetime.now(UTC) + timedelta(hours=23)
    assert rules.poll_timestamp(f"{ahead:%Y-%m-%dT%H:%M:%S}Z")
    with pytest.raises(RowRejectedError, match="24 hours after it was loaded"):
        rules.poll_timestamp(f"{ahead + timedelta(hours=2):%Y-%m-%dT%H:%M:%S}Z")


def test_a_column_of_polls_out_of_range_is_left_to_the_value_rule() -> None:
    with rules.loading(LOADED_AT):
        common = ["2023-01-22 12:09:39", "2026-12-08 14:00:00"]
        assert rules.poll_timestamps(common) == common
        assert rules.poll_timestamps([*common, "9999-12-31 00:00:00"]) is None
        assert rules.poll_timestamps(["1969-12-31 23:59:59", *common]) is None


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("1970-01-01 00:00:00", "1970-01-01 00:00:00"),
        ("2199-12-31T23:59:59.999999Z", "2199-12-31 23:59:59.999999"),
        ("2200-01-01T01:00:00+02:00", "2199-12-31 23:00:00"),
    ],
)
def test_a_calendar_instant_lies_in_the_years_1970_to_2199(value: str, stored: str) -> None:
    assert rules.calendar_instant(value) == stored


@pytest.mark.parametrize(
    "value", ["1969-12-31 23:59:59", "2200-01-01 00:00:00", "9999-01-01T00:00:00Z", "0001-01-01"]
)
def test_a_calendar_instant_outside_those_years_is_rejected(value: str) -> None:
    with pytest.raises(RowRejectedError, match=r"is outside the years 1970 to 2199$|is not"):
        rules.calendar_instant(value)


def test_a_calendar_date_is_checked_by_its_year() -> None:
    rules.require_calendar_year("2199-12-31", date(2199, 12, 31))
    with pytest.raises(RowRejectedError, match=r"^'2200-01-01' is outside the years 1970 to 2199$"):
        rules.require_calendar_year("2200-01-01", date(2200, 1, 1))


# ---- status -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "active"),
    [("active", True), ("inactive", False), ("ACTIVE", True), ("Inactive", False)],
)
def test_status_is_active_or_inactive_in_any_case(value: str, active: bool) -> None:
    assert rules.is_active(value) is active


@pytest.mark.parametrize("value", ["on", "activ", "1", "true", "in active"])
def test_other_statuses_are_rejected(value: str) -> None:
    with pytest.raises(RowRejectedError, match="is neither 'active' nor 'inactive'"):
        rules.is_active(value)


# ---- store_id ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["007", "8419537941919820732", "d84a4552-3668-4075-ad1d-16840294f818", "a,b"]
)
def test_store_ids_are_kept_verbatim(value: str) -> None:
    assert rules.store_id(value) == value


def test_an_empty_store_id_is_rejected() -> None:
    with pytest.raises(RowRejectedError, match="is empty"):
        rules.store_id("")


@pytest.mark.parametrize("value", ["=1+1", "+7", "-42", "@SUM(A1)", '=HYPERLINK("x")'])
def test_a_formula_like_store_id_is_rejected(value: str) -> None:
    """Amendment 1: a spreadsheet opening a report would run it as a formula."""
    with pytest.raises(RowRejectedError, match=f"begins with '{re.escape(value[0])}'.*formula"):
        rules.store_id(value)


@pytest.mark.parametrize("value", ["1=1", "a+b", "7-", "x@y"])
def test_formula_characters_after_the_first_are_kept(value: str) -> None:
    assert rules.store_id(value) == value


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("12\x0034", "U+0000 (NUL)"),
        ("12\n34", "U+000A (LINE FEED)"),
        ("12\t34", "U+0009 (TAB)"),
        ("12\x7f34", "U+007F"),
        ("12\u202e43", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("12\u200b34", "U+200B (ZERO WIDTH SPACE)"),
        ("\ufeff1234", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("12\u00ad34", "U+00AD (SOFT HYPHEN)"),
        ("12\U000e0041", "U+E0041 (TAG LATIN CAPITAL LETTER A)"),
    ],
)
def test_a_store_id_with_a_control_or_format_character_is_rejected(value: str, named: str) -> None:
    """Amendment 5: Unicode categories Cc and Cf, named in the reason."""
    with pytest.raises(
        RowRejectedError, match=f"contains {re.escape(named)}, a control or format character"
    ):
        rules.store_id(value)


@pytest.mark.parametrize(
    "value", ["caf\u00e9", "店舗 7", "a\u00a0b", "a\u3000b", "x\u2028y", "\ue000", "a/b?c#d%e"]
)
def test_other_characters_of_a_store_id_are_kept(value: str) -> None:
    """Letters of any script, spaces inside, separators, private use: none is Cc or Cf."""
    assert rules.store_id(value) == value


def test_a_store_id_has_at_most_255_characters() -> None:
    assert rules.store_id("7" * 255) == "7" * 255
    with pytest.raises(RowRejectedError) as refused:
        rules.store_id("7" * 10_000)
    # The reason quotes the start of the id, not all of it.
    assert str(refused.value) == f"{'7' * 40!r}… has 10,000 characters; a store id has at most 255"


@given(st.text(min_size=1, max_size=300))
def test_a_store_id_is_accepted_exactly_when_amendments_1_and_5_allow_it(value: str) -> None:
    import unicodedata

    allowed = (
        len(value) <= 255
        and value != rules.EVERY_STORE  # "*" names every store, in exclusions alone (§10.3)
        and value[0] not in "=+-@"
        and not any(unicodedata.category(c) in ("Cc", "Cf") for c in value)
    )
    try:
        assert rules.store_id(value) == value
    except RowRejectedError:
        assert not allowed
    else:
        assert allowed


# ---- day, local times, zones --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "day"), [("0", 0), ("3", 3), ("6", 6), ("06", 6), ("000", 0), ("0" * 5000 + "2", 2)]
)
def test_days_are_integers_from_0_to_6(value: str, day: int) -> None:
    assert rules.day_of_week(value) == day


@pytest.mark.parametrize("value", ["7", "-1", "+1", "1.0", "Monday", "٣", "10", "0007", "9" * 5000])
def test_other_days_are_rejected(value: str) -> None:
    with pytest.raises(RowRejectedError, match=r"is not an integer from 0 \(Monday\) to 6"):
        rules.day_of_week(value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("09:00", "09:00:00"),
        ("09:00:00", "09:00:00"),
        ("23:59:59", "23:59:59"),
        ("00:00", "00:00:00"),
        ("23:59:59.5", "23:59:59.500000"),
        ("10:00:00.000000", "10:00:00"),
        ("10:00:00.123456", "10:00:00.123456"),
        # Amendment 2: a one-digit hour.
        ("9:00", "09:00:00"),
        ("9:00:00.5", "09:00:00.500000"),
        ("0:00", "00:00:00"),
        ("9:05:07", "09:05:07"),
    ],
)
def test_local_times_are_h_mm_or_h_mm_ss_with_a_fraction(value: str, stored: str) -> None:
    assert rules.local_time(value) == stored
    # Django's text of a TimeField on SQLite.
    assert stored == str(time.fromisoformat(value.rjust(len(value) + value.index(":") % 2, "0")))


@pytest.mark.parametrize(
    "value",
    [
        "24:00",
        "24:00:00",
        "009:00",
        "9:0",
        "09:60",
        "09:00:60",
        "09",
        "0900",
        "09:00:00.1234567",
        "9am",
        " 9:00",
    ],
)
def test_other_local_times_are_rejected(value: str) -> None:
    with pytest.raises(RowRejectedError, match=r"is not H:MM or H:MM:SS\[\.f\] \(hour 0–23"):
        rules.local_time(value)


@pytest.mark.parametrize("value", ["America/Chicago", "Asia/Kolkata", "UTC", "Asia/Beirut"])
def test_zones_are_iana_names(value: str) -> None:
    assert rules.timezone_name(value) == value


def test_a_zone_in_the_wrong_case_is_rejected_with_the_right_spelling() -> None:
    with pytest.raises(RowRejectedError, match=r"\(did you mean 'America/Chicago'\?\)"):
        rules.timezone_name("america/chicago")


@pytest.mark.parametrize("value", ["localtime", "posixrules", "Factory"])
def test_zones_that_name_no_place_are_rejected(value: str) -> None:
    """Amendment 5: `localtime` is the server's own zone; none of them is a store's."""
    with pytest.raises(RowRejectedError, match=f"^'{value}' names no place"):
        rules.timezone_name(value)
    with pytest.raises(RowRejectedError, match=r"is not an IANA time zone name$"):
        rules.timezone_name(value.upper())  # no hint towards them either


@pytest.mark.parametrize("value", ["Mars/Olympus", "CST6", "+05:30", "Chicago"])
def test_unknown_zones_are_rejected(value: str) -> None:
    with pytest.raises(RowRejectedError, match="is not an IANA time zone name"):
        rules.timezone_name(value)


# ---- whole columns of polls ----------------------------------------------------
# rules.store_ids, statuses and utc_timestamps take the common spellings of a
# whole column at once; whatever they accept, they must give what each value's
# rule gives, and whatever they refuse, each value's rule still decides.

_COLUMN_RULES = [
    (rules.store_ids, rules.store_id),
    (rules.statuses, rules.is_active),
    (rules.utc_timestamps, rules.utc_timestamp),
    (rules.poll_timestamps, rules.poll_timestamp),
]
_COLUMN_IDS = ["store_ids", "statuses", "utc_timestamps", "poll_timestamps"]


def _each_value(rule: Callable[[str], object], values: list[str]) -> list[object] | None:
    """The rule of each (trimmed) value, as a row parser applies it; None if one is rejected."""
    try:
        return [rule(value.strip()) for value in values]
    except RowRejectedError:
        return None


def _near_misses(common: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Common values, and the same with a character changed, added or taken away
    (most often the first or the last)."""
    edits = st.tuples(
        common,
        st.one_of(st.sampled_from([0, -1]), st.integers(0, 40)),
        st.sampled_from(" \n\t\x00=+-@TZ:.01239aAé٣"),
    )
    return st.one_of(
        common,
        edits.map(lambda e: e[0][: e[1]] + e[2] + e[0][e[1] :] if e[1] >= 0 else e[0] + e[2]),
        edits.map(lambda e: e[0][: e[1]] + e[2] + e[0][e[1] + 1 :] if e[1] >= 0 else e[0] + e[2]),
        edits.map(lambda e: e[0][: e[1]] + e[0][e[1] + 1 :]),
    )


_COMMON_STORE_IDS = st.one_of(
    st.integers(0, 2**63).map(str),
    st.uuids().map(str),
    st.from_regex(r"[0-9A-Za-z][0-9A-Za-z_.:-]{0,12}", fullmatch=True),
)
_COMMON_STATUSES = st.sampled_from(["active", "inactive"])


@st.composite
def _common_instants(draw: st.DrawFn) -> str:
    """Instants as pollers write them: the spellings utc_timestamps takes."""
    instant = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    if (instant.month, instant.day) == (2, 29):
        instant = instant.replace(day=28)  # left to the value's rule, not common
    instant = instant.replace(microsecond=draw(st.sampled_from([0, 500_000, 123_456, 10])))
    digits = draw(st.integers(0, 6))
    fraction = f".{instant.microsecond:06d}"[: digits + 1] if digits else ""
    separator, zones = draw(st.sampled_from([(" ", ["", " UTC"]), ("T", ["", "Z", "+00:00"])]))
    zone = draw(st.sampled_from(zones))
    return f"{instant:%Y-%m-%d}{separator}{instant:%H:%M:%S}{fraction}{zone}"


# Any month and day number, to try each month's last days.
_CALENDAR_EDGES = st.builds(
    "{:04d}-{:02d}-{:02d} 12:00:00".format,
    st.one_of(st.sampled_from([0, 1, 2023, 2024, 9999]), st.integers(0, 9999)),
    st.integers(0, 13),
    st.one_of(st.sampled_from([0, 1, 28, 29, 30, 31, 32]), st.integers(0, 32)),
)
_COMMON = [_COMMON_STORE_IDS, _COMMON_STATUSES, _common_instants(), _common_instants()]
_UNCOMMON = [
    _COMMON_STORE_IDS,
    _COMMON_STATUSES,
    *[st.one_of(_common_instants(), _CALENDAR_EDGES)] * 2,
]


@pytest.mark.parametrize("which", range(4), ids=_COLUMN_IDS)
@given(data=st.data())
def test_a_column_rule_gives_each_value_s_rule_or_leaves_it_to_them(
    which: int, data: st.DataObject
) -> None:
    column_rule, value_rule = _COLUMN_RULES[which]
    values = data.draw(st.lists(_near_misses(_UNCOMMON[which]), min_size=1, max_size=4))
    column = column_rule(values)
    if column is not None:
        assert column == _each_value(value_rule, values)


@pytest.mark.parametrize("which", range(4), ids=_COLUMN_IDS)
@given(data=st.data())
def test_a_column_of_common_values_takes_the_column_rule(which: int, data: st.DataObject) -> None:
    column_rule, value_rule = _COLUMN_RULES[which]
    values = data.draw(st.lists(_COMMON[which], min_size=1, max_size=8))
    assert column_rule(values) == _each_value(value_rule, values)


@pytest.mark.parametrize(
    "values",
    [
        ["2023-01-22 12:09:39 UTC", "2023-01-22T12:09:39-05:00"],  # an offset
        ["2024-02-29 00:00:00"],  # 29 February
        ["2023-02-30 00:00:00"],  # no such day: rejected by the value's rule
        ["2023-01-22 12:09:39 UTC", 7],  # not a string
        ["2023-01-22 12:09:39\n2023-01-22 12:09:40"],  # two lines: one value
        [" 2023-01-22 12:09:39"],  # to trim
    ],
)
def test_other_columns_of_instants_are_left_to_the_value_rule(values: list[str]) -> None:
    assert rules.utc_timestamps(values) is None


def _calendar_and_clock_edges() -> list[str]:
    """Instants at every edge the column rule decides itself: each month's last days,
    year 0, clock limits, fraction lengths, each zone spelling with each separator."""
    years, months, days = [0, 1, 1900, 2000, 2023, 2024, 9999], range(14), range(33)
    dates = [f"{y:04d}-{m:02d}-{d:02d} 12:00:00" for y in years for m in months for d in days]
    clocks = ["12:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:00:00"]
    fractions = ["", ".", ".0", ".5", ".12345", ".123456", ".000000", ".1234567"]
    zones = [
        (separator, zone)
        for separator in (" ", "T")
        for zone in ("", " UTC", "Z", "+00:00", "-00:00", "+01:00", " utc", "z")
    ]
    spelled = [
        f"2023-01-31{separator}{clock}{fraction}{zone}"
        for clock in clocks
        for fraction in fractions
        for separator, zone in zones
    ]
    return dates + spelled


def _first_and_later_characters() -> list[str]:
    characters = [chr(code) for code in range(256)] + ["é", "٣", "\u2028", "\u3000"]
    return [v for c in characters for v in (c, f"1{c}", f"{c}1", f"1{c}1")]


@pytest.mark.parametrize(
    ("which", "values"),
    [
        (0, [*_first_and_later_characters(), "7" * 255, "7" * 256, "a" * 300]),
        (1, ["active", "inactive", "Active", "INACTIVE", " active", "active ", "", "activ"]),
        (2, _calendar_and_clock_edges()),
        (3, _calendar_and_clock_edges()),
    ],
    ids=_COLUMN_IDS,
)
def test_each_edge_value_alone_gets_its_rule_s_answer_or_is_left_to_it(
    which: int, values: list[str]
) -> None:
    column_rule, value_rule = _COLUMN_RULES[which]
    taken = 0
    for value in values:
        column = column_rule([value])
        if column is not None:
            assert column == _each_value(value_rule, [value]), value
            taken += 1
    assert taken  # the column rule takes some of them: the comparison is not empty
