"""`python manage.py import_store_business_hours_data PATH`: load a business hours CSV."""

from monitor.management.imports import ImportCommand
from monitor.services.imports import business_hours_import


class Command(ImportCommand):
    help = (
        "Load business hours (store_id, day or dayOfWeek, start_time_local, end_time_local): "
        "each store the file names gets exactly the file's rows as its hours. Exit status 1 "
        "if rows were rejected, 2 if the file was refused."
    )
    importer = business_hours_import
    path_help = "the business hours CSV file"
