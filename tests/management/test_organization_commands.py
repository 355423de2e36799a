"""create_organization, rename_organization, list_organizations, create_api_key
--organization, create_organization_user and import_store_organizations_data."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from monitor.models import ApiKey, Organization, OrganizationMember, Store
from monitor.services.api_keys import api_key_check
from tests.conftest import WriteFile
from tests.management.test_import_commands import ROOT, manage, sqlite_env  # noqa: F401

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=out, stderr=err)
    return failure.value.returncode, f"{out.getvalue()}{err.getvalue()}{failure.value}"


def test_an_organization_is_made_renamed_and_listed() -> None:
    assert "No organizations" in run("list_organizations")[0]
    out, _ = run("create_organization", "acme", "--name", "Acme Burgers")
    assert out == "Organization 'acme' (Acme Burgers) created.\n"
    run("create_organization", "zeta")
    assert Organization.objects.get(slug="zeta").name == "zeta"  # the slug, by default

    run("rename_organization", "zeta", "Zeta Pizza")
    Store.objects.create(store_id="s1", organization=Organization.objects.get(slug="acme"))
    run("create_api_key", "acme-reader", "--organization", "acme")

    header, acme, zeta = run("list_organizations")[0].splitlines()
    assert header.split() == ["slug", "name", "stores", "keys", "users"]
    assert acme.split() == ["acme", "Acme", "Burgers", "1", "1", "0"]
    assert zeta.split() == ["zeta", "Zeta", "Pizza", "0", "0", "0"]


@pytest.mark.parametrize(
    ("slug", "reason"),
    [("Acme Burgers", "is not a slug"), ("a" * 51, "at most 50 characters"), ("", "not a slug")],
)
def test_a_bad_slug_is_refused(slug: str, reason: str) -> None:
    assert reason in run_failing("create_organization", slug)[1]
    assert not Organization.objects.exists()


def test_a_slug_is_taken_once() -> None:
    run("create_organization", "acme")
    assert "exists already" in run_failing("create_organization", "acme")[1]
    assert "no organization 'nope'" in run_failing("rename_organization", "nope", "x")[1]


def test_an_organizations_key_is_listed_with_it() -> None:
    run("create_organization", "acme")
    out, _ = run("create_api_key", "acme-loader", "--scope", "write", "--organization", "acme")
    assert "(organization acme, scope write)" in out
    key = out.splitlines()[-1]
    checked = api_key_check(key)
    assert checked is not None
    assert checked.organization == Organization.objects.get(slug="acme")
    run("create_api_key", "ops")
    assert ApiKey.objects.get(name="ops").organization is None

    _, acme, ops = run("list_api_keys")[0].splitlines()
    assert acme.split()[:3] == ["acme-loader", "acme", "write"]
    assert ops.split()[:3] == ["ops", "(platform)", "read"]
    assert (
        "no organization 'nope'" in run_failing("create_api_key", "x", "--organization", "nope")[1]
    )
    assert not ApiKey.objects.filter(name="x").exists()


def test_an_organization_user_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    run("create_organization", "acme")
    monkeypatch.setenv("DJANGO_USER_PASSWORD", PASSWORD)
    out, _ = run("create_organization_user", "ann", "--organization", "acme", "--noinput")
    assert out == "User 'ann' of organization 'acme' created.\n"
    user = get_user_model().objects.get(username="ann")
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert not user.is_superuser
    assert OrganizationMember.objects.get(user=user).organization.slug == "acme"
    assert (
        "exists already"
        in run_failing("create_organization_user", "ann", "--organization", "acme", "--noinput")[1]
    )


def test_an_organization_user_asked_for_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    run("create_organization", "acme")
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "another one"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    run("create_organization_user", "ann", "--organization", "acme")
    assert get_user_model().objects.get(username="ann").check_password(PASSWORD)
    assert "differ" in run_failing("create_organization_user", "bob", "--organization", "acme")[1]
    assert not get_user_model().objects.filter(username="bob").exists()


def test_an_organization_user_is_refused_without_a_good_password_or_organization(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run("create_organization", "acme")
    monkeypatch.delenv("DJANGO_USER_PASSWORD", raising=False)
    refused = run_failing("create_organization_user", "ann", "--organization", "acme", "--noinput")
    assert "DJANGO_USER_PASSWORD" in refused[1]
    monkeypatch.setenv("DJANGO_USER_PASSWORD", PASSWORD)
    assert (
        "no organization 'nope'"
        in run_failing("create_organization_user", "ann", "--organization", "nope", "--noinput")[1]
    )
    assert not get_user_model().objects.exists()


# ---- import_store_organizations_data ------------------------------------------------------


def test_ownership_rows_load_and_bad_ones_are_rejected_with_their_reason(
    write_file: WriteFile,
) -> None:
    run("create_organization", "acme")
    run("create_organization", "zeta")
    Store.objects.create(store_id="known")
    path = write_file(
        "owners.csv",
        "Organization , STORE_ID\n"  # §1: any order, any case, spaces trimmed
        "acme,known\n"
        "zeta, 007 \n"  # a new store, created; "007" stays "007"
        "nope,s3\n"  # an unknown slug
        ",s4\n"
        "acme,=cmd\n"  # §1's rule for the id
        "\n"
        "zeta,known\n",  # the last valid row of a store wins
    )
    code, text = run_failing("import_store_organizations_data", str(path))
    assert code == 1
    assert "loaded 2, skipped 0 duplicates, rejected 3 invalid rows" in text
    # Each reason names the column as the header writes it.
    assert f"{path}:4: Organization 'nope' is no organization's slug" in text
    assert f"{path}:5: Organization is empty" in text
    assert f"{path}:6: STORE_ID '=cmd' begins with '='" in text
    owners = dict(Store.objects.values_list("store_id", "organization__slug"))
    assert owners == {"known": "zeta", "007": "zeta"}


def test_a_clean_ownership_file_prints_the_summary_only(write_file: WriteFile) -> None:
    run("create_organization", "acme")
    out, err = run(
        "import_store_organizations_data",
        str(write_file("o.csv", "store_id,organization\na,acme\n")),
    )
    assert (out, err) == ("loaded 1, skipped 0 duplicates, rejected 0 invalid rows\n", "")


def test_an_ownership_file_without_its_columns_is_refused(write_file: WriteFile) -> None:
    code, text = run_failing(
        "import_store_organizations_data", str(write_file("o.csv", "store_id,owner\na,acme\n"))
    )
    assert code == 2
    assert "the header has no 'organization' column" in text
    assert not Store.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_ownership_from_standard_input(sqlite_env: dict[str, str]) -> None:  # noqa: F811
    assert manage(sqlite_env, "create_organization", "acme").returncode == 0
    done = subprocess.run(
        [sys.executable, "manage.py", "import_store_organizations_data", "-"],
        cwd=ROOT,
        env=sqlite_env,
        input=b"store_id,organization\npiped,acme\nother,nope\n",
        capture_output=True,
    )
    assert done.returncode == 1
    assert done.stdout.decode() == "loaded 1, skipped 0 duplicates, rejected 1 invalid rows\n"
    assert "<stdin>:3: organization 'nope' is no organization's slug" in done.stderr.decode()
