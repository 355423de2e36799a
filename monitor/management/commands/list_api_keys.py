"""`python manage.py list_api_keys`: every key's name, scope, creation and last use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand

from monitor.services.api_keys import api_keys_list


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else instant.strftime("%Y-%m-%d %H:%M:%SZ")


class Command(BaseCommand):
    help = "List the API keys: name, scope, created, last used (UTC), and revoked ones as such."

    def handle(self, *args: Any, **options: Any) -> None:
        keys = api_keys_list()
        if not keys:
            self.stdout.write("No API keys. Make one with create_api_key NAME --scope read|write.")
            return
        rows = [("name", "scope", "created", "last used", "revoked")] + [
            (
                key.name,
                key.scope,
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
            for key in keys
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
