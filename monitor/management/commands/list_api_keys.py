"""`python manage.py list_api_keys`: every key's name, organization, scope, creation, last use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand

from monitor.management.tables import table_lines
from monitor.services.api_keys import api_keys_list

PLATFORM_KEY = "(platform)"  # the organization column of a key of none


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else instant.strftime("%Y-%m-%d %H:%M:%SZ")


class Command(BaseCommand):
    help = (
        "List the API keys: name, organization ((platform): every store), scope, created, "
        "last used (UTC), and revoked ones as such."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = api_keys_list()
        if not keys:
            self.stdout.write("No API keys. Make one with create_api_key NAME --scope read|write.")
            return
        rows = [("name", "organization", "scope", "created", "last used", "revoked")] + [
            (
                key.name,
                key.organization.slug if key.organization else PLATFORM_KEY,
                key.scope,
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
            for key in keys
        ]
        for line in table_lines(rows):
            self.stdout.write(line)
