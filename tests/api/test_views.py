"""The report API: every endpoint, status code, body and header."""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from monitor import jobqueue
from monitor.api.errors import DATABASE_UNAVAILABLE
from monitor.jobqueue import Job
from monitor.jobqueue.embedded import EmbeddedQueue
from monitor.models import Report
from monitor.services import report_parts
from monitor.services.imports import polls_import
from monitor.services.reports import report_generate
from tests.conftest import WriteFile
from tests.report_data import SPEC_CSV, SPEC_NOW, store_spec_examples, wait_for_embedded_jobs
from tests.support.jobqueue import FakeQueue

pytestmark = pytest.mark.django_db

TRIGGER = "/api/monitor/trigger_report"
REPORTS = "/api/monitor/reports"


def get_report(report_id: str) -> str:
    return f"/api/monitor/get_report/{report_id}"


def detail_of(report_id: str) -> str:
    return f"/api/monitor/reports/{report_id}"


def csv_of(report_id: str) -> str:
    return f"/api/monitor/reports/{report_id}/csv"


@pytest.fixture
def spec_examples(db: None) -> None:
    store_spec_examples()


def trigger(client: Client, body: object | None = None) -> tuple[int, dict[str, Any]]:
    if body is None:  # no body at all, as `curl -X POST URL` sends
        response = client.generic("POST", TRIGGER)
    else:
        response = client.post(TRIGGER, body, content_type="application/json")
    return response.status_code, response.json()


# trigger_report


def test_trigger_answers_the_new_report_id_and_running(
    client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            TRIGGER, {"as_of": "2023-01-25T13:00:00-05:00"}, content_type="application/json"
        )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"report_id", "status", "reused"}
    assert (body["status"], body["reused"]) == ("Running", False)
    report = Report.objects.get(pk=body["report_id"])
    assert report.requested_as_of == SPEC_NOW
    assert len(callbacks) == 1  # its job, started once the row is committed


@pytest.mark.usefixtures("spec_examples")
def test_a_second_trigger_reuses_the_report_and_force_computes_anew(client: Client) -> None:
    body = {"as_of": "2023-01-25T18:00:00Z"}
    first = trigger(client, body)[1]
    again = trigger(client, body)[1]
    forced = trigger(client, {**body, "force": True})[1]

    assert (first["reused"], again["reused"], forced["reused"]) == (False, True, False)
    assert again["report_id"] == first["report_id"] != forced["report_id"]
    assert Report.objects.count() == 2


def test_reusing_a_complete_report_answers_complete(
    client: Client, complete_report: Report
) -> None:
    Report.objects.filter(pk=complete_report.pk).update(data_version=0)  # as a trigger stores it

    status, answer = trigger(client, {"as_of": SPEC_NOW.isoformat()})

    assert (status, answer) == (
        200,
        {"report_id": complete_report.report_id, "status": "Complete", "reused": True},
    )


@pytest.mark.parametrize("body", [None, {}, {"as_of": None}])
def test_trigger_without_as_of_asks_for_the_default(client: Client, body: object) -> None:
    status, answer = trigger(client, body)

    assert (status, answer["status"]) == (200, "Running")
    assert Report.objects.get(pk=answer["report_id"]).requested_as_of is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"as_of": "yesterday"}, "as_of: 'yesterday' is not an ISO 8601 instant such as 2023"),
        ({"as_of": "2023-02-30T00:00:00Z"}, "is not an ISO 8601 instant"),
        ({"as_of": 1674669600}, "as_of: expected an ISO 8601 instant as a string, got int"),
        ({"asof": "2023-01-25T18:00:00Z"}, "unknown field(s): asof"),
        (["2023-01-25T18:00:00Z"], "Expected a dictionary, but got list"),
        ("{not json", "JSON parse error"),
    ],
)
def test_trigger_with_a_bad_body_is_400_with_the_reason(
    client: Client, body: object, reason: str
) -> None:
    status, answer = trigger(client, body)

    assert status == 400
    assert set(answer) == {"error"}
    assert reason in answer["error"]
    assert not Report.objects.exists()


