"""The incidents in headless Chromium: the page, the fleet's open count leading to it,
a store's open incident, in the light and dark schemes, at phone width."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from monitor.models import Store
from tests.browser.test_pages import Problems
from tests.support.incidents import make_incident

pytestmark = pytest.mark.django_db(transaction=True)

Scheme = Literal["light", "dark"]
T = datetime(2023, 1, 25, 17, 30, tzinfo=UTC)
STORE_IDS = ["down now", "店舗/7", "back up", "a/timezone"]


@pytest.fixture
def site(live_server: Any) -> str:
    """Two stores down now and two incidents resolved, one long ago."""
    Store.objects.create(store_id="店舗/7", timezone_str="Asia/Tokyo")
    make_incident("down now", datetime.now(UTC) - timedelta(minutes=95))
    make_incident("店舗/7", datetime.now(UTC) - timedelta(hours=26))
    make_incident("back up", T, T + timedelta(minutes=40))
    make_incident("a/timezone", T - timedelta(days=30), T - timedelta(days=30, minutes=-5))
    url: str = live_server.url
    return url


@pytest.fixture
def problems() -> Problems:
    return Problems()


def open_page(
    browser: Browser, problems: Problems, scheme: Scheme = "light", width: int = 1280
) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    problems.watch(page)
    return page


@pytest.fixture
def page(browser: Browser, problems: Problems) -> Iterator[Page]:
    page = open_page(browser, problems)
    yield page
    page.context.close()


def test_the_fleet_count_leads_to_the_open_incidents_and_on_to_a_store(
    site: str, page: Page, problems: Problems
) -> None:
    page.goto(site + "/")
    count = page.locator("[data-open-incidents]")
    expect(count).to_have_text("2 open incidents")
    count.click()

    page.wait_for_url("**/incidents/?status=open")
    expect(page.locator("#incidents-summary")).to_contain_text("2 open incidents")
    stores = page.locator("table.incidents tbody th a")
    expect(stores).to_have_text(["down now", "店舗/7"])  # the latest start first
    expect(page.locator("table.incidents tbody td[data-duration]")).to_have_text(
        ["1 h 35 min so far", "1 d 2 h 00 min so far"]
    )
    expect(page.get_by_label("Status")).to_have_value("open")

    stores.nth(1).click()
    expect(page.locator("h1")).to_have_text("Store 店舗/7")
    expect(page.locator("[data-open-incident]")).to_contain_text("Open incident: down since")
    expect(page.locator("[data-open-incident]")).to_contain_text("(UTC+0900)")
    page.get_by_role("link", name="Its incidents").click()
    expect(page.locator("#incidents-summary")).to_contain_text("1 incident of store 店舗/7")
    assert problems.seen == []


def test_the_incidents_page_lists_open_first_and_filters(
    site: str, page: Page, problems: Problems
) -> None:
    page.goto(site + "/incidents/")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Incidents")
    expect(page.locator("table.incidents tbody th a")).to_have_text(
        ["down now", "店舗/7", "back up", "a/timezone"]
    )
    expect(page.locator("table.incidents tbody .status")).to_have_text(
        ["Open", "Open", "Resolved", "Resolved"]
    )
    row = page.locator("table.incidents tbody tr", has_text="back up")
    expect(row).to_contain_text("Wed 25 Jan 2023 11:30:00 UTC-0600")  # Chicago, the default
    expect(row).to_contain_text("2023-01-25 17:30:00")  # UTC
    expect(row.locator("td[data-duration]")).to_have_text("40 min 00 s")

    page.get_by_label("Status").select_option("resolved")
    page.get_by_label("Store id").fill("a/timezone")
    page.get_by_role("button", name="Show").last.click()
    expect(page.locator("table.incidents tbody th a")).to_have_text(["a/timezone"])
    page.locator("table.incidents tbody th a").click()
    expect(page.locator("h1")).to_have_text("Store a/timezone")
    assert problems.seen == []


def colours(page: Page, selector: str) -> dict[str, str]:
    """An element's text and background colours, and the style sheet's variables."""
    answer: dict[str, str] = page.locator(selector).first.evaluate(
        """element => {
            const root = getComputedStyle(document.documentElement);
            const probe = document.createElement("span");
            document.body.append(probe);
            const resolve = (name) => {
                probe.style.color = `var(${name})`;
                return getComputedStyle(probe).color;
            };
            const found = {
                color: getComputedStyle(element).color,
                down: resolve("--down"), up: resolve("--up"), surface: "",
                card: getComputedStyle(element.closest(".card, .alert")).backgroundColor,
            };
            probe.style.color = "var(--surface)";
            found.surface = getComputedStyle(probe).color;
            probe.style.color = "var(--error-bg)";
            found.error_bg = getComputedStyle(probe).color;
            probe.remove();
            return found;
        }"""
    )
    return answer


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_colours_follow_the_scheme_as_on_every_page(
    site: str, browser: Browser, problems: Problems, scheme: Scheme
) -> None:
    page = open_page(browser, problems, scheme)
    page.goto(site + "/incidents/")
    open_status = colours(page, ".status.open")
    resolved = colours(page, ".status.resolved")
    page.goto(site + "/")
    alert = colours(page, ".incident-count.alert a")
    page.goto(site + "/stores/down%20now")
    banner = colours(page, "[data-open-incident]")

    # Open reads in the scheme's "down" red, resolved in its "up" green, on the cards'
    # surface; the alerts sit on the error background, as the pages' errors do.
    assert open_status["color"] == open_status["down"]
    assert resolved["color"] == resolved["up"]
    assert open_status["card"] == open_status["surface"]
    assert alert["card"] == banner["card"] == alert["error_bg"]
    light_or_dark = {"light": "rgb(185, 28, 28)", "dark": "rgb(248, 113, 113)"}
    assert open_status["down"] == light_or_dark[scheme]
    assert problems.seen == []
    page.context.close()


def test_phone_width_has_no_horizontal_scroll(
    site: str, browser: Browser, problems: Problems
) -> None:
    page = open_page(browser, problems, width=390)
    for path in ["/incidents/", "/", "/stores/down%20now"]:
        page.goto(site + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    assert problems.seen == []
    page.context.close()
