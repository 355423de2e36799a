"""The pages in headless Chromium: clean loads, figures as the CSV prints them,
search and paging, New report's progress, phone width."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect

from monitor.formatting import hours_text
from monitor.models import BusinessHours, Report, StatusPoll, Store
from monitor.pages.views import STORES_PER_PAGE
from monitor.selectors import report_csv
from monitor.services import report_parts
from monitor.services.data_version import data_changed
from tests.report_data import SPEC_NOW, store_random_data, wait_for_embedded_jobs

pytestmark = pytest.mark.django_db(transaction=True)
STORES = 2 * STORES_PER_PAGE + 20  # three pages
MAX_PAGE_BYTES = 500_000  # a page and everything it loads


@dataclass
class Problems:
    """Console errors and failed requests seen by a page."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        # A script the Content-Security-Policy refused, or an inline style, is
        # a console error of its own in Chromium; this names every violation
        # too, whatever the browser prints.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => console.error("
            "`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`))"
        )
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error}"))
        page.on("requestfailed", lambda r: self.seen.append(f"failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.seen.append(f"HTTP {response.status}: {response.url}")


@dataclass(frozen=True)
class Fleet:
    url: str
    report_id: str
    rows: dict[str, list[str]]  # store_id → the CSV row


@pytest.fixture
def fleet(live_server: Any) -> Fleet:
    store_random_data(stores=STORES, seed=12)
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE, report.error
    rows = {row[0]: row for row in list(csv.reader(io.StringIO(report_csv(report))))[1:]}
    return Fleet(live_server.url, report.report_id, rows)


@pytest.fixture
def problems() -> Problems:
    return Problems()


def new_page(browser: Browser, problems: Problems, width: int = 1440) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems.watch(page)
    return page


@pytest.fixture
def page(browser: Browser, problems: Problems) -> Iterator[Page]:
    page = new_page(browser, problems)
    yield page
    page.context.close()


def test_every_page_loads_without_errors(fleet: Fleet, page: Page, problems: Problems) -> None:
    store_id = sorted(fleet.rows)[0]
    for path in [
        "/",
        "/?page=2",
        "/reports/",
        f"/stores/{store_id}",
        f"/stores/{store_id}?as_of=2023-01-22T00:00:00Z",
    ]:
        page.goto(fleet.url + path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("h1")).to_be_visible()
        sent = page.evaluate(
            "performance.getEntries().reduce((sum, e) => sum + (e.encodedBodySize || 0), 0)"
        )
        assert 0 < sent <= MAX_PAGE_BYTES, path
    assert problems.seen == []


def test_every_page_has_a_strict_content_security_policy_and_keeps_to_it(
    fleet: Fleet, page: Page, problems: Problems
) -> None:
    store_id = sorted(fleet.rows)[0]
    pages = ["/", "/reports/", f"/stores/{store_id}", "/accounts/login/", "/api/docs/"]
    for path in pages:
        answer = page.goto(fleet.url + path)
        assert answer is not None
        policy = answer.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, path
        assert "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        page.wait_for_load_state("networkidle")
    # The Swagger UI drew the API's operations with its scripts.
    expect(page.locator("#operations-monitor-trigger_report")).to_be_visible()
    # htmx at work under the policy: a search swaps the store list in.
    page.goto(fleet.url + "/")
    page.get_by_role("searchbox").fill(store_id)
    expect(page.locator("table.stores tbody th a")).to_have_text([store_id])
    assert problems.seen == []


def test_store_pages_print_the_report_row_and_outages_add_up(
    fleet: Fleet, page: Page, problems: Problems
) -> None:
    sampled = sorted(fleet.rows)[:: len(fleet.rows) // 5]
    for store_id in sampled:
        page.goto(f"{fleet.url}/stores/{store_id}")
        shown = [page.locator(f'[data-figure="{i}"]').inner_text() for i in range(6)]
        expected = list(fleet.rows[store_id][1:])
        if shown[0] == "closed this hour":
            # An hour without business time: the page says so where the CSV
            # prints 0.00 up and 0.00 down.
            assert expected[0] == expected[3] == "0.00", store_id
            expected[0] = expected[3] = "closed this hour"
        assert shown == expected, store_id
        ticks = sum(
            int(tick)
            for tick in page.locator("table.outages tbody tr[data-ticks]").evaluate_all(
                "rows => rows.map(r => r.dataset.ticks)"
            )
        )
        total = page.locator("[data-outage-total]").inner_text()
        assert hours_text(ticks) == total == fleet.rows[store_id][6], store_id
    assert problems.seen == []


def test_focusing_the_week_chart_reads_out_local_times(fleet: Fleet, page: Page) -> None:
    store_id = max(fleet.rows, key=lambda s: float(fleet.rows[s][6]))  # most downtime
    page.goto(f"{fleet.url}/stores/{store_id}")
    page.locator("svg.week rect.down").first.focus()
    expect(page.locator(".readout")).to_contain_text("Down from")
    expect(page.locator(".readout")).to_contain_text("(UTC")


def a_poll_arrives() -> None:
    """One more poll, stored as every import stores data (the data version bumped)."""
    with transaction.atomic():
        store = Store.objects.order_by("store_id").first()
        assert store is not None
        StatusPoll.objects.create(store=store, timestamp_utc=SPEC_NOW, active=True)
        data_changed()


def link_ids(page: Page) -> list[str]:
    return page.locator("table.stores tbody th a").all_inner_texts()


def test_search_sort_and_paging(fleet: Fleet, page: Page, problems: Problems) -> None:
    page.goto(fleet.url + "/")
    first_page = link_ids(page)
    assert len(first_page) == STORES_PER_PAGE
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#stores-summary")).to_contain_text("page 2 of 3")
    second_page = link_ids(page)
    assert len(second_page) == STORES_PER_PAGE
    assert not set(first_page) & set(second_page)
    assert "page=2" in page.url

    prefix = sorted(fleet.rows)[7][:2]
    expected = sorted(s for s in fleet.rows if s.startswith(prefix))
    page.get_by_label("Store id starts with").fill(prefix)
    expect(page.locator("#stores-summary")).to_contain_text(f"starts with “{prefix}”")
    assert sorted(link_ids(page)) == expected[:STORES_PER_PAGE]

    page.get_by_role("link", name="Store", exact=True).click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Store")
    assert link_ids(page) == expected[:STORES_PER_PAGE]
    assert problems.seen == []


def test_new_report_shows_progress_then_the_finished_report(
    fleet: Fleet, page: Page, problems: Problems
) -> None:
    a_poll_arrives()  # new data: the report is computed anew, not reused
    page.goto(fleet.url + "/")
    page.get_by_role("button", name="New report").click()
    expect(page.locator("#job progress")).to_be_attached()
    new_id = str(page.locator("#job progress").get_attribute("id")).removeprefix("progress-")
    assert new_id != fleet.report_id
    page.wait_for_url(f"**/?report={new_id}", timeout=30_000)
    expect(page.locator("main")).to_contain_text(f"Report {new_id} as of")
    expect(page.locator('[data-figure="stores"]')).to_have_text(str(len(fleet.rows)))
    wait_for_embedded_jobs(new_id)
    assert problems.seen == []


def test_phone_width_has_no_horizontal_scroll(
    fleet: Fleet, browser: Browser, problems: Problems
) -> None:
    page = new_page(browser, problems, width=390)
    for path in ["/", "/reports/", f"/stores/{sorted(fleet.rows)[0]}"]:
        page.goto(fleet.url + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    assert problems.seen == []
    page.context.close()


def test_a_phone_opens_the_week_chart_on_the_business_hours(
    live_server: Any, browser: Browser, problems: Problems
) -> None:
    store = Store.objects.create(store_id="nine_to_five", timezone_str="America/New_York")
    BusinessHours.objects.bulk_create(
        BusinessHours(
            store=store, day_of_week=day, start_time_local=time(9), end_time_local=time(17)
        )
        for day in range(7)
    )
    StatusPoll.objects.bulk_create(
        StatusPoll(store=store, timestamp_utc=SPEC_NOW - timedelta(hours=hour), active=hour % 5 > 0)
        for hour in range(8 * 24)
    )
    page = new_page(browser, problems, width=390)
    page.goto(f"{live_server.url}/stores/nine_to_five?as_of=2023-01-25T18:00:00Z")
    wrap = page.locator(".week-wrap")
    assert wrap.evaluate("w => w.scrollLeft") > 0
    # The first business stretch is in view, 00:00 is not.
    box, first = wrap.bounding_box(), page.locator("svg.week rect.up, svg.week rect.down").first
    stretch = first.bounding_box()
    assert box is not None
    assert stretch is not None
    assert box["x"] <= stretch["x"] < box["x"] + box["width"]
    midnight = page.locator("svg.week text.axis", has_text="00:00").first.bounding_box()
    assert midnight is not None
    assert midnight["x"] < box["x"]
    assert problems.seen == []
    page.context.close()


def test_links_underline_below_the_underscores_of_ids(fleet: Fleet, page: Page) -> None:
    page.goto(fleet.url + "/")
    link = page.locator("table.stores tbody th a").first
    offset = link.evaluate("a => getComputedStyle(a).textUnderlineOffset")
    assert offset not in ("auto", "0px")
    # Below the text's baseline: an underscore (drawn at the baseline) is not hidden under it.
    assert float(offset.removesuffix("px")) >= 4
