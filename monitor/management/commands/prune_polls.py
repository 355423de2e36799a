"""`python manage.py prune_polls --older-than DAYS`: delete polls no recent report reads."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitor.management.older_than import add_older_than, older_than_days
from monitor.services.poll_retention import polls_prune, prune_cutoff


class Command(BaseCommand):
    help = (
        "Delete old polls while keeping every report as of DAYS days ago or later exactly as "
        "it was: the polls taken over a week before that cut-off go (a report reads one week "
        "back), except each store's last one, from which reports extrapolate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_older_than(
            parser, required=True, help="the cut-off, in days before now (fractions allowed)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pruned = polls_prune(cutoff=prune_cutoff(older_than_days(options)))
        self.stdout.write(
            f"deleted {pruned.deleted} polls taken before {pruned.horizon.isoformat()} "
            f"(a week before the cut-off {pruned.cutoff.isoformat()}: reports as of the "
            f"cut-off or later are unchanged); kept the last one of {pruned.kept} stores"
        )
