from __future__ import annotations

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from monitor import db
from monitor.db.base import LockWaitTimeoutError
from monitor.db.postgresql import PostgreSQL
from monitor.db.sqlite import SQLite
from monitor.models import Store
from tests.integration.conftest import database_url


def test_each_database_has_its_own_statements() -> None:
    assert isinstance(db.for_vendor("postgresql"), PostgreSQL)
    assert isinstance(db.for_vendor("sqlite"), SQLite)
    assert db.current() is db.for_vendor(connection.vendor)


def test_another_database_is_refused_naming_the_supported_ones() -> None:
    with pytest.raises(ImproperlyConfigured, match="supports PostgreSQL and SQLite, not oracle"):
        db.for_vendor("oracle")


@pytest.mark.django_db(transaction=True)
def test_a_bounded_lock_wait_gives_up_and_the_transaction_goes_on() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: readers never wait, and a writer waits at BEGIN (busy timeout)")
    store = Store.objects.create(store_id="locked")
    with psycopg.connect(database_url(connection.settings_dict)) as holder:
        holder.execute(f"SELECT FROM {Store._meta.db_table} WHERE id = %s FOR UPDATE", [store.pk])
        with transaction.atomic():
            with connection.cursor() as cursor:  # unbounded, the test would hang: fail instead
                cursor.execute("SET LOCAL statement_timeout = '5s'")
            with pytest.raises(LockWaitTimeoutError), db.current().lock_wait_at_most(0.1):
                Store.objects.select_for_update().get(pk=store.pk)
            # Only what ran inside the bound was undone: the transaction still reads.
            assert Store.objects.filter(pk=store.pk).exists()
        holder.rollback()
