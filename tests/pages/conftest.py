"""Page tests run in the open set-up (no keys, no login) unless a test asks otherwise."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def open_pages(settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = False
