"""The one home of hand-written SQL's database specifics.

Selectors (reads), the bulk loads (monitor.ingest) and the services write some
SQL by hand where the ORM would build an object per row. They take every
table and column name from monitor.db.names, and every statement that differs
between PostgreSQL and SQLite from current(): all of PostgreSQL's are in
monitor.db.postgresql, all of SQLite's in monitor.db.sqlite, both behind the
Database protocol (monitor.db.base, with the types they share). This is the
only place that asks which database Django is connected to.

Loads never build an ORM object per row either. Polls get the most care, being
millions a file: their store ids become Store keys in Python as batches go by
(new stores are created first), so staging carries integers, not the ids'
text; each database module says how its rows travel and what a big load does
about the poll table's indexes.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from monitor.db.base import Database

# Each module imported when first asked for: an SQLite run (the embedded
# set-up's commands) never pays for importing PostgreSQL's driver.
_DATABASES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def current() -> Database:
    """The statements for the database of Django's default connection."""
    return for_vendor(connection.vendor)


@cache
def for_vendor(vendor: str) -> Database:
    """The statements for a database by Django's vendor name ("postgresql", "sqlite")."""
    if vendor not in _DATABASES:
        raise ImproperlyConfigured(f"store_monitoring supports PostgreSQL and SQLite, not {vendor}")
    database: Database = getattr(import_module(f"monitor.db.{vendor}"), _DATABASES[vendor])()
    return database
