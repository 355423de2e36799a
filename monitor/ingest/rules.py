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
statuses, poll_timestamps): one regular expression over the column's values, a
line each, and a few replacements, instead of a call per value. They take only
the common spellings and give exactly what the value's rule gives; any other
column gets None, and its values go through their rule one by one.

Amendment 5 (input hygiene) bounds what a value may be: a store id's length
and characters, a poll's instant (from 1970 to a day after its load: see
`loading`), the instants and dates of the calendar's sources (the years 1970
to 2199: `calendar_instant`, `require_calendar_year`) and the zones that name
no place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
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
_STORE_IDS = re.compile(r"(?:[0-9A-Za-z][0-9A-Za-z_.:-]{0,254}\n)*", re.ASCII)
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
# Amendment 3: the exclusions' store_id naming every store (§10.3), and no store anywhere else.
EVERY_STORE = "*"
_DATE_SPELLING = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Amendment 5: a store id's longest length (after trimming), and the Unicode
# categories it may not hold: control (tabs, line breaks, NUL) and format
# characters (right-to-left overrides, zero-width spaces).
STORE_ID_MAX_LENGTH = 255
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf"})
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
_SHOWN_LENGTH = 40  # a long value is shown cut to this many characters in a reason

# Amendment 5: a poll lies between the epoch and a day after it is loaded (a
# poll from the future is a clock gone wrong, and would become every report's
# default instant); the calendar's instants and dates lie in CALENDAR_YEARS.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_ALLOWANCE = timedelta(hours=24)
CALENDAR_YEARS = range(1970, 2200)
_EARLIEST_TEXT = "1970-01-01 00:00:00"  # EARLIEST_INSTANT as utc_timestamp writes it
# The moment the current load began (see `loading`); None: none is under way.
_LOADED_AT: ContextVar[datetime | None] = ContextVar("loaded_at", default=None)


def shown(value: str) -> str:
    """The value as a reason quotes it: repr(), cut after _SHOWN_LENGTH characters."""
    if len(value) <= _SHOWN_LENGTH:
        return repr(value)
    return f"{value[:_SHOWN_LENGTH]!r}…"


def store_id(value: str) -> str:
    """Opaque text, kept verbatim (`007` stays `007`), that no spreadsheet reads as a
    formula, of at most STORE_ID_MAX_LENGTH printable characters (amendment 5), and
    not `*` (amendment 3: it means every store, in exclusions only)."""
    if not value:
        raise RowRejectedError("is empty")
    if value == EVERY_STORE:
        raise RowRejectedError("'*' means every store, and only in exclusions")
    if len(value) > STORE_ID_MAX_LENGTH:
        raise RowRejectedError(
            f"{shown(value)} has {len(value):,} characters; a store id has at most "
            f"{STORE_ID_MAX_LENGTH}"
        )
    if value.startswith(_FORMULA_STARTS):
        raise RowRejectedError(
            f"{shown(value)} begins with {value[0]!r}: a spreadsheet opening a report would "
            "run it as a formula"
        )
    # isprintable() is False for every control and format character (and for
    # a few others the rule allows, such as non-ASCII spaces): only those ids
    # pay for the look at each character.
    if not value.isprintable():
        for character in value:
            if unicodedata.category(character) in _UNPRINTABLE_CATEGORIES:
                raise RowRejectedError(
                    f"{shown(value)} contains {_character_name(character)}, a control or "
                    "format character: a store id is printable text"
                )
    return value


def exclusion_store_id(value: str) -> str:
    """A store_id, or `*`: every store, including stores added later (§10.3)."""
    return value if value == EVERY_STORE else store_id(value)


def local_date(value: str) -> str:
    """`YYYY-MM-DD`, a real calendar date in CALENDAR_YEARS (a special hours date) →
    the same text."""
    if _DATE_SPELLING.fullmatch(value) is None:
        raise RowRejectedError(f"{shown(value)} is not a date YYYY-MM-DD")
    try:
        moment = date.fromisoformat(value)
    except ValueError as error:
        raise RowRejectedError(f"{value!r} is not a real date ({error})") from None
    require_calendar_year(value, moment)
    return value


def reason(value: str) -> str:
    """Free text, shown to people (an exclusion's reason)."""
    if "\x00" in value:
        raise RowRejectedError("contains a NUL character, which a database cannot store")
    return value


