"""The OpenAPI schema documents every endpoint and response; the docs work offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client


def test_schema_is_valid_openapi_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


@pytest.fixture
def schema(client: Client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/monitor/trigger_report", "post", {"200", "400", "405", "415", "503"}),
        ("/api/monitor/get_report/{report_id}", "get", {"200", "400", "404", "405"}),
        ("/api/monitor/get_report", "get", {"200", "400", "404", "405"}),
        ("/api/monitor/reports", "get", {"200", "400", "405"}),
    ],
)
def test_every_endpoint_and_status_code_is_documented(
    schema: dict, path: str, method: str, codes: set[str]
) -> None:
    assert set(schema["paths"][path]) == {method}
    assert set(schema["paths"][path][method]["responses"]) == codes


@pytest.mark.parametrize("path", ["/api/monitor/get_report/{report_id}", "/api/monitor/get_report"])
def test_get_report_documents_json_csv_and_the_status_header(schema: dict, path: str) -> None:
    ok = schema["paths"][path]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert ok["headers"]["X-Report-Status"]["schema"]["enum"] == ["Complete", "Failed", "Running"]
    assert "Content-Disposition" in ok["headers"]
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
    assert parameters["units"]["schema"]["enum"] == ["absolute", "percent"]
    assert parameters["report_id"]["required"] is True


def test_interactive_docs_need_no_cdn(client: Client) -> None:
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # nothing from another host
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
