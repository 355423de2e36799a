"""How figures and durations read: the one home for printing them.

A report's figures are exact until they are printed: lengths come in the
engine's half-microsecond ticks (monitor.engine.units) and are rounded once,
half up, to hundredths, in integer arithmetic, as the report CSV prints them
(docs/report-semantics.md §6; monitor.engine.render applies the same rule to
whole columns, and tests/test_formatting.py checks that the two agree). Never
through a float: `f"{x:.2f}"` rounds half to even, on a binary approximation
of x, and can differ from the CSV in the last digit.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.engine.units import TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_US, US_PER_SECOND

_HUNDREDTHS_PER_HOUR = 60 * 100  # of a minute


def rounded(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to an integer, exactly.

    round_half_up(n / d) = ⌊n / d + 1/2⌋ = ⌊(2n + d) / 2d⌋, for d > 0.
    """
    return (2 * numerator + denominator) // (2 * denominator)


def hundredths(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to two decimals, as integer hundredths."""
    return rounded(100 * numerator, denominator)


def two_decimals(value_hundredths: int) -> str:
    """1234 → "12.34", 5 → "0.05": integer hundredths as the CSV prints a figure."""
    whole, cents = divmod(value_hundredths, 100)
    return f"{whole}.{cents:02d}"


def minutes_text(ticks: int) -> str:
    """A length in ticks as minutes with two decimals, rounded half up ("35.00")."""
    return two_decimals(hundredths(ticks, TICKS_PER_MINUTE))


def hours_text(ticks: int) -> str:
    """A length in ticks as hours with two decimals, rounded half up ("0.58")."""
    return two_decimals(hundredths(ticks, TICKS_PER_HOUR))


def percent_text(part: int, whole: int) -> str:
    """100 × part / whole with two decimals, rounded half up; whole must be positive."""
    return two_decimals(hundredths(100 * part, whole))


def hours_and_minutes_text(ticks: int) -> str:
    """A length in ticks as whole hours and minutes with two decimals: "1 h 30.00 min".

    The minutes are rounded half up first, so that 59.995 min reads "1 h 00.00 min".
    """
    hours, minute_hundredths = divmod(hundredths(ticks, TICKS_PER_MINUTE), _HUNDREDTHS_PER_HOUR)
    return f"{hours} h {two_decimals(minute_hundredths).zfill(5)} min"


def ticks_of(length: timedelta) -> int:
    """A timedelta's exact length in ticks (a timedelta holds whole microseconds)."""
    return length // timedelta(microseconds=1) * TICKS_PER_US


def duration_text(length: timedelta) -> str:
    """A length as "2 h 05 min", "12 min 30 s" or "45 s" (whole seconds, rounded down)."""
    seconds = int(length.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def incident_duration_text(ticks: int) -> str:
    """An incident's length in ticks as duration_text reads it (whole seconds, rounded
    down), with whole days first from 24 hours on: "2 d 3 h 05 min"."""
    days, rest = divmod(timedelta(microseconds=ticks // TICKS_PER_US), timedelta(days=1))
    if not days:
        return duration_text(rest)
    hours, seconds = divmod(rest.seconds, 3600)
    return f"{days} d {hours} h {seconds // 60:02d} min"


def gap_text(length: timedelta) -> str:
    """A long gap as "2 d 3 h 5 min" or "3 h 5 min" (whole minutes, rounded down)."""
    hours, seconds = divmod(int(length.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    minutes = seconds // 60
    return f"{days} d {hours} h {minutes} min" if days else f"{hours} h {minutes} min"


def seconds_text(length: timedelta) -> str:
    """A short run time as seconds with one decimal, rounded half up: "2.4 s"."""
    tenths = rounded(length // timedelta(microseconds=1), US_PER_SECOND // 10)
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth} s"
