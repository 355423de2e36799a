"""`python manage.py revoke_api_key NAME`: the key is refused from now on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.services.api_keys import ApiKeyError, api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key: requests with it get 401 from now on. Its name stays taken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            api_key = api_key_revoke(name=options["name"])
        except ApiKeyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"API key {api_key.name!r} revoked.")
