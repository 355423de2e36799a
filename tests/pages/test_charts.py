"""The SVG charts and the week's layout by local day: pure functions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.formatting import duration_text
from monitor.pages.charts import DayRow, PollMark, Stretch, histogram_svg, week_svg
from monitor.pages.week import day_rows

SVG = "{http://www.w3.org/2000/svg}"
NEW_YORK = ZoneInfo("America/New_York")


def child(element: ET.Element, tag: str) -> ET.Element:
    found = element.find(f"{SVG}{tag}")
    assert found is not None, tag
    return found


def number(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute, "nan"))


def parse(markup: str) -> ET.Element:
    # Inline SVG in HTML needs no namespace; add it so the markup parses as XML.
    return ET.fromstring(markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_histogram_bar_heights_follow_the_counts_and_each_bar_has_a_reading() -> None:
    svg = parse(
        histogram_svg([0, 5, 10], ["low", "mid", "high"], title="Stores & bins", axis_title="% up")
    )
    bars = svg.findall(f"{SVG}g")
    heights = [number(child(bar, "rect"), "height") for bar in bars]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(2 * heights[1])
    assert [child(bar, "title").text for bar in bars] == [
        "low: 0 stores",
        "mid: 5 stores",
        "high: 10 stores",
    ]
    assert all(bar.get("tabindex") == "0" for bar in bars)
    assert svg.get("aria-label") == "Stores & bins"  # escaped in the markup, parsed back
    # The axis says what the bins measure: a share, in %.
    titles = [t.text for t in svg.findall(f"{SVG}text") if "axis-title" in t.get("class", "")]
    assert titles == ["% up"]


def test_histogram_escapes_labels_and_refuses_mismatched_lengths() -> None:
    assert "<script>" not in histogram_svg([1], ["<script>"], title="t", axis_title="a")
    with pytest.raises(ValueError, match="2 counts for 1 labels"):
        histogram_svg([1, 2], ["x"], title="t", axis_title="a")


def test_week_svg_draws_a_row_per_day_with_stretches_and_polls() -> None:
    days = [
        DayRow("Mon", [Stretch(0, 12, "up", "Up <a>"), Stretch(12, 24, "down", "Down")], []),
        DayRow("Tue", [Stretch(6, 6.5, "up", "Up")], [PollMark(6.25, True, "Poll active")]),
    ]
    svg = parse(week_svg(days, title="Week"))
    rects = [r for r in svg.iter(f"{SVG}rect") if r.get("class") in ("up", "down")]
    assert [r.get("class") for r in rects] == ["up", "down", "up"]
    first, second = number(rects[0], "width"), number(rects[1], "width")
    assert first == pytest.approx(second)  # 12 h each
    assert number(rects[0], "x") + first == pytest.approx(number(rects[1], "x"))
    assert child(rects[0], "title").text == "Up <a>"
    polls = list(svg.iter(f"{SVG}circle"))
    assert [(p.get("class"), child(p, "title").text) for p in polls] == [
        ("poll active", "Poll active")
    ]
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "day"]
    assert labels == ["Mon", "Tue"]


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_day_rows_cut_at_midnight_and_mark_the_parts_outside_the_window() -> None:
    rows = day_rows(
        window_start=local(2023, 1, 18, 13, 0),
        window_end=local(2023, 1, 19, 6, 30),
        segments=[(local(2023, 1, 18, 22, 0), local(2023, 1, 19, 2, 0), False)],
        polls=[(local(2023, 1, 18, 12, 0), True), (local(2023, 1, 18, 23, 15), False)],
    )
    assert [row.label for row in rows] == ["Wed 18 Jan", "Thu 19 Jan"]
    first, second = rows
    assert [(s.start, s.end, s.kind) for s in first.stretches] == [
        (0, 13, "outside"),
        (22, 24, "down"),
    ]
    assert [(s.start, s.end, s.kind) for s in second.stretches] == [
        (6.5, 24, "outside"),
        (0, 2, "down"),
    ]
    # The stretch's reading names both ends in local time with the offset.
    assert first.stretches[1].label == (
        "Down from Wed 18 Jan 22:00:00 (UTC−05:00) to Thu 19 Jan 02:00:00 (UTC−05:00) (4 h 00 min)"
    )
    # The poll before the window is not drawn.
    assert [(p.at, p.active) for p in first.polls] == [(23.25, False)]
    assert first.polls[0].label == "Poll inactive at Wed 18 Jan 23:15:00 (UTC−05:00)"


def test_a_window_ending_at_midnight_has_no_empty_last_row() -> None:
    rows = day_rows(
        window_start=local(2023, 1, 18, 0, 0),
        window_end=local(2023, 1, 20, 0, 0),
        segments=[],
        polls=[],
    )
    assert [row.label for row in rows] == ["Wed 18 Jan", "Thu 19 Jan"]
    assert all(not row.stretches for row in rows)


@pytest.mark.parametrize(
    ("length", "text"),
    [
        (timedelta(hours=89, minutes=28, seconds=59), "89 h 28 min"),
        (timedelta(minutes=5, seconds=3), "5 min 03 s"),
        (timedelta(seconds=59, microseconds=999_999), "59 s"),
    ],
)
def test_duration_text(length: timedelta, text: str) -> None:
    assert duration_text(length) == text


def test_coordinates_are_short() -> None:
    markup = histogram_svg([3, 7], ["a", "b"], title="t", axis_title="a")
    assert not re.search(r"\d\.\d{3,}", markup)
