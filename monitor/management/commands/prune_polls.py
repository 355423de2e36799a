"""`python manage.py prune_polls --older-than DAYS`: delete polls no recent report reads;
`--outside-range`: delete polls that amendment 5 would not load (before 1970, or from
the future), stored before that rule."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from monitor.management.database import DataCommand
from monitor.management.older_than import add_older_than, older_than_days
from monitor.services.poll_retention import (
    PollsPrunePreview,
    polls_outside_range_prune,
    polls_prune,
    polls_prune_preview,
    prune_cutoff,
)


class Command(DataCommand):
    help = (
        "Delete old polls while keeping every report as of DAYS days ago or later exactly as "
        "it was: the polls taken over a week before that cut-off go (a report reads one week "
        "back), except each store's last one, from which reports extrapolate. With "
        "--outside-range, delete the polls dated before 1970 or more than a day from now "
        "(stored before such polls were refused; no report reads them)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_older_than(parser, help="the cut-off, in days before now (fractions allowed)")
        parser.add_argument(
            "--outside-range",
            action="store_true",
            help="delete the polls dated before 1970-01-01 or more than 24 hours from now",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="delete nothing: say what --older-than would delete, and whom it would reach",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["older_than"] is None and not options["outside_range"]:
            raise CommandError("give --older-than DAYS, --outside-range, or both")
        if options["dry_run"]:
            if options["outside_range"]:
                raise CommandError("--dry-run previews --older-than only")
            self._preview(polls_prune_preview(cutoff=prune_cutoff(older_than_days(options))))
            return
        if options["outside_range"]:
            outside = polls_outside_range_prune()
            self.stdout.write(
                f"deleted {outside.deleted} polls dated before {outside.earliest.isoformat()} "
                f"or after {outside.latest.isoformat()} (24 hours from now): no report read them"
            )
        if options["older_than"] is not None:
            cutoff = prune_cutoff(older_than_days(options))
            self._warn_if_historical(polls_prune_preview(cutoff=cutoff))
            pruned = polls_prune(cutoff=cutoff)
            self.stdout.write(
                f"deleted {pruned.deleted} polls taken before {pruned.horizon.isoformat()} "
                f"(a week before the cut-off {pruned.cutoff.isoformat()}: reports as of the "
                f"cut-off or later are unchanged); kept the last one of {pruned.kept} stores"
            )

    def _preview(self, preview: PollsPrunePreview) -> None:
        self.stdout.write(
            f"dry run, nothing deleted: would delete {preview.deleting} polls taken before "
            f"{preview.horizon.isoformat()} (a week before the cut-off "
            f"{preview.cutoff.isoformat()}: reports as of the cut-off or later would be "
            f"unchanged); would keep the last one of {preview.keeping} stores"
        )
        self._warn_if_historical(preview)

    def _warn_if_historical(self, preview: PollsPrunePreview) -> None:
        """Most stores losing all their polls but one means the data is older than
        the cut-off assumes: say so before (or instead of) deleting."""
        if not preview.historical:
            return
        latest = preview.latest_poll.isoformat() if preview.latest_poll else "none"
        share = 100 * preview.stores_all_before // preview.stores
        self.stderr.write(
            self.style.WARNING(
                f"warning: {preview.stores_all_before} of {preview.stores} stores ({share} %) "
                f"have no poll since {preview.horizon.isoformat()}: the cut-off removes every "
                f"poll of theirs but the last. The latest poll is from {latest}: is this "
                "historical data? Reports as of earlier instants would change; a larger "
                "--older-than keeps them."
            )
        )