def test_trigger_with_a_body_that_is_not_json_is_415(client: Client) -> None:
    response = client.post(
        TRIGGER, "as_of=2023-01-25", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_trigger_with_another_method_is_405_json(client: Client, method: str) -> None:
    response = client.generic(method, TRIGGER)

    assert response.status_code == 405
    assert response.json() == {"error": f'Method "{method}" not allowed.'}
    assert "POST" in response["Allow"]


# get_report/<id> and get_report?report_id=<id>


def test_complete_report_is_the_csv_attachment(client: Client, complete_report: Report) -> None:
    response = client.get(get_report(complete_report.report_id))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Report-Status"] == "Complete"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="report-{complete_report.report_id}.csv"'
    )
    assert response.content.decode() == SPEC_CSV


@pytest.mark.parametrize(
    ("query", "percent"), [("?units=percent", True), ("?units=absolute", False), ("", False)]
)
def test_units_choose_the_form_of_the_csv(
    client: Client, complete_report: Report, query: str, percent: bool
) -> None:
    response = client.get(get_report(complete_report.report_id) + query)

    assert response.status_code == 200
    assert response.content.decode() == report_generate(as_of=SPEC_NOW).csv(percent=percent)


def test_the_query_form_gives_the_same_answer(client: Client, complete_report: Report) -> None:
    by_path = client.get(get_report(complete_report.report_id) + "?units=percent")
    by_query = client.get(
        "/api/monitor/get_report",
        {"report_id": complete_report.report_id, "units": "percent"},
    )

    assert by_query.status_code == 200
    assert by_query.content == by_path.content
    assert by_query["Content-Disposition"] == by_path["Content-Disposition"]
    assert by_query["X-Report-Status"] == "Complete"


def test_a_queued_report_shows_its_place_in_the_embedded_queue(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = threading.Event()
    release = threading.Event()

    def held(report_id: str) -> None:
        running.set()
        release.wait(30)

    # An embedded queue of one thread, held by a first job: the others wait.
    queue = EmbeddedQueue(threads=1, process_started=timezone.now(), between_jobs=lambda: None)
    monkeypatch.setattr(jobqueue, "current", lambda: queue)
    queued = [Report.objects.create() for _ in range(3)]
    for report in queued:
        queue.send(Job(report_parts.REPORT_RUN.name, held), report.report_id)
    running.wait(30)

    answers = [client.get(get_report(report.report_id)).json() for report in queued]
    details = [client.get(detail_of(report.report_id)).json() for report in queued]
    release.set()
    assert queue.join(timeout=30)

    # One field, the same in both: null where the queue cannot tell (the running one).
    assert [answer["queue_position"] for answer in answers] == [None, 1, 2]
    assert [detail["queue_position"] for detail in details] == [None, 1, 2]
    assert {(answer["status"], answer["stage"]) for answer in answers} == {("Running", "queued")}


def test_running_report_is_its_progress(client: Client) -> None:
    report = Report.objects.create(progress=0.6, stage="computing", attempts=1)

    response = client.get(get_report(report.report_id))

    assert response.status_code == 200
    assert response["X-Report-Status"] == "Running"
    assert response.json() == {
        "report_id": report.report_id,
        "status": "Running",
        "progress": 0.6,
        "stage": "computing",
        "warnings": [],
        "queue_position": None,
        "queue_warning": None,
    }


def test_a_queued_report_whose_queue_no_worker_serves_says_so(
    client: Client, job_queue: FakeQueue
) -> None:
    report = Report.objects.create(stage=Report.Stage.QUEUED)
    job_queue.serving, job_queue.workers = False, 0
    job_queue.served_at = timezone.now() - timedelta(minutes=5)

    answer = client.get(get_report(report.report_id)).json()
    detail = client.get(detail_of(report.report_id)).json()

    assert answer["status"] == "Running"
    assert answer["queue_warning"].startswith("no worker has served the job queue for 5 min")
    assert "0 are live" in answer["queue_warning"]
    assert detail["queue_warning"] == answer["queue_warning"]


def test_failed_report_is_its_error(client: Client) -> None:
    report = Report.objects.create(status=Report.Status.FAILED, error="no polls are stored yet")

    response = client.get("/api/monitor/get_report", {"report_id": report.report_id})

    assert response.status_code == 200
    assert response["X-Report-Status"] == "Failed"
    assert response.json() == {
        "report_id": report.report_id,
        "status": "Failed",
        "error": "no polls are stored yet",
        "warnings": [],
    }


def test_a_report_whose_job_was_lost_is_failed_not_running(
    client: Client, settings: Settings
) -> None:
    settings.REPORT_STALE_AFTER_SECONDS = 30
    report = Report.objects.create(attempts=1)
    Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))

    answer = client.get(get_report(report.report_id)).json()

    assert answer["status"] == "Failed"
    assert "gave no sign of life for 30 s" in answer["error"]


