"""A client generated from the served schema works: what an integrator would do.

openapi-python-client (pinned in the dev dependencies) reads /api/schema/ from
a live server, as docs/api.md says, into a temporary folder; the tests import
that package and use nothing else to talk to the API.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from monitor.models import Report
from tests.report_data import store_random_data, wait_for_embedded_jobs

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "store_monitoring_client"
GENERATED_BODIES = {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}


@pytest.fixture(scope="module")
def generated(
    live_server: LiveServer,
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """The generated package, imported (typed Any: it exists only at run time)."""
    folder = tmp_path_factory.mktemp("generated")
    # The schema reads no table, but the server checks its connection on
    # every request: allowed here, once for the module, outside any test.
    with django_db_blocker.unblock():
        generate(live_server.url, folder / PACKAGE)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def generate(server_url: str, output: Path) -> None:
    """Run openapi-python-client over the server's /api/schema/, as docs/api.md says,
    but for the request bodies it cannot model (and warns about)."""
    with urllib.request.urlopen(f"{server_url}/api/schema/?format=json") as answer:
        schema = json.load(answer)
    modelled = output.parent / "schema.json"
    modelled.write_text(json.dumps(without_unmodelled_bodies(schema)))
    # The generator formats its output with ruff, which it finds on PATH:
    # the one installed next to it.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    generator = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(modelled),
            "--meta",
            "none",
            "--output-path",
            str(output),
            "--fail-on-warning",  # a schema it cannot fully model is a failure
        ],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
    )
    assert generator.returncode == 0, generator.stdout + generator.stderr


def without_unmodelled_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with JSON request bodies only: the data endpoints' NDJSON and CSV
    forms (for curl and pipes) are beyond the generator, which models their JSON form."""
    for operations_ in schema["paths"].values():
        for operation in operations_.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type in [name for name in content if name not in GENERATED_BODIES]:
                del content[media_type]
    return schema


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def operations(tag: str, *names: str) -> list[ModuleType]:
    """The generated modules of these operations (one module an operation)."""
    return [module(f"api.{tag}.{name}") for name in names]


def generate_report(*args: str) -> bytes:
    written = io.StringIO()
    call_command("generate_report", *args, stdout=written)
    return written.getvalue().encode()


def test_trigger_poll_and_download_through_the_generated_client(
    generated: Any, live_server: LiveServer, settings: Settings
) -> None:
    settings.CELERY_BROKER_URL = ""  # the job runs in a thread of the live server's process
    store_random_data(stores=40, seed=9)
    trigger_report, report_detail, report_csv = operations(
        "monitor", "trigger_report", "report_detail", "report_csv"
    )
    models = module("models")
    # Closing the client closes its connections (a ResourceWarning otherwise).
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as client:
        triggered = trigger_report.sync(client=client)
        assert isinstance(triggered, models.TriggerResponse)
        if connection.vendor == "sqlite":
            # The in-memory test database fails a read that meets the job's write
            # at once, instead of waiting: see wait_for_embedded_jobs.
            wait_for_embedded_jobs(triggered.report_id)
        deadline = time.monotonic() + 30
        detail = report_detail.sync(triggered.report_id, client=client)
        while detail.status == models.ReportStatusEnum.RUNNING and time.monotonic() < deadline:
            time.sleep(0.05)
            detail = report_detail.sync(triggered.report_id, client=client)

        assert isinstance(detail, models.ReportDetail)
        assert detail.status == models.ReportStatusEnum.COMPLETE, detail.error
        assert detail.additional_properties == {}  # the schema names every field
        assert detail.row_count == 40
        as_of = detail.as_of.isoformat()
        download = report_csv.sync_detailed(triggered.report_id, client=client)
        assert download.status_code == 200
        assert download.headers["Content-Encoding"] == "gzip"  # httpx asks for it and unpacks it
        assert download.content == generate_report("--as-of", as_of)
        percent = report_csv.sync_detailed(
            triggered.report_id, client=client, units=models.ReportCsvUnits.PERCENT
        )
        assert percent.content == generate_report("--as-of", as_of, "--units", "percent")
        assert percent.parsed == percent.content.decode()
        with client.with_headers({"If-None-Match": download.headers["ETag"]}) as cached:
            assert report_csv.sync_detailed(triggered.report_id, client=cached).status_code == 304


def test_the_generated_types_parse_every_json_answer(
    generated: Any, live_server: LiveServer
) -> None:
    report_detail, report_csv = operations("monitor", "report_detail", "report_csv")
    (get_report,) = operations("original_contract", "get_report")
    models = module("models")
    # Closing the client closes its connections (a ResourceWarning otherwise).
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as client:
        running = Report.objects.create(attempts=1, stage="computing", progress=0.4)
        failed = Report.objects.create(status=Report.Status.FAILED, error="no polls are stored yet")

        running_detail = report_detail.sync(running.report_id, client=client)
        failed_detail = report_detail.sync(failed.report_id, client=client)
        assert isinstance(running_detail, models.ReportDetail)
        assert (running_detail.status, running_detail.progress) == ("Running", 0.4)
        assert running_detail.finished_at is None
        assert isinstance(failed_detail, models.ReportDetail)
        assert (failed_detail.status, failed_detail.error) == ("Failed", "no polls are stored yet")

        for report, status in ((running, "Running"), (failed, "Failed")):
            not_ready = report_csv.sync(report.report_id, client=client)
            assert isinstance(not_ready, models.ReportNotReady)
            assert (not_ready.report_id, not_ready.status) == (report.report_id, status)

        for operation in (report_detail, report_csv):
            missing = operation.sync_detailed("nope", client=client)
            assert missing.status_code == 404
            assert isinstance(missing.parsed, models.Error)
            assert missing.parsed.error == "no report with id 'nope'"

        # The original dual contract still parses while the report is not Complete.
        assert isinstance(get_report.sync(running.report_id, client=client), models.ReportRunning)
        assert isinstance(get_report.sync(failed.report_id, client=client), models.ReportFailed)
