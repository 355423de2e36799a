"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python
against pytest-django's live server, report jobs in the embedded thread mode.

Skipped where that browser is missing, except in CI (`CI` set), where that fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright
from pytest_django.fixtures import Settings

from tests.support.browser import CHROMIUM, launch_chromium

# Playwright's sync API keeps an asyncio event loop running in this thread;
# Django then refuses ORM calls from it (SynchronousOnlyOperation) although
# they are plain synchronous calls that never run on that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def embedded_jobs(settings: Settings) -> None:
    settings.CELERY_BROKER_URL = ""  # report jobs in a thread of the live server's process
    settings.API_KEYS_REQUIRED = False