@pytest.mark.parametrize(
    ("url", "report_id"),
    [
        ("/api/monitor/get_report/nope", "nope"),
        ("/api/monitor/get_report?report_id=nope", "nope"),
        ("/api/monitor/get_report?report_id=+", " "),
    ],
)
def test_unknown_report_is_404_json(client: Client, url: str, report_id: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert response.json() == {"error": f"no report with id {report_id!r}"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/api/monitor/get_report", "report_id: This field is required."),
        ("/api/monitor/get_report?report_id=", "report_id: This field may not be blank."),
        (
            "/api/monitor/get_report/x?units=minutes",
            'units: "minutes" is not a valid choice: use one of absolute, percent',
        ),
        ("/api/monitor/get_report/x?units=", "units: This field may not be blank."),
        (
            "/api/monitor/get_report/x?units=junk&units=percent",
            "units: This field was given 2 times; give it once.",
        ),
        (
            "/api/monitor/get_report?report_id=x&report_id=y",
            "report_id: This field was given 2 times; give it once.",
        ),
        ("/api/monitor/reports/x/csv?units=", "units: This field may not be blank."),
        (
            "/api/monitor/reports/x/csv?units=percent&units=percent",
            "units: This field was given 2 times; give it once.",
        ),
        ("/api/monitor/reports?limit=", "limit: This field may not be blank."),
    ],
)
def test_bad_parameters_are_400(client: Client, url: str, reason: str) -> None:
    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == {"error": reason}


@pytest.mark.parametrize(
    "url",
    [
        "/api/monitor/get_report/x",
        "/api/monitor/get_report",
        "/api/monitor/reports/x",
        "/api/monitor/reports/x/csv",
    ],
)
def test_report_reads_with_another_method_are_405_json(client: Client, url: str) -> None:
    response = client.post(url)

    assert response.status_code == 405
    assert response.json() == {"error": 'Method "POST" not allowed.'}
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_head_of_get_report_is_the_csv_headers_without_the_csv(
    client: Client, complete_report: Report
) -> None:
    url = get_report(complete_report.report_id)
    got, head = client.get(url), client.head(url)

    assert head.status_code == 200
    assert head.getvalue() == b""
    for header in ("Content-Type", "Content-Length", "ETag", "X-Report-Status"):
        assert head[header] == got[header]


def test_a_client_that_accepts_only_csv_gets_the_csv_and_json_errors(
    client: Client, complete_report: Report
) -> None:
    response = client.get(get_report(complete_report.report_id), headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.content.decode() == SPEC_CSV

    missing = client.get(csv_of("nope"), headers={"Accept": "text/csv"})
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"


# reports/<id>: the report as JSON, in every state


def test_detail_of_a_complete_report(client: Client, complete_report: Report) -> None:
    response = client.get(detail_of(complete_report.report_id))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    detail = response.json()
    link = f"http://testserver/api/monitor/reports/{complete_report.report_id}/csv"
    assert detail == {
        "report_id": complete_report.report_id,
        "organization": None,  # the platform's: every store
        "status": "Complete",
        "requested_as_of": "2023-01-25T18:00:00Z",
        "as_of": "2023-01-25T18:00:00Z",
        "progress": 1.0,
        "stage": "done",
        "error": "",
        "attempts": 1,
        "part_count": 1,
        "created_at": detail["created_at"],
        "finished_at": detail["finished_at"],
        "duration_seconds": detail["duration_seconds"],
        "row_count": 2,
        "stores_without_recent_poll": 0,
        "queue_position": None,
        "queue_warning": None,
        "warnings": [],
        "csv_url": link,
        "csv_percent_url": link + "?units=percent",
    }
    assert datetime.fromisoformat(detail["finished_at"]) == complete_report.finished_at
    assert client.get(detail["csv_url"]).content.decode() == SPEC_CSV
    assert client.get(detail["csv_percent_url"]).content.decode() == report_generate(
        as_of=SPEC_NOW
    ).csv(percent=True)


def test_detail_of_a_running_and_of_a_failed_report(client: Client) -> None:
    running = Report.objects.create(progress=0.6, stage="computing", attempts=1)
    failed = Report.objects.create(status=Report.Status.FAILED, error="no polls are stored yet")

    running_detail = client.get(detail_of(running.report_id)).json()
    failed_detail = client.get(detail_of(failed.report_id)).json()

    assert (running_detail["status"], running_detail["stage"]) == ("Running", "computing")
    assert running_detail["progress"] == 0.6
    assert running_detail["finished_at"] is None
    assert running_detail["row_count"] is None
    assert (failed_detail["status"], failed_detail["error"]) == (
        "Failed",
        "no polls are stored yet",
    )
    assert failed_detail["csv_url"].endswith(f"/reports/{failed.report_id}/csv")


def test_detail_of_an_unknown_report_is_404_json(client: Client) -> None:
    response = client.get(detail_of("nope"))

    assert response.status_code == 404
    assert response.json() == {"error": "no report with id 'nope'"}


# reports/<id>/csv: only the CSV


@pytest.mark.parametrize(("query", "percent"), [("?units=percent", True), ("", False)])
def test_csv_of_a_complete_report(
    client: Client, complete_report: Report, query: str, percent: bool
) -> None:
    response = client.get(csv_of(complete_report.report_id) + query)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    suffix = "-percent" if percent else ""
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="report-{complete_report.report_id}{suffix}.csv"'
    )
    assert response.content.decode() == report_generate(as_of=SPEC_NOW).csv(percent=percent)


