"""The value rules of docs/report-semantics.md §1, one function per kind of value.

Each takes a value already trimmed and returns what is stored, or raises
RowRejectedError with a message that reads after the column's name ("'7' is not …").
Instants and times come out as the text Django itself writes for the field on
SQLite ('YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, 'HH:MM:SS[.ffffff]'), so that
rows written by the ORM and by an import compare and dedupe as equal there;
PostgreSQL parses the same text.

Each rule tries a precompiled fast path for the spelling real files use, and
only a value that misses it pays for the detailed parse: a polls file has
millions of rows.

The poll rules also come for a whole column of values at once (store_ids,
statuses, utc_timestamps): one regular expression over the column's values, a
line each, and a few replacements, instead of a call per value. They take only
the common spellings and give exactly what the value's rule gives; any other
column gets None, and its values go through their rule one by one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import available_timezones

from monitor.ingest.errors import RowRejectedError

# re.ASCII everywhere: without it \d also matches other scripts' digits ("٣").
# The real files' spelling (" UTC" or, amendment 2, nothing after the time),
# with a day ≤ 28 so that the date exists in any month (and no year 0); days
# 29–31 and every other spelling take the detailed path.
_SPACE_UTC_FAST = re.compile(
    r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8]) "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?: UTC)?",
    re.ASCII,
)
_UTC_SUFFIX = " UTC"
_LENGTH_6_DIGITS = len("2023-01-22 12:09:39.388884")
_WALL_CLOCK_LENGTH = len("2023-01-22 12:09:39")
# The two spellings of §1, each with its zone designator optional (amendment 2:
# none means UTC); the values of the fields are checked by datetime.
_SPACE_UTC = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}) "
    r"(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?)(?: UTC)?",
    re.ASCII,
)
_ISO_8601 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?)"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
_TIMESTAMP_SPELLINGS = (
    "is not 'YYYY-MM-DD HH:MM:SS[.f][ UTC]' nor ISO 8601 'YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]' "
    "(.f: 1 to 6 digits)"
)

_LOCAL_TIME_FAST = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]", re.ASCII)
# Amendment 2: a one-digit hour is allowed (`9:00`).
_LOCAL_TIME = re.compile(
    r"(?P<h>[0-9]|[01][0-9]|2[0-3]):(?P<m>[0-5][0-9])"
    r"(?::(?P<s>[0-5][0-9])(?:\.(?P<f>[0-9]{1,6}))?)?",
    re.ASCII,
)
_DAYS = {str(day): day for day in range(7)}

# The columns' common spellings, each value followed by a newline. Ids: ASCII
# letters and digits, then also `_.:-` (never a formula's first character, no
# space to trim). Instants: a date that exists in any year (29 February is
# left to the value's rule), UTC spelled " UTC", "Z", "+00:00" or not at all.
_STORE_IDS = re.compile(r"(?:[0-9A-Za-z][0-9A-Za-z_.:-]*\n)*", re.ASCII)
_STATUS_LINES = re.compile(r"(?:active\n|inactive\n)*", re.ASCII)
_DATE = (
    r"(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_UTC_INSTANTS = re.compile(rf"(?:{_DATE}(?: {_TIME}(?: UTC)?|T{_TIME}(?:Z|\+00:00)?)\n)*", re.ASCII)
# A fraction Django writes otherwise: of fewer than 6 digits (padded), or zero (dropped).
_FRACTION_TO_REWRITE = re.compile(r"\.(?:000000|([0-9]{1,5}))(?![0-9])", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_ACTIVE = "active"
_STATUSES = {_ACTIVE: True, "inactive": False}
# Amendment 1: what a spreadsheet opening a report would run as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@")


def store_id(value: str) -> str:
    """Opaque text, kept verbatim (`007` stays `007`), that no spreadsheet reads as a formula."""
    if not value:
        raise RowRejectedError("is empty")
    if value.startswith(_FORMULA_STARTS):
        raise RowRejectedError(
            f"{value!r} begins with {value[0]!r}: a spreadsheet opening a report would run "
            "it as a formula"
        )
    if "\x00" in value:
        raise RowRejectedError(f"{value!r} contains a NUL character, which a database cannot store")
    return value


def is_active(value: str) -> bool:
    """`active` or `inactive`, in any case."""
    active = _STATUSES.get(value)
    if active is None:
        active = _STATUSES.get(value.lower())
        if active is None:
            raise RowRejectedError(f"{value!r} is neither 'active' nor 'inactive'")
    return active


def utc_timestamp(value: str) -> str:
    """A UTC instant in one of §1's spellings → 'YYYY-MM-DD HH:MM:SS[.ffffff]' UTC."""
    if _SPACE_UTC_FAST.fullmatch(value) is None:
        return _utc_timestamp_parsed(value)
    wall_clock = value.removesuffix(_UTC_SUFFIX)
    if len(wall_clock) == _LENGTH_6_DIGITS:
        # Django writes no fraction for a whole second.
        return wall_clock[:_WALL_CLOCK_LENGTH] if wall_clock.endswith("000000") else wall_clock
    return _with_fraction(wall_clock[:_WALL_CLOCK_LENGTH], wall_clock[_WALL_CLOCK_LENGTH + 1 :])


