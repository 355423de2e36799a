"""`python manage.py create_api_key NAME --scope read|write [--organization SLUG]`: a new
API key, shown once: an organization's, or without --organization the platform's."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.models import ApiKey
from monitor.services.api_keys import ApiKeyError, api_key_create


class Command(BaseCommand):
    help = (
        "Make an API key. It is printed once, alone on the last line (only a keyed hash "
        "is stored): keep it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="who or what uses the key (unique)")
        parser.add_argument(
            "--scope",
            choices=ApiKey.Scope.values,
            default=ApiKey.Scope.READ,
            help="read: every GET and trigger_report (default); write: also sending data",
        )
        parser.add_argument(
            "--organization",
            metavar="SLUG",
            help="the key sees and changes only this organization's stores and reports "
            "(default: a platform key, which reaches every store)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            new = api_key_create(
                name=options["name"], scope=options["scope"], organization=options["organization"]
            )
        except ApiKeyError as error:
            raise CommandError(str(error)) from error
        owner = new.api_key.organization
        whose = f"organization {owner.slug}" if owner else "platform"
        self.stdout.write(
            f"API key {new.api_key.name!r} ({whose}, scope {new.api_key.scope}). It is shown only "
            "now; send it as `Authorization: Bearer <key>` or `X-Api-Key: <key>`:"
        )
        self.stdout.write(new.key)
