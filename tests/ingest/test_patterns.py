"""Each pattern of the API's schema (monitor.ingest.patterns) takes exactly the
values its rule takes, surrounding whitespace included: a schema-valid request
is never refused for its value, nor a schema-invalid one taken."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from monitor.ingest import patterns, rules
from monitor.ingest.errors import RowRejectedError


def takes(rule: Callable[[str], Any], value: str) -> bool:
    try:
        rule(value.strip())
    except RowRejectedError:
        return False
    return True


def matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None  # as JSON Schema's `pattern` is applied


STORE_ID_PATTERN = patterns.store_id_pattern()  # built once: it looks at every code point
SPACES = st.sampled_from(["", " ", "\t", "\n", "\u3000", "\xa0 "])
ODD = st.sampled_from(
    ["*", "=", "+", "-", "@", "\u202e", "\u200b", "\x00", "\x85", "\u2028", "a" * 254, "7"]
)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


@given(st.tuples(SPACES, st.lists(st.one_of(TEXT, ODD), max_size=4), SPACES))
@example(("", ["a" * 255], ""))
@example(("", ["a" * 256], ""))
@example((" ", ["*", "*"], ""))
@example(("", ["a\u2028b"], ""))
def test_the_store_id_pattern_is_the_rule(parts: tuple[str, list[str], str]) -> None:
    value = parts[0] + "".join(parts[1]) + parts[2]
    assert matches(STORE_ID_PATTERN, value) == takes(rules.store_id, value)


@given(st.dates().map(str) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
@example("2100-02-29")
@example("2096-02-29")
@example("2000-02-29")
@example("1970-01-01")
@example("2199-12-31")
@example("1969-12-31")
@example("2200-01-01")
def test_the_date_pattern_is_the_rule(value: str) -> None:
    for spaced in (value, f" {value}\t"):
        assert matches(patterns.LOCAL_DATE_PATTERN, spaced) == takes(rules.local_date, spaced)


@given(st.from_regex(r"\s?[0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,2}(\.[0-9]{0,7})?)?\s?", fullmatch=True))
@example("24:00")
@example("9:00")
@example("23:59:59.999999")
@example("")
def test_the_time_pattern_is_the_rule(value: str) -> None:
    assert matches(patterns.LOCAL_TIME_PATTERN, value) == takes(rules.local_time, value)


@given(st.from_regex(r"\s?[0-9]{1,4}\s?", fullmatch=True) | TEXT)
def test_the_day_pattern_is_the_rule(value: str) -> None:
    assert matches(patterns.DAY_PATTERN, value) == takes(rules.day_of_week, value)


@given(
    st.sampled_from(sorted(rules.zone_names() | rules.PLACELESS_ZONES)).flatmap(
        lambda name: st.sampled_from([name, f" {name} ", name.lower(), name + "x"])
    )
    | TEXT
)
def test_the_timezone_pattern_is_the_rule(value: str) -> None:
    assert matches(patterns.timezone_pattern(), value) == takes(rules.timezone_name, value)
