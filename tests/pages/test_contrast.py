"""WCAG AA contrast of the pages' colour pairs, in both schemes, read from pages.css."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "monitor" / "static" / "monitor" / "pages.css"
TEXT, GRAPHICS = 4.5, 3.0  # WCAG 2.1 AA: normal text (1.4.3), graphical objects (1.4.11)
# (foreground, background, minimum): every pair the style sheet draws.
PAIRS = [
    ("text", "bg", TEXT),
    ("text", "surface", TEXT),
    ("text", "error-bg", TEXT),
    ("accent", "error-bg", TEXT),  # a link in an alert (an open incident)
    ("muted", "bg", TEXT),
    ("muted", "surface", TEXT),
    ("accent", "bg", TEXT),
    ("accent", "surface", TEXT),
    ("accent-text", "accent", TEXT),
    ("up", "surface", TEXT),  # status "Complete"
    ("down", "surface", TEXT),  # status "Failed"
    ("up", "track", GRAPHICS),
    ("down", "track", GRAPHICS),
    ("up", "surface", GRAPHICS),
    ("down", "bg", GRAPHICS),  # an inactive poll's ring
    ("accent", "surface", GRAPHICS),  # histogram bars
    ("special", "track", GRAPHICS),  # closed by a special date, on the week chart
    ("excluded", "track", GRAPHICS),  # an exclusion, on the week chart
    ("special", "bg", GRAPHICS),  # their legend
    ("excluded", "bg", GRAPHICS),
    ("focus", "bg", GRAPHICS),
    ("focus", "surface", GRAPHICS),
]


def schemes() -> dict[str, dict[str, str]]:
    css = CSS.read_text()
    light = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark_start = css.index(":root {", css.index("prefers-color-scheme: dark"))
    dark = css[dark_start : css.index("}", dark_start)]

    def colours(block: str) -> dict[str, str]:
        return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))

    return {"light": colours(light), "dark": colours(dark)}


def luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS)
def test_colour_pairs_meet_wcag_aa(
    scheme: str, foreground: str, background: str, minimum: float
) -> None:
    colours = schemes()[scheme]
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= minimum, f"{scheme}: --{foreground} on --{background} is {ratio:.2f}:1"