def test_csv_of_a_running_report_is_409_with_its_status(client: Client) -> None:
    report = Report.objects.create(attempts=1)

    response = client.get(csv_of(report.report_id))

    assert response.status_code == 409
    assert response.json() == {
        "error": f"report {report.report_id!r} is Running; its CSV exists once it is Complete",
        "report_id": report.report_id,
        "status": "Running",
    }


def test_csv_of_a_failed_report_is_409_with_its_status_and_error(client: Client) -> None:
    report = Report.objects.create(status=Report.Status.FAILED, error="no polls are stored yet")

    response = client.head(csv_of(report.report_id))
    assert response.status_code == 409
    answer = client.get(csv_of(report.report_id)).json()
    assert answer["status"] == "Failed"
    assert answer["error"] == (
        f"report {report.report_id!r} is Failed: no polls are stored yet; "
        "its CSV exists once it is Complete"
    )


def test_csv_of_an_unknown_report_is_404_json(client: Client) -> None:
    response = client.get(csv_of("nope"))

    assert response.status_code == 404
    assert response.json() == {"error": "no report with id 'nope'"}


# reports


def test_reports_lists_recent_reports_newest_first(client: Client, complete_report: Report) -> None:
    running = Report.objects.create(attempts=1, progress=0.05, stage="reading")

    response = client.get(REPORTS)

    assert response.status_code == 200
    listed = response.json()["reports"]
    assert [report["report_id"] for report in listed] == [
        running.report_id,
        complete_report.report_id,
    ]
    done = listed[1]
    assert done["status"] == "Complete"
    assert done["as_of"] == "2023-01-25T18:00:00Z"
    assert done["requested_as_of"] == "2023-01-25T18:00:00Z"
    assert done["row_count"] == 2
    assert done["attempts"] == 1
    assert complete_report.finished_at is not None
    assert done["duration_seconds"] == pytest.approx(
        (complete_report.finished_at - complete_report.created_at).total_seconds()
    )
    assert datetime.fromisoformat(done["created_at"]) == complete_report.created_at
    assert datetime.fromisoformat(done["finished_at"]) == complete_report.finished_at
    assert listed[0]["status"] == "Running"
    assert listed[0]["finished_at"] is None
    assert listed[0]["duration_seconds"] is None
    assert "result_csv" not in done


def test_reports_limit(client: Client) -> None:
    for _ in range(3):
        Report.objects.create()

    assert len(client.get(REPORTS, {"limit": 2}).json()["reports"]) == 2
    response = client.get(REPORTS, {"limit": 0})
    assert response.status_code == 400
    assert response.json()["error"].startswith("limit: ")


def test_reports_with_another_method_is_405_json(client: Client) -> None:
    response = client.delete(REPORTS)

    assert response.status_code == 405
    assert response.json() == {"error": 'Method "DELETE" not allowed.'}


# The whole path, with the job in a thread of this process (the embedded default)


@pytest.mark.django_db(transaction=True)
def test_trigger_then_get_gives_what_generate_report_writes(
    client: Client, settings: Settings
) -> None:
    settings.CELERY_BROKER_URL = ""
    store_spec_examples()

    report_id = trigger(client)[1]["report_id"]
    wait_for_embedded_jobs(report_id)
    response = client.get(get_report(report_id))

    written = io.StringIO()
    call_command("generate_report", stdout=written)  # default as-of: the latest poll
    assert response["X-Report-Status"] == "Complete"
    assert response.content.decode() == written.getvalue()


