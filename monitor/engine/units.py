"""Units shared by the engine: integer microseconds in, half-microsecond ticks out."""

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

TICKS_PER_US = 2  # a tick is half a microsecond: poll midpoints are whole ticks
TICKS_PER_MINUTE = US_PER_MINUTE * TICKS_PER_US
TICKS_PER_HOUR = US_PER_HOUR * TICKS_PER_US

# The report's windows (docs/report-semantics.md §2), longest last; each ends at the as-of instant.
WINDOW_NAMES = ("hour", "day", "week")
WINDOW_LENGTHS_US = (US_PER_HOUR, US_PER_DAY, 7 * US_PER_DAY)
