"""Every error is JSON, odd input never gives a 500, and the parameters are strict."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from pytest_django.fixtures import Settings

from store_monitoring import urls as project_urls

pytestmark = pytest.mark.django_db

TRIGGER = "/api/monitor/trigger_report"


def assert_json_error(response: object, status: int) -> str:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/json"  # type: ignore[index]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    error: str = body["error"]
    return error


def assert_html_error(response: object, status: int) -> str:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/html; charset=utf-8"  # type: ignore[index]
    page: str = response.content.decode()  # type: ignore[attr-defined]
    assert page.startswith("<!doctype html>")
    return page


def test_an_unknown_path_is_404_json_under_the_api_and_a_page_elsewhere(client: Client) -> None:
    assert "no such path" in assert_json_error(client.get("/api/nowhere"), 404)
    assert_json_error(client.get("/api/monitor/reports/"), 404)
    assert "no such path: /nowhere" in assert_html_error(client.get("/nowhere"), 404)


def test_a_wrong_method_is_405_json(client: Client) -> None:
    response = client.delete("/api/monitor/reports")
    assert_json_error(response, 405)
    assert set(response["Allow"].split(", ")) == {"GET", "OPTIONS"}


@pytest.mark.parametrize(
    "report_id",
    ["a\x00b", "x" * 10_000, "abc.def", "a b", "ünïcode", "%00"],
    ids=["NUL", "10,000 characters", "dot", "space", "not ASCII", "escaped NUL"],
)
def test_an_id_that_cannot_be_a_report_id_is_404_without_a_query(
    client: Client, report_id: str
) -> None:
    with CaptureQueriesContext(connection) as queries:
        by_path = client.get(f"/api/monitor/get_report/{report_id}")
        by_query = client.get("/api/monitor/get_report", {"report_id": report_id})

    assert_json_error(by_path, 404)
    assert by_query.status_code in (400, 404)  # DRF refuses a NUL in a query value itself
    assert set(by_query.json()) == {"error"}
    assert [query["sql"] for query in queries.captured_queries] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"as_of": ' + b"[" * 1_000 + b"]" * 1_000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
    ],
    ids=["1,000 deep", "100,000 deep", "5,000 deep objects"],
)
def test_deeply_nested_json_is_400_not_500(client: Client, body: bytes) -> None:
    assert_json_error(client.post(TRIGGER, body, content_type="application/json"), 400)


def test_a_body_over_the_limit_is_413_json(client: Client, settings: Settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = b'{"as_of": "' + b"x" * 2_000 + b'"}'

    error = assert_json_error(client.post(TRIGGER, body, content_type="application/json"), 413)
    assert "1,000 bytes" in error


@pytest.mark.parametrize(
    "query",
    [
        "units=",
        "units=junk&units=percent",
        "units=percent&units=percent",
        "units=PERCENT",
    ],
)
def test_get_report_query_is_strict(client: Client, query: str) -> None:
    assert_json_error(client.get(f"/api/monitor/get_report/someid?{query}"), 400)


@pytest.mark.parametrize("query", ["limit=", "limit=0", "limit=501", "limit=1&limit=2", "limit=x"])
def test_reports_limit_is_strict(client: Client, query: str) -> None:
    assert "limit" in assert_json_error(client.get(f"/api/monitor/reports?{query}"), 400)


@pytest.mark.parametrize(
    "as_of",
    [
        "2023-01-25",
        "2023-01-25T18:00:00Z\x00",
        "2023-01-25T18:00:00.1234567Z",
        "2023-01-25T18:00Z",
        "2023-01-25T18:00:00Z\n",
        " 2023-01-25T18:00:00Z",
        "2023-01-25t18:00:00z",
        "２０２３-01-25T18:00:00Z",
    ],
    ids=repr,
)
def test_as_of_is_strict(client: Client, as_of: str) -> None:
    response = client.post(TRIGGER, {"as_of": as_of}, content_type="application/json")
    assert "as_of" in assert_json_error(response, 400)


@pytest.mark.parametrize(
    "as_of",
    ["2023-01-25T18:00:00Z", "2023-01-25T18:00:00.123456+05:30", "2023-01-25T18:00:00"],
)
def test_as_of_in_its_documented_forms_is_accepted(client: Client, as_of: str) -> None:
    response = client.post(TRIGGER, {"as_of": as_of}, content_type="application/json")
    assert response.status_code == 200


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("connection to 10.1.2.3:5432 failed in /srv/app/secret.py")


# The project's URLs and error handlers, and a view that crashes, in the API and as a page.
urlpatterns = [path("api/crash", crash), path("crash", crash), *project_urls.urlpatterns]
handler500 = project_urls.handler500


@pytest.mark.urls("tests.api.test_errors")
def test_a_crash_is_500_json_without_internals(client: Client) -> None:
    client.raise_request_exception = False

    response = client.get("/api/crash")

    error = assert_json_error(response, 500)
    assert "10.1.2.3" not in error
    assert "secret.py" not in error


@pytest.mark.urls("tests.api.test_errors")
def test_a_page_s_crash_is_an_html_page_without_internals(client: Client) -> None:
    client.raise_request_exception = False

    page = assert_html_error(client.get("/crash"), 500)

    assert "internal server error" in page
    assert "10.1.2.3" not in page
    assert "secret.py" not in page
