"""`python manage.py import_store_timezone_data PATH`: load a time zones CSV."""

from monitor.management.imports import ImportCommand
from monitor.services.imports import timezones_import


class Command(ImportCommand):
    help = (
        "Load store time zones (store_id, timezone_str): each store named gets the zone of its "
        "last valid row. Exit status 1 if rows were rejected, 2 if the file was refused."
    )
    importer = timezones_import
    path_help = "the time zones CSV file"
