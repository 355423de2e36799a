"""`python manage.py import_store_status_data PATH`: load a store status polls CSV."""

from monitor.management.imports import ImportCommand
from monitor.services.imports import polls_import


class Command(ImportCommand):
    help = (
        "Load store status polls (store_id, status, timestamp_utc). A poll already stored, "
        "or earlier in the file, is skipped. Exit status 1 if rows were rejected, 2 if the "
        "file was refused."
    )
    importer = polls_import
    path_help = "the polls CSV file"
