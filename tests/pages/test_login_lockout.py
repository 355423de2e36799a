"""Brute force on the log-in page (django-axes): lockout by user name and by
client address, its page, the settings, and unlocking by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "the-right-password-42"


@pytest.fixture(autouse=True)
def owner(settings: Settings) -> User:
    settings.API_KEYS_REQUIRED = True
    return User.objects.create_user("owner", password=PASSWORD)


def log_in(username: str, password: str, address: str = "10.0.0.1") -> Any:
    return Client(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(answer: Any) -> bool:
    return answer.status_code == 302 and "_auth_user_id" in answer.client.session


def test_the_right_password_after_many_wrong_ones_is_refused(settings: Settings) -> None:
    wrong = [log_in("owner", f"guess-{n}") for n in range(settings.AXES_FAILURE_LIMIT)]
    right = log_in("owner", PASSWORD)

    assert {answer.status_code for answer in wrong[:-1]} == {200}  # the form again
    assert not logged_in(right)
    assert right.status_code == 429
    page = right.content.decode()
    assert "Too many failed log-ins" in page
    assert "<strong>owner</strong>" in page
    assert "locked for 15 minutes" in page


def test_a_user_name_is_locked_from_every_address(settings: Settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("owner", "wrong", address=f"10.0.1.{n}")

    assert not logged_in(log_in("owner", PASSWORD, address="10.0.2.1"))


def test_an_address_is_locked_whatever_the_user_name(settings: Settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(f"someone-{n}", "wrong", address="10.0.3.1")

    assert not logged_in(log_in("owner", PASSWORD, address="10.0.3.1"))
    assert logged_in(log_in("owner", PASSWORD, address="10.0.3.2"))


def test_behind_a_proxy_the_forwarded_address_is_counted(settings: Settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            LOGIN,
            {"username": f"someone-{n}", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )

    # Another client behind the same proxy is not locked out.
    other = Client().post(
        LOGIN,
        {"username": "owner", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert logged_in(other)


def test_fewer_failures_than_the_limit_then_success_clear_the_count(settings: Settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("owner", "wrong")
    assert logged_in(log_in("owner", PASSWORD))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("owner", "wrong")

    assert logged_in(log_in("owner", PASSWORD))


@pytest.mark.parametrize(
    ("command", "argument"),
    [("axes_reset_username", "owner"), ("axes_reset_ip", "10.0.0.1"), ("axes_reset", None)],
)
def test_an_administrator_unlocks(settings: Settings, command: str, argument: str | None) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in("owner", "wrong")
    assert not logged_in(log_in("owner", PASSWORD))

    # Each failure was from this address for this name: any of the three clears them.
    call_command(command, *([argument] if argument else []))

    assert logged_in(log_in("owner", PASSWORD))
