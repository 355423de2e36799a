"""A finished report's CSV: ETag, caching headers, 304s, gzip and HEAD, on both the
original get_report and reports/<id>/csv."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date
from pytest_django.fixtures import Settings

from monitor.api.downloads import BodyCache, accepts_gzip
from monitor.models import Report, ReportPart
from monitor.services import report_parts
from monitor.services.reports import report_generate
from tests.report_data import SPEC_CSV, SPEC_NOW, store_random_data, store_spec_examples

pytestmark = pytest.mark.django_db

GZIP = {"Accept-Encoding": "gzip, deflate"}


@pytest.fixture
def report(db: None) -> Report:
    store_spec_examples()
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    return Report.objects.get(pk=report.pk)


@pytest.fixture(params=["get_report", "reports_csv"])
def url(request: pytest.FixtureRequest, report: Report) -> str:
    if request.param == "get_report":
        return f"/api/monitor/get_report/{report.report_id}"
    return f"/api/monitor/reports/{report.report_id}/csv"


def test_the_csv_carries_its_etag_and_is_cacheable_for_good(
    client: Client, report: Report, url: str
) -> None:
    response = client.get(url)

    assert report.finished_at is not None
    assert response["ETag"] == f'"{report.report_id}-absolute"'
    assert client.get(url + "?units=percent")["ETag"] == f'"{report.report_id}-percent"'
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["Last-Modified"] == http_date(int(report.finished_at.timestamp()))
    assert response["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in response
    assert response.content.decode() == SPEC_CSV


def test_a_matching_if_none_match_is_304_without_a_body(client: Client, url: str) -> None:
    etag = client.get(url)["ETag"]

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304


def test_another_etag_or_form_gets_the_csv(client: Client, url: str) -> None:
    etag = client.get(url)["ETag"]

    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    percent = client.get(url + "?units=percent", headers={"If-None-Match": etag})
    assert percent.status_code == 200


def test_if_modified_since_its_finish_is_304(client: Client, url: str) -> None:
    last_modified = client.get(url)["Last-Modified"]

    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304


def test_a_failed_if_match_is_412_json(client: Client, url: str) -> None:
    response = client.get(url, headers={"If-Match": '"other"'})

    assert response.status_code == 412
    assert response.json() == {"error": "If-Match or If-Unmodified-Since did not hold"}


def test_gzip_when_accepted_with_a_weak_etag_that_still_matches(
    client: Client, report: Report, url: str
) -> None:
    response = client.get(url, headers=GZIP)

    assert response["Content-Encoding"] == "gzip"
    assert response["Vary"] == "Accept-Encoding"
    assert gzip.decompress(response.content).decode() == SPEC_CSV
    assert int(response["Content-Length"]) == len(response.content)
    assert response["ETag"] == f'W/"{report.report_id}-absolute"'
    # Either form's ETag names the same content.
    plain_etag = client.get(url)["ETag"]
    assert client.get(url, headers={**GZIP, "If-None-Match": plain_etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_gzip_bodies_are_the_same_bytes_every_time(client: Client, url: str) -> None:
    first = client.get(url, headers=GZIP).content
    again = client.get(url, headers=GZIP).content

    assert first == again


def test_head_gives_the_headers_of_get(client: Client, url: str) -> None:
    for headers in ({}, GZIP):
        got, head = client.get(url, headers=headers), client.head(url, headers=headers)
        assert head.status_code == 200
        assert head.getvalue() == b""
        for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Vary"):
            assert head[name] == got[name]


def test_running_and_failed_answers_of_get_report_are_not_cached(client: Client) -> None:
    running = Report.objects.create(attempts=1)

    response = client.get(f"/api/monitor/get_report/{running.report_id}", headers=GZIP)

    assert response.status_code == 200
    assert response.json()["status"] == "Running"
    assert "ETag" not in response
    assert "Cache-Control" not in response


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("deflate, GZIP;q=0.5", True),
        ("*", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000, *", False),
        ("*;q=0, gzip", True),
        ("deflate, br", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accepts_gzip(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_a_304_or_a_cached_body_reads_no_csv_and_a_download_one_form(
    client: Client, url: str
) -> None:
    etag = client.get(url, headers=GZIP)["ETag"]  # compressed, and cached, once
    client.get(url)  # plain, and cached, once

    for headers in (GZIP, {}, {"If-None-Match": etag}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers=headers).status_code in (200, 304)
        assert not any("result_" in query["sql"] for query in queries), headers
    with CaptureQueriesContext(connection) as queries:
        client.get(url + "?units=percent")
    read = " ".join(query["sql"] for query in queries)
    assert "result_percent_csv" in read
    assert "result_csv" not in read


def test_the_body_cache_keeps_the_latest_bodies_within_its_bound() -> None:
    made: list[str] = []

    def body(name: str) -> Callable[[], bytes]:
        def make() -> bytes:
            made.append(name)
            return name.encode() * 1000

        return make

    cache = BodyCache(limit=2 * 1000)
    for name in ["a", "b", "a", "c", "a", "b"]:
        assert cache.get(name, body(name)) == name.encode() * 1000

    # "a", used last, stayed; "b" was dropped for "c", then made again.
    assert made == ["a", "b", "c", "b"]


@pytest.fixture
def parts_url(settings: Settings) -> tuple[Report, str]:
    """A report of four parts and its download's address."""
    store_random_data(stores=10, seed=4)
    settings.REPORT_SHARD_STORES = 3
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)
    report = Report.objects.get(pk=report.pk)
    assert (report.status, report.part_count) == (Report.Status.COMPLETE, 4)
    return report, f"/api/monitor/reports/{report.report_id}/csv"


