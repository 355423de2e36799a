"""A command's first check: a database that exists and is migrated.

Without it, a new user's first import ends in a traceback about a missing
table or database; this says what to run instead.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor

from monitor import db

EXIT_NO_DATABASE = 2  # as for a refused file: nothing was done


def require_migrated_database(alias: str = DEFAULT_DB_ALIAS) -> None:
    """CommandError (exit 2) unless the database exists and every migration is applied."""
    connection = connections[alias]
    name = connection.settings_dict["NAME"]
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as error:
        if db.for_vendor(connection.vendor).is_missing_database(error):
            raise CommandError(
                f'the database "{name}" does not exist: create it (`createdb {name}`), '
                "then run `manage.py migrate`",
                returncode=EXIT_NO_DATABASE,
            ) from None
        raise CommandError(
            f'cannot open the database "{name}": {str(error).strip()}',
            returncode=EXIT_NO_DATABASE,
        ) from None
    if unapplied:
        raise CommandError(
            f'the database "{name}" is not migrated: run `manage.py migrate` first',
            returncode=EXIT_NO_DATABASE,
        )


class DataCommand(BaseCommand):
    """A command about the data alone (loading it, reporting on it).

    It runs no system checks: they examine the URLs, views and templates,
    importing the whole web side first, which took a report command about
    half a second, and none of them concerns the data. `manage.py check`,
    `migrate` and the servers still run them.
    """

    requires_system_checks: list[str] = []
