"""Charts as inline SVG, built on the server by small pure functions.

Each function takes plain values and returns SVG markup (every text escaped).
Colours come from the page's CSS classes (light and dark schemes); the
pages put a table next to every chart, its text alternative. Elements that
carry a reading (a bar, a stretch of time, a poll) are focusable and hold a
<title>, which browsers show on hover and pages.js shows on focus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Histogram geometry (viewBox units; the SVG scales to its container).
_HIST_WIDTH, _HIST_HEIGHT = 640, 276
_HIST_LEFT, _HIST_BOTTOM, _HIST_TOP = 44, 56, 24

# Week chart geometry: a label column, then 24 hours across.
_WEEK_WIDTH, _WEEK_LABEL = 1000, 118
_ROW_HEIGHT, _BAR_HEIGHT, _AXIS_HEIGHT = 40, 20, 26
_PLOT_WIDTH = _WEEK_WIDTH - _WEEK_LABEL - 24  # room for the last hour's label


def histogram_svg(
    counts: Sequence[int], labels: Sequence[str], *, title: str, axis_title: str
) -> SafeString:
    """A bar per bin, its count above it; `labels` name the bins along the x axis,
    `axis_title` says under them what they measure."""
    if len(counts) != len(labels):
        raise ValueError(f"{len(counts)} counts for {len(labels)} labels")
    plot_height = _HIST_HEIGHT - _HIST_BOTTOM - _HIST_TOP
    slot = (_HIST_WIDTH - _HIST_LEFT) / max(len(counts), 1)
    tallest = max(counts, default=0) or 1
    bars = []
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        height = plot_height * count / tallest
        x = _HIST_LEFT + index * slot
        y = _HIST_TOP + plot_height - height
        bars.append(
            format_html(
                '<g class="bar" tabindex="0"><title>{label}: {count} stores</title>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2"/>'
                '<text class="count" x="{cx}" y="{ty}" text-anchor="middle">{count}</text>'
                '<text class="axis" x="{cx}" y="{ly}" text-anchor="middle">{label}</text></g>',
                label=label,
                count=count,
                x=_num(x + slot * 0.12),
                y=_num(y),
                w=_num(slot * 0.76),
                h=_num(height),
                cx=_num(x + slot / 2),
                ty=_num(y - 6),
                ly=_num(_HIST_TOP + plot_height + 18),
            )
        )
    baseline = _HIST_TOP + plot_height
    return format_html(
        '<svg class="chart histogram" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        "<title>{title}</title>"
        '<line class="baseline" x1="{left}" y1="{base}" x2="{w}" y2="{base}"/>{bars}'
        '<text class="axis axis-title" x="{middle}" y="{axis_y}" text-anchor="middle">'
        "{axis_title}</text></svg>",
        w=_HIST_WIDTH,
        h=_HIST_HEIGHT,
        title=title,
        left=_HIST_LEFT,
        base=_num(baseline),
        middle=_num((_HIST_LEFT + _HIST_WIDTH) / 2),
        axis_y=_num(baseline + 42),
        axis_title=axis_title,
        bars=_joined(bars),
    )


@dataclass(frozen=True)
class Stretch:
    """A stretch of one day row, in hours after the local midnight (0–24)."""

    start: float
    end: float
    # "up", "down", "nodata" (business time, no poll to tell), "outside" (part of
    # the day outside the report's week), "special" (closed by the date's special
    # hours) or "excluded" (an exclusion, §10.3).
    kind: str
    label: str  # what hovering or focusing shows: instants in local time


BUSINESS_KINDS = ("up", "down", "nodata")


@dataclass(frozen=True)
class PollMark:
    at: float  # hours after the local midnight
    active: bool
    label: str


@dataclass(frozen=True)
class DayRow:
    label: str  # e.g. "Mon 16 Jan"
    stretches: Sequence[Stretch]
    polls: Sequence[PollMark]


def week_svg(days: Sequence[DayRow], *, title: str) -> SafeString:
    """One row per local day: a 24-hour track, up and down time in business
    hours as bars on it, polls as marks under it, an hour axis on top."""
    height = _AXIS_HEIGHT + _ROW_HEIGHT * len(days)
    axis = format_html_join(
        "",
        '<text class="axis" x="{}" y="16" text-anchor="middle">{}</text>'
        '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>',
        (
            (x, f"{hour:02d}:00", x, _AXIS_HEIGHT - 4, x, height)
            for hour, x in ((hour, _num(_x(hour))) for hour in range(0, 25, 3))
        ),
    )
    rows = _joined(
        _day_row(day, _AXIS_HEIGHT + index * _ROW_HEIGHT) for index, day in enumerate(days)
    )
    return format_html(
        '<svg class="chart week" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        "<title>{title}</title>{defs}{axis}{rows}</svg>",
        w=_WEEK_WIDTH,
        h=height,
        title=title,
        defs=_HATCH,
        axis=axis,
        rows=rows,
    )


# Down time is hatched as well as coloured: it never relies on colour alone.
_HATCH = mark_safe(
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect class="down-fill" width="6" height="6"/>'
    '<line class="hatch" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>'
)


def _joined(pieces: Iterable[SafeString]) -> SafeString:
    """Markup pieces, each built by format_html, as one."""
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def _day_row(day: DayRow, top: float) -> SafeString:
    bar_top = top + 4
    parts = [
        format_html(
            '<text class="day" x="0" y="{}">{}</text>'
            '<rect class="track" x="{}" y="{}" width="{}" height="{}"/>',
            _num(bar_top + _BAR_HEIGHT - 5),
            day.label,
            _num(_x(0)),
            _num(bar_top),
            _num(_PLOT_WIDTH),
            _BAR_HEIGHT,
        )
    ]
    parts.extend(
        format_html(
            '<rect class="{}" tabindex="0" x="{}" y="{}" width="{}" height="{}">'
            "<title>{}</title></rect>",
            stretch.kind,
            _num(_x(stretch.start)),
            _num(bar_top),
            _num(max(_x(stretch.end) - _x(stretch.start), 0.5)),
            _BAR_HEIGHT,
            stretch.label,
        )
        for stretch in day.stretches
    )
    mark_y = bar_top + _BAR_HEIGHT + 7
    parts.extend(
        format_html(
            '<circle class="poll {}" tabindex="0" cx="{}" cy="{}" r="3.5">'
            "<title>{}</title></circle>",
            "active" if poll.active else "inactive",
            _num(_x(poll.at)),
            _num(mark_y),
            poll.label,
        )
        for poll in day.polls
    )
    return _joined(parts)


def week_scroll_share(hours: float) -> float:
    """Where `hours` after midnight lies across the week chart, as a share of its width."""
    return _x(hours) / _WEEK_WIDTH


def _x(hours: float) -> float:
    return _WEEK_LABEL + _PLOT_WIDTH * hours / 24


def _num(value: float) -> str:
    """A coordinate, short: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
