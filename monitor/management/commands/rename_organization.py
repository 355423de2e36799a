"""`python manage.py rename_organization SLUG NAME`: a new display name (the slug stays)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.services.organizations import OrganizationError, organization_rename


class Command(BaseCommand):
    help = "Give an organization a new display name; its slug, in files and keys, stays."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_rename(slug=options["slug"], name=options["name"])
        except OrganizationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Organization {organization.slug!r} is now named {organization.name!r}.")
