"""The OpenAPI schema documents every endpoint and response; the docs work offline."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

Schema = dict[str, Any]


def test_schema_is_valid_openapi_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


@pytest.fixture
def schema(client: Client) -> Schema:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    answer: Schema = response.json()
    return answer


GET_REPORT_PATHS = ["/api/monitor/get_report/{report_id}", "/api/monitor/get_report"]
CSV_CODES = {"200", "304", "400", "404", "405", "412"}


# Every operation that needs the database may answer 503; the throttled ones 429;
# the ones that send data need a write key (403 for a read key).
WRITE_CODES = {"200", "400", "405", "413", "415", "429", "503"}
ENDPOINTS = [
    ("/api/monitor/trigger_report", "post", {"200", "400", "405", "413", "415", "429", "503"}),
    ("/api/monitor/get_report/{report_id}", "get", CSV_CODES | {"429", "503"}),
    ("/api/monitor/get_report", "get", CSV_CODES | {"429", "503"}),
    # 404: ?organization= names no organization the caller knows.
    ("/api/monitor/reports", "get", {"200", "400", "404", "405", "429", "503"}),
    ("/api/monitor/reports/{report_id}", "get", {"200", "404", "405", "429", "503"}),
    ("/api/monitor/reports/{report_id}/csv", "get", CSV_CODES | {"409", "429", "503"}),
    ("/api/monitor/stores", "get", {"200", "400", "404", "405", "429", "503"}),
    ("/api/monitor/stores/{store_id}", "get", {"200", "400", "404", "405", "429", "503"}),
    # 404: ?store_id= or ?organization= names nothing the caller sees.
    ("/api/monitor/incidents", "get", {"200", "400", "404", "405", "429", "503"}),
    ("/api/monitor/incidents/{incident_id}", "get", {"200", "404", "405", "429", "503"}),
    ("/api/monitor/polls", "post", WRITE_CODES),
    ("/api/monitor/business_hours", "post", WRITE_CODES),
    ("/api/monitor/timezones", "post", WRITE_CODES),
    ("/api/monitor/stores/{store_id}/business_hours", "put", WRITE_CODES | {"404"}),
    ("/api/monitor/stores/{store_id}/timezone", "put", WRITE_CODES | {"404"}),
    ("/api/monitor/special_hours", "post", WRITE_CODES),
    ("/api/monitor/exclusions", "post", WRITE_CODES),
    ("/api/monitor/exclusions", "get", {"200", "400", "404", "405", "429", "503"}),
    ("/api/monitor/exclusions/{exclusion_id}", "delete", {"204", "404", "405", "429", "503"}),
    ("/api/monitor/stores/{store_id}/special_hours", "get", {"200", "404", "405", "429", "503"}),
    ("/api/monitor/stores/{store_id}/special_hours/{date}", "put", WRITE_CODES | {"404"}),
    (
        "/api/monitor/stores/{store_id}/special_hours/{date}",
        "delete",
        {"204", "400", "404", "405", "429", "503"},
    ),
    # Platform keys only: 403 for an organization's, even where keys are off.
    ("/api/monitor/store_organizations", "post", WRITE_CODES | {"403"}),
    # 404: no organization has the slug.
    ("/api/monitor/stores/{store_id}/organization", "put", WRITE_CODES | {"403", "404"}),
    # Notification channels.
    ("/api/monitor/channels", "get", {"200", "405", "429", "503"}),
    ("/api/monitor/channels", "post", (WRITE_CODES - {"200"}) | {"201"}),
    ("/api/monitor/channels/{channel_id}", "delete", {"204", "404", "405", "429", "503"}),
    ("/api/monitor/channels/{channel_id}/test", "post", {"202", "404", "405", "413", "429", "503"}),
    (
        "/api/monitor/channels/{channel_id}/deliveries",
        "get",
        {"200", "400", "404", "405", "429", "503"},
    ),
    ("/metrics", "get", {"200", "403", "503"}),
    ("/healthz", "get", {"200"}),
    ("/readyz", "get", {"200", "503"}),
]
NEED_A_KEY = {"/healthz": False, "/readyz": False}


@pytest.mark.parametrize(("path", "method", "codes"), ENDPOINTS)
def test_every_endpoint_and_status_code_is_documented(
    schema: Schema, path: str, method: str, codes: set[str]
) -> None:
    assert set(schema["paths"]) == {path for path, _, _ in ENDPOINTS}
    assert set(schema["paths"][path]) == {m for p, m, _ in ENDPOINTS if p == path}
    assert set(schema["paths"][path][method]["responses"]) == codes
    # Keys are off: nothing, or "anonymous" ({}) for the probes.
    assert schema["paths"][path][method].get("security", [{}]) == [{}]


@pytest.mark.parametrize(("path", "method", "codes"), ENDPOINTS)
def test_with_keys_required_the_schema_documents_them(
    client: Client, settings: Settings, path: str, method: str, codes: set[str]
) -> None:
    settings.API_KEYS_REQUIRED = True
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][path][method]
    if NEED_A_KEY.get(path, True):
        assert set(operation["responses"]) == codes | {"401", "403"}
        assert operation["security"] == [{"bearerKey": []}, {"headerKey": []}]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    else:
        assert set(operation["responses"]) == codes
        assert operation["security"] == [{}]  # anonymous
    assert set(schema["components"]["securitySchemes"]) == {"bearerKey", "headerKey"}


def test_trigger_report_links_to_its_report(schema: Schema) -> None:
    links = schema["paths"]["/api/monitor/trigger_report"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"get_report", "get_report_by_query"}
    for link in links.values():
        assert link["parameters"] == {"report_id": "$response.body#/report_id"}


def test_the_schema_describes_only_the_api_and_the_operations_endpoints(schema: Schema) -> None:
    operations = {"/healthz", "/readyz", "/metrics"}
    assert all(path.startswith("/api/monitor/") or path in operations for path in schema["paths"])


def test_every_answer_but_the_original_get_report_has_one_content_type(schema: Schema) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                types = set(answer.get("content", {}))
                if path in GET_REPORT_PATHS and code == "200":
                    assert types == {"application/json", "text/csv"}
                elif code in ("204", "304"):  # no body
                    assert types == set()
                else:
                    assert len(types) == 1, (method, path, code, types)


def test_the_csv_is_text_csv_and_every_error_is_json(schema: Schema) -> None:
    answers = schema["paths"]["/api/monitor/reports/{report_id}/csv"]["get"]["responses"]
    assert set(answers["200"]["content"]) == {"text/csv"}
    assert {"ETag", "Cache-Control", "Content-Disposition"} <= set(answers["200"]["headers"])
    assert set(answers["409"]["content"]) == {"application/json"}
    for code, answer in answers.items():
        if code not in ("200", "304"):
            assert set(answer["content"]) == {"application/json"}, code


@pytest.mark.parametrize("path", GET_REPORT_PATHS)
def test_get_report_documents_json_csv_and_the_status_header(schema: Schema, path: str) -> None:
    operation = schema["paths"][path]["get"]
    assert operation["tags"] == ["original contract"]
    assert "report_detail" in operation["description"]
    ok = operation["responses"]["200"]
    assert ok["headers"]["X-Report-Status"]["schema"]["enum"] == ["Complete", "Failed", "Running"]
    assert "Content-Disposition" in ok["headers"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["units"]["schema"]["enum"] == ["absolute", "percent"]
    assert parameters["report_id"]["required"] is True


def test_the_report_json_lists_every_field_as_required(schema: Schema) -> None:
    detail = schema["components"]["schemas"]["ReportDetail"]
    assert set(detail["required"]) == set(detail["properties"])
    assert {
        "report_id",
        "status",
        "stage",
        "progress",
        "as_of",
        "created_at",
        "finished_at",
        "row_count",
        "error",
        "warnings",
        "csv_url",
        "csv_percent_url",
    } <= set(detail["properties"])


# Closing an answer ends its request, which looks at the database connection.
@pytest.mark.django_db
def test_interactive_docs_need_no_cdn(client: Client) -> None:
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # nothing from another host
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        response = client.get(asset)
        response.close()  # a file answer holds its file open until closed
        assert response.status_code == 200, asset


@pytest.mark.parametrize(
    "path", ["/api/monitor/polls", "/api/monitor/business_hours", "/api/monitor/timezones"]
)
def test_ingestion_documents_each_content_type_with_an_example(
    schema: dict[str, Any], path: str
) -> None:
    operation = schema["paths"][path]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson", "text/csv"}
    for media_type in content.values():
        assert media_type["examples"]
    for example in content["application/json"]["examples"].values():
        assert all(isinstance(row, dict) for row in example["value"])  # a list of rows
    for response in operation["responses"].values():
        assert set(response["content"]) == {"application/json"}  # one content type a status
    assert operation["responses"]["200"]["content"]["application/json"]["examples"]


@pytest.mark.parametrize(
    "path",
    ["/api/monitor/stores/{store_id}/business_hours", "/api/monitor/stores/{store_id}/timezone"],
)
def test_store_edits_document_their_examples(schema: dict[str, Any], path: str) -> None:
    operation = schema["paths"][path]["put"]
    assert set(operation["requestBody"]["content"]) == {"application/json"}
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    for example in examples.values():
        value = example["value"]
        assert isinstance(value, dict) or all(isinstance(row, dict) for row in value)
    assert operation["responses"]["200"]["content"]["application/json"]["examples"]


# Asks the whole stack (middleware, authentication, throttles) for the schema with a
# well-formed API key while the database is really unreachable: a PostgreSQL URL on
# a port nothing listens on.
_SCHEMA_WITHOUT_DATABASE = """
import django
from django.test import Client

django.setup()
key = "smk_" + "x" * 43  # well-formed: it would be looked up
client = Client(raise_request_exception=False, HTTP_HOST="localhost")
for path in ("/api/schema/", "/api/schema/?format=json"):
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_API_KEY=key)
    print(response.status_code, response.content[:40])
"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def test_the_schema_answers_while_the_database_is_down() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "store_monitoring.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/none",
        "DJANGO_SECRET_KEY": "schema-test-key-" + "k" * 40,
        "API_KEYS_REQUIRED": "true",
    }
    env.pop("CACHE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCHEMA_WITHOUT_DATABASE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["200", "200"], done.stdout
    assert "openapi" in lines[0]
