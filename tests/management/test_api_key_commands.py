"""create_api_key, list_api_keys, revoke_api_key; and what is (not) stored."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from monitor.models import ApiKey
from monitor.services.api_keys import api_key_check

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    written = io.StringIO()
    call_command(*args, stdout=written)
    return written.getvalue()


def test_create_prints_the_key_once_alone_on_its_last_line_and_stores_only_a_hash() -> None:
    output = run("create_api_key", "dashboard", "--scope", "write")

    key = output.splitlines()[-1]
    assert key.startswith("smk_")
    assert len(key) == 47
    stored = ApiKey.objects.get(name="dashboard")
    assert stored.scope == "write"
    assert key not in {stored.prefix, stored.digest}
    assert stored.prefix == key[:12]
    assert len(stored.digest) == 64
    assert key[12:] not in stored.digest
    assert api_key_check(key) == stored


def test_the_default_scope_is_read() -> None:
    run("create_api_key", "grafana")
    assert ApiKey.objects.get(name="grafana").scope == "read"


def test_a_name_is_never_reused() -> None:
    run("create_api_key", "ci")
    with pytest.raises(CommandError, match="exists already"):
        run("create_api_key", "ci")


def test_list_shows_name_scope_created_and_last_used() -> None:
    assert "No API keys" in run("list_api_keys")
    key = run("create_api_key", "ci").splitlines()[-1]
    run("create_api_key", "loader", "--scope", "write")
    api_key_check(key)

    header, ci, loader = run("list_api_keys").splitlines()
    assert header.split() == ["name", "organization", "scope", "created", "last", "used", "revoked"]
    assert ci.split()[:3] == ["ci", "(platform)", "read"]
    assert ci.split()[-1] == "-"
    assert ci.count("Z") == 2
    assert loader.split()[:3] == ["loader", "(platform)", "write"]
    assert loader.split()[-2:] == ["-", "-"]  # never used, not revoked


def test_revoke_refuses_the_key_from_now_on() -> None:
    key = run("create_api_key", "old").splitlines()[-1]

    assert "revoked" in run("revoke_api_key", "old")
    assert api_key_check(key) is None
    with pytest.raises(CommandError, match="revoked already"):
        run("revoke_api_key", "old")
    with pytest.raises(CommandError, match="no key named"):
        run("revoke_api_key", "nobody")
