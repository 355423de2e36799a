"""`python manage.py import_store_organizations_data PATH`: which organization owns which store."""

from __future__ import annotations

from pathlib import Path

from monitor.management.imports import ImportCommand
from monitor.scope import PLATFORM
from monitor.services.imports import FileProgress, ImportResult
from monitor.services.organizations import store_organizations_import


def _platform_import(path: Path, *, on_progress: FileProgress | None = None) -> ImportResult:
    # A command is run by whoever runs the server: the platform.
    return store_organizations_import(path, scope=PLATFORM, on_progress=on_progress)


class Command(ImportCommand):
    help = (
        "Load store ownership (store_id, organization: a slug): each store named belongs to "
        "the organization of its last valid row; an unknown store is created, an unknown "
        "slug rejects its row. Exit status 1 if rows were rejected, 2 if the file was refused."
    )
    importer = _platform_import
    path_help = "the ownership CSV file, or - for standard input"
