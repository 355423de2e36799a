"""The value rules of monitor.ingest.rules as regular expressions, for the API's
OpenAPI schema: a value matches its pattern exactly when its rule takes it,
surrounding whitespace included (every value is trimmed first, with
str.strip()). tests/ingest/test_patterns.py checks each against its rule.

They are written in the syntax that ECMA-262 (JSON Schema's regular
expressions, with the `u` flag), Rust's regex (jsonschema-rs, which
schemathesis validates with) and Python's `re` read alike: no `\\s` or `\\d`,
whose meanings differ between them, but the characters themselves; BMP
characters as `\\uXXXX`, others as themselves.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from functools import cache

from monitor.ingest import rules

# What a pattern escapes (ECMA-262 allows no other escape of ASCII): outside a
# character class, and inside one.
_SPECIAL = frozenset("^$\\.*+?()[]{}|")
_SPECIAL_IN_CLASS = frozenset("^\\[]-")


def _escaped(point: int, *, in_class: bool = True) -> str:
    """A character in a pattern: printable ASCII as itself (escaped where special),
    other BMP characters as \\uXXXX, the others as themselves (no escape for them
    is read alike by ECMA-262, Rust and Python)."""
    if 0x20 < point < 0x7F:
        special = _SPECIAL_IN_CLASS if in_class else _SPECIAL
        return f"\\{chr(point)}" if chr(point) in special else chr(point)
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)


def _every(condition: Callable[[str], bool]) -> list[int]:
    """The code points whose character meets `condition`, surrogates left out (no
    text that reaches the server holds one)."""
    return [
        point
        for point in range(sys.maxunicode + 1)
        if not 0xD800 <= point <= 0xDFFF and condition(chr(point))
    ]


def _ranges(code_points: list[int]) -> str:
    """A character class's body for these code points (sorted), in ranges."""
    parts = []
    start = previous = code_points[0]
    for point in [*code_points[1:], -1]:
        if point == previous + 1:
            previous = point
            continue
        first, last = _escaped(start), _escaped(previous)
        parts.append(first if start == previous else f"{first}-{last}")
        start = previous = point
    return "".join(parts)


# What str.strip() trims: Python's whitespace.
_SPACES = _every(str.isspace)
_SPACE = f"[{_ranges(_SPACES)}]*"


@cache
def store_id_pattern() -> str:
    """A store id in a path (amendment 5): after trimming, 1 to 255 characters, none
    a control or format character (Unicode Cc, Cf), not beginning
    with a formula's `= + - @`, and not `*` alone."""
    excluded = set(_every(lambda character: unicodedata.category(character) in {"Cc", "Cf"}))
    inner = f"[^{_ranges(sorted(excluded))}]"
    edge = f"[^{_ranges(sorted(excluded | set(_SPACES)))}]"
    first = f"[^{_ranges(sorted(excluded | set(_SPACES) | set(map(ord, '=+-@*'))))}]"
    most = rules.STORE_ID_MAX_LENGTH - 2
    return (
        rf"^{_SPACE}(?:{first}(?:{inner}{{0,{most}}}{edge})?|\*{inner}{{0,{most}}}{edge}){_SPACE}$"
    )


# A date that exists, in rules.CALENDAR_YEARS (1970 to 2199): 29 February in
# leap years only (2100 is none).
_YEAR = r"(?:19[7-9][0-9]|20[0-9]{2}|21[0-9]{2})"
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_LEAP_YEAR = (
    r"(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])"
    r"|21(?:0[48]|[2468][048]|[13579][26]))"
)
CALENDAR_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
LOCAL_DATE_PATTERN = rf"^{_SPACE}{CALENDAR_DATE}{_SPACE}$"

# rules.local_time: [H]H:MM or [H]H:MM:SS[.f], hour 0–23, 1 to 6 fraction digits.
LOCAL_TIME = r"(?:[0-9]|[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
LOCAL_TIME_PATTERN = rf"^{_SPACE}{LOCAL_TIME}{_SPACE}$"
EMPTY_PATTERN = rf"^{_SPACE}$"
# rules.day_of_week: 0 = Monday … 6 = Sunday, leading zeros allowed.
DAY_PATTERN = rf"^{_SPACE}0*[0-6]{_SPACE}$"


@cache
def timezone_pattern() -> str:
    """rules.timezone_name: one of the zones that name a place, exact case."""
    names = "|".join(
        "".join(_escaped(ord(character), in_class=False) for character in name)
        for name in sorted(rules.zone_names())
    )
    return rf"^{_SPACE}(?:{names}){_SPACE}$"
