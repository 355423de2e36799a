"""`python manage.py create_organization SLUG [--name NAME]`: a new organization."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.services.organizations import OrganizationError, organization_create


class Command(BaseCommand):
    help = (
        "Make an organization: its keys and users see and change only its stores "
        "(import_store_organizations_data gives it stores)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="its short name in files and URLs: letters, digits, - _")
        parser.add_argument("--name", default="", help="its display name (default: the slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_create(slug=options["slug"], name=options["name"])
        except OrganizationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Organization {organization.slug!r} ({organization.name}) created.")
