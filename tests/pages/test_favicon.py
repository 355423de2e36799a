"""The icon a browser asks for at /favicon.ico, served by the app."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_an_icon_that_needs_no_login(client: Client, settings: Settings) -> None:
    settings.API_KEYS_REQUIRED = True  # the pages need a login then; the icon does not

    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header: one image follows
    assert b"PNG" in response.content[:40]
    assert "max-age" in response["Cache-Control"]


def test_the_pages_link_their_svg_icon(client: Client) -> None:
    page = client.get("/reports/").content.decode()

    assert 'rel="icon" href="/static/monitor/favicon.svg"' in page
    icon = client.get("/static/monitor/favicon.svg")
    icon.close()  # a file answer holds its file open until closed
    assert icon.status_code == 200