def test_a_report_in_parts_streams_part_by_part_the_same_bytes(
    client: Client, parts_url: tuple[Report, str]
) -> None:
    report, url = parts_url
    whole = report_generate(as_of=SPEC_NOW).csv().encode()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        body = response.getvalue()

    assert response.streaming
    assert body == whole
    assert response["Content-Length"] == str(len(whole))
    assert response["ETag"] == f'"{report.report_id}-absolute"'
    reads = [query["sql"] for query in queries if "result_csv" in query["sql"]]
    assert len(reads) == report.part_count  # one part at a time


def test_a_report_in_parts_gzips_on_the_fly_the_bytes_of_gzip_then_from_the_cache(
    client: Client, parts_url: tuple[Report, str]
) -> None:
    _, url = parts_url
    whole = report_generate(as_of=SPEC_NOW).csv(percent=True).encode()

    streamed = client.get(url + "?units=percent", headers=GZIP)
    compressed = streamed.getvalue()
    cached = client.get(url + "?units=percent", headers=GZIP)

    assert streamed.streaming
    assert (streamed["Content-Encoding"], streamed["ETag"][:2]) == ("gzip", "W/")
    assert compressed == gzip.compress(whole, compresslevel=6, mtime=0)
    assert not cached.streaming
    assert cached.content == compressed
    conditional = {"If-None-Match": streamed["ETag"]}
    assert client.get(url + "?units=percent", headers=conditional).status_code == 304


def test_a_report_in_parts_streamed_whole_is_then_served_from_the_cache(
    client: Client, parts_url: tuple[Report, str]
) -> None:
    _, url = parts_url
    streamed = client.get(url).getvalue()

    with CaptureQueriesContext(connection) as queries:
        cached = client.get(url)

    assert not cached.streaming
    assert cached.content == streamed
    assert cached["Content-Length"] == str(len(streamed))
    assert not any("result_csv" in query["sql"] for query in queries)


def test_head_of_a_report_in_parts_reads_no_part(
    client: Client, parts_url: tuple[Report, str]
) -> None:
    _, url = parts_url
    got = client.get(url)

    with CaptureQueriesContext(connection) as queries:
        head = client.head(url)

    assert head.status_code == 200
    assert head.getvalue() == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Vary"):
        assert head[name] == got[name]
    assert not any("result_csv" in query["sql"] for query in queries)


def test_head_of_a_report_of_one_part_reads_no_csv(client: Client, url: str) -> None:
    got = client.get(url)

    with CaptureQueriesContext(connection) as queries:
        head = client.head(url)

    assert (head.status_code, head["Content-Length"]) == (200, got["Content-Length"])
    assert not any("result_csv" in query["sql"] for query in queries)


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_report_whose_parts_were_deleted_meanwhile_is_404_json(
    client: Client, url: str, report: Report, gzipped: bool, settings: Settings
) -> None:
    ReportPart.objects.filter(report=report).delete()  # retention, after the report was read
    Report.objects.filter(pk=report.pk).update(part_count=1)
    settings.REPORT_SHARD_STORES = 1
    in_parts = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(in_parts.report_id)
    ReportPart.objects.filter(report=in_parts, index=1).delete()

    for report_url in (url, f"/api/monitor/reports/{in_parts.report_id}/csv"):
        response = client.get(report_url, headers=GZIP if gzipped else {})

        assert response.status_code == 404, report_url
        assert "deleted meanwhile" in response.json()["error"]


def test_bodies_collected_at_once_stay_within_the_cache_bound() -> None:
    body = b"a,1\n" * 1000
    cache = BodyCache(limit=len(body) + 1000)
    first = cache.stream("a", [body], at_most=len(body))
    next(first)  # collecting "a"
    assert b"".join(cache.stream("b", [body], at_most=len(body))) == body  # no room left
    for _ in first:
        pass

    assert cache.peek("b") is None
    assert cache.peek("a") == body
    assert b"".join(cache.stream("b", [body], at_most=len(body))) == body  # room again
    assert cache.peek("b") == body
