"""`python manage.py import_store_exclusions_data PATH`: load an exclusions CSV."""

from monitor.management.imports import ImportCommand
from monitor.services.imports import exclusions_import


class Command(ImportCommand):
    help = (
        "Load exclusions (store_id or * for every store, start_utc, end_utc, optional "
        "reason): periods that count neither as uptime nor as downtime. A row already "
        "stored is skipped as a duplicate. Exit status 1 if rows were rejected, 2 if the "
        "file was refused."
    )
    importer = exclusions_import
    path_help = "the exclusions CSV file"
