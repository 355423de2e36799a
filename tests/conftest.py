"""Fixtures shared by the whole suite."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from monitor import jobqueue
from monitor.models import Report
from tests.report_data import SPEC_NOW, store_spec_examples
from tests.support.jobqueue import FakeQueue
from tests.support.reports import report_completed

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write a file under tmp_path and return its path: text as UTF-8 exactly as
    given (line ends untouched), bytes as they are."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture(autouse=True)
def api_open_and_unthrottled(settings: Settings) -> Iterator[None]:
    """The API as `make run` serves it: no keys required. Each test starts with
    empty throttle counts. tests/api/test_access.py turns keys on."""
    settings.API_KEYS_REQUIRED = False
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def job_queue(monkeypatch: pytest.MonkeyPatch) -> FakeQueue:
    """The services' job queue replaced by one the test runs by hand (FakeQueue)."""
    fake = FakeQueue()
    monkeypatch.setattr(jobqueue, "current", lambda: fake)
    return fake


@pytest.fixture
def complete_report(db: None) -> Report:
    """The worked examples of docs/report-semantics.md as of SPEC_NOW, in a Complete report."""
    store_spec_examples()
    return report_completed(requested_as_of=SPEC_NOW)
