"""`python manage.py import_store_special_hours_data PATH`: load a special hours CSV."""

from monitor.management.imports import ImportCommand
from monitor.services.imports import special_hours_import


class Command(ImportCommand):
    help = (
        "Load special hours (store_id, date, start_time_local, end_time_local; both times "
        "empty: closed that date): each (store, date) the file names gets exactly the file's "
        "rows for that date. Exit status 1 if rows were rejected, 2 if the file was refused."
    )
    importer = special_hours_import
    path_help = "the special hours CSV file"
