"""`python manage.py list_organizations`: each organization's slug, name and what it has."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitor.management.tables import table_lines
from monitor.services.organizations import organizations_list


class Command(BaseCommand):
    help = "List the organizations: slug, name, stores, live API keys, users."

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = organizations_list()
        if not organizations:
            self.stdout.write("No organizations. Make one with create_organization SLUG.")
            return
        rows = [("slug", "name", "stores", "keys", "users")] + [
            (o.organization.slug, o.organization.name, str(o.stores), str(o.api_keys), str(o.users))
            for o in organizations
        ]
        for line in table_lines(rows):
            self.stdout.write(line)