def _character_name(character: str) -> str:
    """U+202E (RIGHT-TO-LEFT OVERRIDE); control characters have no name."""
    name = _CONTROL_NAMES.get(character) or unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" ({name})" if name else "")


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


@contextmanager
def loading(at: datetime | None = None) -> Iterator[datetime]:
    """Judge every poll read inside against one moment of loading (default: now), the
    load's start: a poll may lie up to FUTURE_ALLOWANCE after it (amendment 5)."""
    moment = at or datetime.now(UTC)
    token = _LOADED_AT.set(moment)
    try:
        yield moment
    finally:
        _LOADED_AT.reset(token)


def latest_poll_instant(now: datetime | None = None) -> datetime:
    """The latest instant a poll may have: FUTURE_ALLOWANCE after `now`, by default
    after the moment of the load under way (`loading`), or after the current time."""
    return (now or _LOADED_AT.get() or datetime.now(UTC)) + FUTURE_ALLOWANCE


def latest_poll_text() -> str:
    """latest_poll_instant() as utc_timestamp writes instants, for poll_timestamp(s)."""
    return str(latest_poll_instant().astimezone(UTC).replace(tzinfo=None))


def poll_timestamp(value: str, latest: str | None = None) -> str:
    """utc_timestamp of a poll, which lies from EARLIEST_INSTANT to `latest` (as
    latest_poll_text writes it; default: latest_poll_text()), amendment 5."""
    instant = utc_timestamp(value)
    # The texts compare as their instants: fixed-width fields, most significant first.
    if instant < _EARLIEST_TEXT:
        raise RowRejectedError(
            f"{shown(value)} is before {_EARLIEST_TEXT} UTC: no poll is older than 1970"
        )
    latest = latest or latest_poll_text()
    if instant > latest:
        raise RowRejectedError(
            f"{shown(value)} is after {latest[:19]} UTC, 24 hours after it was loaded: "
            "a poll from the future is a clock gone wrong"
        )
    return instant


def calendar_instant(value: str) -> str:
    """utc_timestamp of an instant of the calendar's sources (exclusions' start and
    end), which lies in CALENDAR_YEARS (amendment 5)."""
    instant = utc_timestamp(value)
    require_calendar_year(value, date(int(instant[:4]), 1, 1))
    return instant


def require_calendar_year(value: str, moment: date) -> None:
    """RowRejectedError unless `moment` (a date, or an instant: its UTC date), read
    from `value`, lies in CALENDAR_YEARS (amendment 5): special hours' dates,
    exclusions' instants."""
    if moment.year not in CALENDAR_YEARS:
        raise RowRejectedError(
            f"{shown(value)} is outside the years {CALENDAR_YEARS[0]} to {CALENDAR_YEARS[-1]}"
        )


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


def poll_timestamps(values: list[str], latest: str | None = None) -> list[str] | None:
    """poll_timestamp of each value, for a column of UTC instants in the common
    spellings; None: some value needs poll_timestamp (or is out of its range)."""
    instants = utc_timestamps(values)
    if not instants:
        return instants
    if min(instants) < _EARLIEST_TEXT or max(instants) > (latest or latest_poll_text()):
        return None
    return instants


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


# Amendment 5: names zoneinfo knows that name no place. `localtime` is the
# server's own zone (figures would depend on the machine), `posixrules` a
# default for POSIX TZ strings, `Factory` a zone of "local time zone must be set".
PLACELESS_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def timezone_name(value: str) -> str:
    """A name of zoneinfo.available_timezones(), exact case, that names a place."""
    if value in zone_names():
        return value
    if value in PLACELESS_ZONES:
        raise RowRejectedError(
            f"{value!r} names no place (it is not one store's zone): give the store's IANA "
            "zone, such as 'America/Chicago'"
        )
    same_but_case = [name for name in zone_names() if name.lower() == value.lower()]
    hint = f" (did you mean {same_but_case[0]!r}?)" if same_but_case else ""
    raise RowRejectedError(f"{shown(value)} is not an IANA time zone name{hint}")


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - PLACELESS_ZONES


def _with_fraction(whole_seconds: str, digits: str) -> str:
    """Django's text of a time of day or instant: six fraction digits, none when zero."""
    fraction = digits.ljust(6, "0")
    return whole_seconds if fraction == "000000" else f"{whole_seconds}.{fraction}"
