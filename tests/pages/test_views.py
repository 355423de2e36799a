"""The pages through Django's test client: content, htmx fragments, errors, access."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from monitor.models import Exclusion, Report, SpecialHours, Store
from monitor.scope import PLATFORM
from monitor.selectors import report_csv
from monitor.services import report_parts, report_trigger
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_fleet_without_any_report_offers_a_new_one(client: Client) -> None:
    page = client.get("/").content.decode()
    assert "No report yet" in page
    assert 'action="/reports/new"' in page


def test_fleet_shows_the_latest_complete_report(client: Client, complete_report: Report) -> None:
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert complete_report.report_id in page
    assert 'data-figure="stores">2<' in page
    # day: 23.42 + 8.00 up of 23.42 + 0.58 + 8.00 → 98.19 %; week: 223.42 of 224.00 → 99.74 %
    assert 'data-figure="share-day">98.19 %<' in page
    assert 'data-figure="share-week">99.74 %<' in page
    assert page.index("/stores/example-1") < page.index("/stores/example-2")  # worst first
    assert f"/reports/{complete_report.report_id}/report.csv" in page
    assert "<svg" in page
    assert "The histogram as a table" in page


def test_fleet_table_fragment_for_htmx_search(client: Client, complete_report: Report) -> None:
    response = client.get("/", {"q": "example-2"}, headers={**HTMX, "HX-Target": "stores"})
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "/stores/example-2" in fragment
    assert "/stores/example-1" not in fragment
    assert "1 store whose id starts with" in fragment


def test_fleet_sorts_by_a_column(client: Client, complete_report: Report) -> None:
    page = client.get("/", {"sort": "uptime_last_hour", "order": "desc"}).content.decode()
    assert page.index("/stores/example-2") < page.index("/stores/example-1")
    assert 'aria-sort="descending"' in page


@pytest.mark.parametrize("query", [{"sort": "nope"}, {"order": "up"}, {"page": "0"}, {"page": "x"}])
def test_fleet_refuses_bad_parameters(
    client: Client, complete_report: Report, query: dict[str, str]
) -> None:
    response = client.get("/", query)
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_fleet_of_an_unknown_report_is_404_naming_the_report(client: Client) -> None:
    response = client.get("/", {"report": "nope"})
    assert response.status_code == 404
    assert "no report with id &#x27;nope&#x27;" in response.content.decode()


def test_fleet_of_a_failed_report_shows_its_error_and_the_button(client: Client) -> None:
    report = Report.objects.create(status=Report.Status.FAILED, error="no polls are stored yet")
    page = client.get("/", {"report": report.report_id}).content.decode()
    assert "failed: no polls are stored yet" in page
    assert "New report" in page


def test_new_report_needs_csrf(complete_report: Report) -> None:
    assert Client(enforce_csrf_checks=True).post("/reports/new").status_code == 403


def test_new_report_through_htmx_answers_its_progress_panel(
    client: Client, complete_report: Report, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/reports/new", headers=HTMX)
    fragment = response.content.decode()
    report = Report.objects.order_by("-created_at").first()
    assert report is not None
    assert report.status == Report.Status.RUNNING
    assert f'hx-get="/reports/{report.report_id}/progress"' in fragment
    assert "<progress" in fragment


def test_new_report_without_htmx_redirects_to_it(
    client: Client, complete_report: Report, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/reports/new")
    report = Report.objects.order_by("-created_at").first()
    assert report is not None
    assert response.status_code == 302
    assert response["Location"] == f"/?report={report.report_id}"
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page  # Running: its progress, polled


def test_progress_of_a_complete_report_sends_htmx_to_its_fleet(
    client: Client, complete_report: Report
) -> None:
    response = client.get(f"/reports/{complete_report.report_id}/progress", headers=HTMX)
    assert response["HX-Redirect"] == f"/?report={complete_report.report_id}"
    assert client.get("/reports/nope/progress").status_code == 404


def test_a_queued_report_s_panel_says_when_no_worker_serves_its_queue(
    client: Client, job_queue: FakeQueue
) -> None:
    report = Report.objects.create(stage=Report.Stage.QUEUED)
    served = client.get(f"/reports/{report.report_id}/progress", headers=HTMX).content.decode()
    job_queue.serving, job_queue.workers = False, 0

    for page in [f"/reports/{report.report_id}/progress", f"/?report={report.report_id}"]:
        text = client.get(page).content.decode()
        assert '<p class="warning">No worker has served the job queue' in text, page
    assert "No worker" not in served


def test_reports_page_lists_reports_with_downloads(client: Client, complete_report: Report) -> None:
    page = client.get("/reports/").content.decode()
    assert complete_report.report_id in page
    assert "Complete" in page
    assert f"/reports/{complete_report.report_id}/report-percent.csv" in page


def test_downloads_are_the_report_csvs(client: Client, complete_report: Report) -> None:
    absolute = client.get(f"/reports/{complete_report.report_id}/report.csv")
    percent = client.get(f"/reports/{complete_report.report_id}/report-percent.csv")
    assert absolute.getvalue().decode() == SPEC_CSV
    assert percent.getvalue().decode() == report_csv(complete_report, percent=True)
    assert 'filename="report-' in absolute["Content-Disposition"]
    assert client.get("/reports/nope/report.csv").status_code == 404


def test_store_page_prints_the_report_row(client: Client, complete_report: Report) -> None:
    row = next(r for r in csv.reader(io.StringIO(SPEC_CSV)) if r[0] == "example-1")
    page = client.get("/stores/example-1").content.decode()
    for index, figure in enumerate(row[1:]):
        assert f'data-figure="{index}">{figure}<' in page
    assert "America/Chicago (none stored: the default)" in page
    assert "Wed 25 Jan 2023 12:00:00 (UTC-0600)" in page  # 18:00 UTC in Chicago
    assert "20 min 00 s before the as-of instant" in page  # the 17:40 poll
    assert f"data-outage-total>{row[6]}<" in page  # outages add up to downtime_last_week


def test_an_hour_without_business_time_says_closed(client: Client, complete_report: Report) -> None:
    # 19:00 in New York: example-2 closed at 17:00, its last poll (15:00 UTC) before.
    page = client.get("/stores/example-2", {"as_of": "2023-01-26T00:00:00Z"}).content.decode()
    assert 'data-figure="0">closed this hour<' in page
    assert 'data-figure="3">closed this hour<' in page
    assert 'data-figure="1">' in page  # the day's and week's figures as the CSV prints them
    assert 'data-figure="1">closed' not in page


def test_a_store_without_a_poll_by_then_is_drawn_as_no_data(
    client: Client, complete_report: Report
) -> None:
    # 05:00 in New York, before example-2's only poll (15:00 UTC): nothing to tell.
    page = client.get("/stores/example-2", {"as_of": "2023-01-25T10:00:00Z"}).content.decode()
    assert "none at or before the as-of instant" in page
    # Its business hours (09:00–17:00) in the chart say "no data", not the closed grey.
    assert page.count('<rect class="nodata" tabindex') >= 6
    assert '<rect class="up" tabindex' not in page
    assert '<rect class="down" tabindex' not in page
    assert "No data (business hours, no poll at or before the as-of instant)" in page
    # A store with polls by then draws no such stretch, nor its legend.
    polled = client.get("/stores/example-2").content.decode()
    assert "nodata" not in polled


def test_store_page_as_of_override_and_errors(client: Client, complete_report: Report) -> None:
    earlier = client.get("/stores/example-2", {"as_of": "2023-01-25T16:00:00Z"}).content.decode()
    assert "Wed 25 Jan 2023 11:00:00 (UTC-0500)" in earlier
    unknown = client.get("/stores/nope")
    assert unknown.status_code == 404
    assert unknown["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in unknown.content.decode()
    assert "no store with id &#x27;nope&#x27;" in unknown.content.decode()
    bad = client.get("/stores/example-2", {"as_of": "yesterday"})
    assert bad.status_code == 400
    assert "not an ISO 8601 instant" in bad.content.decode()


def test_pages_need_a_login_where_api_keys_are_required(
    client: Client, complete_report: Report, settings: Settings
) -> None:
    settings.API_KEYS_REQUIRED = True
    for path in (
        "/",
        "/reports/",
        "/stores/example-1",
        f"/reports/{complete_report.pk}/report.csv",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next=")
    assert client.post("/reports/new").status_code == 302
    User.objects.create_superuser("admin", password="a long password")
    login = client.post("/accounts/login/", {"username": "admin", "password": "a long password"})
    assert login.status_code == 302
    assert client.get("/").status_code == 200


def test_reports_page_polls_its_rows_while_a_report_runs(client: Client) -> None:
    running = Report.objects.create()
    page = client.get("/reports/").content.decode()
    assert 'id="report-list" hx-get="/reports/"' in page
    fragment = client.get("/reports/", headers={**HTMX, "HX-Target": "report-list"})
    assert fragment.content.decode().lstrip().startswith('<tbody id="report-list"')
    Report.objects.filter(pk=running.pk).update(status=Report.Status.COMPLETE)
    assert 'hx-get="/reports/"' not in client.get("/reports/").content.decode()


def test_login_page_renders(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_store_page_reads_only_that_stores_polls_and_hours(
    client: Client, complete_report: Report
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/stores/example-2").status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "monitor_statuspoll" in q["sql"]]
    reads += [q["sql"] for q in queries.captured_queries if "monitor_businesshours" in q["sql"]]
    assert reads
    for sql in reads:
        assert re.search(r'WHERE .*"?store_id"? = ', sql), sql


@pytest.mark.django_db(transaction=True)
def test_new_report_when_the_job_queue_is_down_says_so(
    client: Client, job_queue: FakeQueue
) -> None:
    store_spec_examples()
    job_queue.refusing = True  # as an unreachable broker
    panel = client.post("/reports/new", headers=HTMX)
    assert panel.status_code == 503
    assert "could not be started: the job queue is unreachable" in panel.content.decode()
    page = client.post("/reports/new")
    assert page.status_code == 503
    assert "<h1>The report could not be started</h1>" in page.content.decode()
    assert set(Report.objects.values_list("status", flat=True)) == {Report.Status.FAILED}


def test_new_report_of_unchanged_data_goes_to_the_report_it_reuses(
    client: Client, complete_report: Report
) -> None:
    first = report_trigger.report_trigger(
        scope=PLATFORM
    ).report  # as of the latest poll, at the current data version
    report_parts.report_run(first.report_id)  # its job (this test's transaction never commits)
    response = client.post("/reports/new", headers=HTMX)
    assert response["HX-Redirect"] == f"/?report={first.report_id}"
    assert client.post("/reports/new")["Location"] == f"/?report={first.report_id}"


@pytest.mark.parametrize(
    "path", ["/", "/reports/", "/incidents/", "/accounts/login/", "/api/docs/"]
)
def test_pages_allow_no_inline_script_or_style(client: Client, path: str) -> None:
    page = client.get(path)

    policy = dict(
        directive.strip().split(" ", 1) for directive in page["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == policy["style-src"] == "'self'"
    assert policy["object-src"] == policy["frame-ancestors"] == "'none'"
    body = page.content.decode()
    assert re.search(r"<script(?![^>]*\ssrc=)", body) is None  # every script is a file
    assert "<style" not in body
    assert " style=" not in body


def test_the_swagger_ui_start_up_script_is_a_file(client: Client) -> None:
    script = client.get("/api/docs/?script=")

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_store_page_draws_and_tabulates_the_weeks_calendar(client: Client) -> None:
    store_spec_examples()
    store = Store.objects.get(store_id="example-2")  # New York, 09:00–17:00 every day
    SpecialHours.objects.create(
        store=store, date=date(2023, 1, 23), start_time_local=None, end_time_local=None
    )
    Exclusion.objects.create(
        store=None,
        start_utc=SPEC_NOW - timedelta(hours=3),
        end_utc=SPEC_NOW - timedelta(hours=2),
        reason="poller down",
    )
    page = client.get("/stores/example-2", {"as_of": SPEC_NOW.isoformat()}).content.decode()
    # Monday 23 January: one "special" stretch, the whole local day, under the segments.
    assert page.count('<rect class="special" tabindex') == 1
    assert "Special hours on Mon 23 Jan: closed" in page
    assert page.count('<rect class="excluded" tabindex') == 1
    assert "Excluded (every store: poller down) for 1 h 00 min" in page
    assert "Closed by the date's special hours" in page
    assert "<td>Special hours</td><td>Mon 23 Jan</td>" in page
    assert "<td>Excluded</td><td>Wed 25 Jan 10:00:00</td>" in page


def test_new_report_beyond_the_cap_on_waiting_reports_answers_429_with_the_reason(
    client: Client, complete_report: Report, job_queue: FakeQueue
) -> None:
    for hours in range(1, 4):  # three reports waiting to start (other instants: not reused)
        report_trigger.report_trigger(scope=PLATFORM, as_of=SPEC_NOW - timedelta(hours=hours))

    fragment = client.post("/reports/new", headers=HTMX)
    page = client.post("/reports/new")

    assert (fragment.status_code, page.status_code) == (429, 429)
    for response in (fragment, page):
        assert "REPORT_MAX_QUEUED_PER_KEY is 3" in response.content.decode()
    assert Report.objects.count() == 4
