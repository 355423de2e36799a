"""A finished report's CSV through gunicorn: what the server itself does with HEAD,
gzip and conditional requests (Django's test client only imitates a server)."""

from __future__ import annotations

import gzip
import http.client
from urllib.parse import urlsplit

import pytest

from monitor.models import Report
from monitor.selectors import report_csv
from monitor.services import report_parts
from store_monitoring.devstack import Answer, Api
from tests.report_data import SPEC_NOW, store_random_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def fetch(api: Api, method: str, path: str, **headers: str) -> Answer:
    """One raw HTTP exchange: the body exactly as sent, never decompressed."""
    address = urlsplit(api.base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, dict(response.headers), response.read())
    finally:
        connection.close()


@pytest.fixture
def report_id() -> str:
    store_random_data(stores=40, seed=5)
    report = Report.objects.create(requested_as_of=SPEC_NOW)
    report_parts.report_run(report.report_id)  # here: what a worker would do
    return report.report_id


@pytest.mark.parametrize("path", ["/api/monitor/reports/{}/csv", "/api/monitor/get_report/{}"])
def test_head_gzip_and_304_through_gunicorn(api: Api, report_id: str, path: str) -> None:
    url = path.format(report_id)
    csv = report_csv(Report.objects.get(pk=report_id)).encode()

    plain = fetch(api, "GET", url)
    assert plain.status == 200
    assert plain.body == csv
    assert plain.headers["Content-Length"] == str(len(csv))

    zipped = fetch(api, "GET", url, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == csv
    assert zipped.headers["Content-Length"] == str(len(zipped.body))

    head = fetch(api, "HEAD", url, **{"Accept-Encoding": "gzip"})
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == zipped.headers["Content-Length"]
    assert head.headers["ETag"] == zipped.headers["ETag"]

    again = fetch(api, "GET", url, **{"If-None-Match": plain.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == plain.headers["ETag"]
