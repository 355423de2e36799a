"""`python manage.py create_organization_user USERNAME --organization SLUG`: a user of the pages
who sees only the organization's stores and reports.

The password is asked for twice, or with --noinput read from DJANGO_USER_PASSWORD
(as createsuperuser reads DJANGO_SUPERUSER_PASSWORD).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitor.services.organizations import OrganizationError, organization_user_create

PASSWORD_VARIABLE = "DJANGO_USER_PASSWORD"  # noqa: S105  # the variable's name, not a password


class Command(BaseCommand):
    help = (
        "Make a Django user who belongs to an organization: the pages show them its stores "
        f"and reports only. Password: asked for, or with --noinput from {PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--organization", required=True, metavar="SLUG")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help=f"ask nothing: the password comes from {PASSWORD_VARIABLE}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(interactive=options["interactive"])
        try:
            user = organization_user_create(
                username=options["username"], slug=options["organization"], password=password
            )
        except OrganizationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"User {user.get_username()!r} of organization {options['organization']!r} created."
        )

    def _password(self, *, interactive: bool) -> str:
        if not interactive:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"--noinput needs the password in {PASSWORD_VARIABLE}")
            return password
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ; nothing was created")
        if not password:
            raise CommandError("a password cannot be empty")
        return password