# Requests refused before any view (handler400). Other non-API errors are not
# JSON yet; this covers the one a misconfigured deployment meets first.


def test_a_host_not_allowed_gets_a_json_400_naming_the_setting(client: Client) -> None:
    response = client.get(REPORTS, HTTP_HOST="monitoring.example.com")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert "'monitoring.example.com'" in error
    assert "DJANGO_ALLOWED_HOSTS" in error


# data freshness


@pytest.mark.parametrize("status", [Report.Status.RUNNING, Report.Status.FAILED])
def test_report_far_after_the_latest_poll_warns(
    client: Client, spec_examples: None, status: str
) -> None:
    # The latest poll is at 17:40; 18:40:00.000001 is more than an hour after it.
    late = SPEC_NOW + timedelta(minutes=40, microseconds=1)
    report = Report.objects.create(status=status, requested_as_of=late, error="x", attempts=1)

    (warning,) = client.get(get_report(report.report_id)).json()["warnings"]

    assert warning.startswith(f"the as-of instant {late.isoformat()} is 1 h 0 min after")
    assert "(2023-01-25T17:40:00+00:00)" in warning


def test_report_an_hour_after_the_latest_poll_does_not_warn(
    client: Client, spec_examples: None
) -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW + timedelta(minutes=40))
    assert client.get(get_report(report.report_id)).json()["warnings"] == []


def test_report_before_every_poll_warns(client: Client, spec_examples: None) -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW - timedelta(days=30))
    (warning,) = client.get(get_report(report.report_id)).json()["warnings"]
    assert warning.startswith("no poll is stored at or before")


def test_reports_list_warnings_and_stores_without_recent_poll(
    client: Client, spec_examples: None
) -> None:
    # As of 2 days later: the latest poll is 2 days old and no store has a poll in
    # the 24 h before; as of SPEC_NOW: fresh, and both reported stores polled.
    for as_of in (SPEC_NOW, SPEC_NOW + timedelta(days=2)):
        report = Report.objects.create(requested_as_of=as_of)
        report_parts.report_run(report.report_id)

    late, fresh = client.get(REPORTS).json()["reports"]

    assert (fresh["stores_without_recent_poll"], fresh["warnings"]) == (0, [])
    assert late["stores_without_recent_poll"] == 2
    assert "2 d 0 h 20 min after the latest poll" in late["warnings"][0]


def test_a_finished_reports_listed_summary_is_kept_but_its_warnings_follow_the_data(
    client: Client, spec_examples: None, write_file: WriteFile
) -> None:
    report = Report.objects.create(requested_as_of=SPEC_NOW + timedelta(days=2))
    report_parts.report_run(report.report_id)
    first = client.get(REPORTS).json()["reports"]
    assert "after the latest poll" in first[0]["warnings"][0]

    # A poll of the as-of instant arrives late: the report is as it was, but
    # its figures no longer rest on a stale poll.
    polls_import(
        write_file(
            "late.csv",
            "store_id,status,timestamp_utc\n"
            f"example-1,active,{(SPEC_NOW + timedelta(days=2)).isoformat()}\n",
        )
    )
    again = client.get(REPORTS).json()["reports"]

    assert again == [{**first[0], "warnings": []}]


def test_report_detail_carries_the_freshness_warning(client: Client, spec_examples: None) -> None:
    late = SPEC_NOW + timedelta(hours=3)
    report = Report.objects.create(requested_as_of=late)

    (warning,) = client.get(detail_of(report.report_id)).json()["warnings"]

    assert "is 3 h 20 min after the latest poll" in warning


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("spec_examples")
def test_trigger_while_the_database_is_locked_is_503_json(client: Client) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single writer; PostgreSQL bounds its waits (test_report_reuse)")
    # Another connection holds the write lock, as an import does until it commits.
    database = connection.settings_dict["NAME"]
    with sqlite3.connect(database, uri=database.startswith("file:"), timeout=0) as importer:
        importer.execute("BEGIN IMMEDIATE")
        importer.execute(f"DELETE FROM {Report._meta.db_table}")
        status, body = trigger(client, {"as_of": "2023-01-25T18:00:00Z", "force": True})
        importer.rollback()

    assert status == 503
    assert body == {"error": DATABASE_UNAVAILABLE}