def _utc_timestamp_parsed(value: str) -> str:
    match = _SPACE_UTC.fullmatch(value) or _ISO_8601.fullmatch(value)
    if match is None:
        raise RowRejectedError(f"{value!r} {_TIMESTAMP_SPELLINGS}")
    offset = match.groupdict().get("offset") or "Z"
    try:
        # The shape is checked above; fromisoformat checks the ranges (month
        # 13, 30 February, an offset of 24 h) and handles 1 to 6 digits.
        instant = datetime.fromisoformat(f"{match['date']}T{match['time']}{offset}")
        return str(instant.astimezone(UTC).replace(tzinfo=None))
    except (ValueError, OverflowError) as error:  # OverflowError: before year 1 in UTC
        raise RowRejectedError(f"{value!r} is not a real instant ({error})") from None


def store_ids(values: list[str]) -> list[str] | None:
    """store_id of each value, for a column of common ids; None: some value needs store_id."""
    lines = _lines(values)
    if lines is None or _STORE_IDS.fullmatch(lines) is None:
        return None
    return values


def statuses(values: list[str]) -> list[bool] | None:
    """is_active of each value, for a column of lowercase statuses; None: some value needs
    is_active."""
    lines = _lines(values)
    if lines is None or _STATUS_LINES.fullmatch(lines) is None:
        return None
    return list(map(_ACTIVE.__eq__, values))


def utc_timestamps(values: list[str]) -> list[str] | None:
    """utc_timestamp of each value, for a column of UTC instants in the common spellings;
    None: some value needs utc_timestamp."""
    lines = _lines(values)
    if lines is None or _UTC_INSTANTS.fullmatch(lines) is None:
        return None
    # " UTC" goes before "T" does: it holds one.
    wall_clocks = lines.replace(" UTC", "").replace("Z", "").replace("+00:00", "").replace("T", " ")
    return _FRACTION_TO_REWRITE.sub(_rewritten_fraction, wall_clocks).split("\n")[:-1]


def _lines(values: list[str]) -> str | None:
    """The values, each followed by a newline; None if one is not a string or holds a
    newline itself (it would read as two values)."""
    try:
        text = "\n".join(values)
    except TypeError:
        return None
    if text.count("\n") != len(values) - 1:
        return None
    return f"{text}\n"


def _rewritten_fraction(match: re.Match[str]) -> str:
    return _with_fraction("", match[1] or "")


def local_time(value: str) -> str:
    """`[H]H:MM` or `[H]H:MM:SS[.f]`, hour 0–23 → 'HH:MM:SS[.ffffff]'."""
    if _LOCAL_TIME_FAST.fullmatch(value) is not None:
        return value
    match = _LOCAL_TIME.fullmatch(value)
    if match is None:
        raise RowRejectedError(
            f"{value!r} is not H:MM or H:MM:SS[.f] (hour 0–23, one or two digits; "
            "1 to 6 fraction digits)"
        )
    hour = match["h"].rjust(2, "0")
    return _with_fraction(f"{hour}:{match['m']}:{match['s'] or '00'}", match["f"] or "")


def day_of_week(value: str) -> int:
    """An integer, 0 = Monday … 6 = Sunday."""
    day = _DAYS.get(value)
    if day is None:
        # Leading zeros are fine ("06"). Checked as text: int() refuses numbers
        # of over 4,300 digits with an error of its own.
        significant = value.lstrip("0") or "0"
        if _DIGITS.fullmatch(value) is None or len(significant) > 1 or significant > "6":
            raise RowRejectedError(f"{value!r} is not an integer from 0 (Monday) to 6 (Sunday)")
        day = int(significant)
    return day


def timezone_name(value: str) -> str:
    """A name of zoneinfo.available_timezones(), exact case."""
    if value in _zone_names():
        return value
    same_but_case = [name for name in _zone_names() if name.lower() == value.lower()]
    hint = f" (did you mean {same_but_case[0]!r}?)" if same_but_case else ""
    raise RowRejectedError(f"{value!r} is not an IANA time zone name{hint}")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _with_fraction(whole_seconds: str, digits: str) -> str:
    """Django's text of a time of day or instant: six fraction digits, none when zero."""
    fraction = digits.ljust(6, "0")
    return whole_seconds if fraction == "000000" else f"{whole_seconds}.{fraction}"
