"""Who sees and changes what: the one place organizations are enforced.

A `Scope` is the caller's reach: the platform (a platform API key, a staff
user, or anyone where keys are off: `make run`) reaches every store and
every report; an organization (its API key, its users) only its own. Every
read and write of stores and reports takes its rows from a Scope, and
nothing else: the services require one, the API and the pages derive it from
the request in one place each (monitor.api.access, monitor.pages.access),
and tests/test_scope_every_url.py walks every URL with another
organization's ids.

What is out of reach answers exactly as what does not exist: another
organization's store, an unassigned store and a made-up id are the same
"no store", so existence never leaks. Writes are the exception that cannot
help it: a row naming another's store is rejected with that reason, since a
store id is unique across the platform and a new one is created in the
writer's organization.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from monitor.db.base import Batch
from monitor.ingest.reader import RowErrors
from monitor.ingest.rules import EVERY_STORE
from monitor.models import Channel, Incident, Organization, Report, Store
from monitor.selectors import ALL_STORES, StoreRange

# Store ids looked up per query when an organization's rows are checked.
_LOOKUP_CHUNK = 500


class PlatformOnlyError(PermissionError):
    """An organization asked for what only the platform may do (the message says what)."""


@dataclass(frozen=True)
class Scope:
    """The platform (organization None) or one organization."""

    organization: Organization | None = None

    @classmethod
    def platform(cls) -> Scope:
        return cls(None)

    @property
    def is_platform(self) -> bool:
        return self.organization is None

    @property
    def organization_id(self) -> int | None:
        return None if self.organization is None else self.organization.pk

    def __str__(self) -> str:
        return "the platform" if self.organization is None else f"organization {self.organization}"

    # ---- reads -------------------------------------------------------------------------------

    def stores(self) -> QuerySet[Store]:
        """The stores it may see: all of them, or its organization's."""
        if self.organization is None:
            return Store.objects.all()
        return Store.objects.filter(organization=self.organization)

    def store(self, store_id: str) -> Store | None:
        """Its store with this id; None when there is none or it is out of reach (alike)."""
        if "\x00" in store_id:  # PostgreSQL text cannot hold NUL: no stored id has one
            return None
        # Not .first(): its ORDER BY id can make PostgreSQL walk the primary key instead.
        try:
            return self.stores().get(store_id=store_id)
        except Store.DoesNotExist:
            return None

    def store_range(self, first: str | None = None, end: str | None = None) -> StoreRange:
        """Its stores whose store_id s has first <= s < end (a report part's)."""
        return StoreRange(first, end, organization_id=self.organization_id)

    @property
    def all_stores(self) -> StoreRange:
        return ALL_STORES if self.organization is None else self.store_range()

    def reports(self) -> QuerySet[Report]:
        """The reports it may read: every report, or those its organization triggered."""
        if self.organization is None:
            return Report.objects.all()
        return Report.objects.filter(organization=self.organization)

    def channels(self) -> QuerySet[Channel]:
        """The notification channels it may see and change: every channel, or its
        organization's (which receive its stores' events only)."""
        if self.organization is None:
            return Channel.objects.all()
        return Channel.objects.filter(organization=self.organization)

    def own_reports(self) -> QuerySet[Report]:
        """The reports it triggered itself (the platform's: those of every store):
        what it reuses, and the fleet it is shown by default."""
        return Report.objects.filter(organization=self.organization)

    def incidents(self) -> QuerySet[Incident]:
        """The incidents it may see: every store's, or its organization's stores'."""
        if self.organization is None:
            return Incident.objects.all()
        return Incident.objects.filter(store__organization=self.organization)

    def narrowed(self, slug: str) -> Scope | None:
        """The platform's view of one organization (the pages' and lists' filter),
        an organization's of itself; None when the caller knows no such organization."""
        if self.organization is not None:
            return self if slug == self.organization.slug else None
        organization = Organization.objects.filter(slug=slug).first()
        return None if organization is None else Scope(organization)

    # ---- writes ------------------------------------------------------------------------------

    def require_platform(self, what: str) -> None:
        """Raise PlatformOnlyError unless it is the platform; `what` names the operation."""
        if self.organization is not None:
            raise PlatformOnlyError(f"{what} is for platform keys and staff only")

    def rows_within(self, batches: Iterable[Batch], errors: RowErrors) -> Iterable[Batch]:
        """A load's parsed batches (rows of (line, store_id, …)) with the rows of
        stores out of reach rejected into `errors`; a store id new to the platform
        is created in the organization first. The platform's pass untouched."""
        if self.organization is None:
            return batches
        # Whole, before the load starts writing (a COPY holds the connection):
        # only HTTP bodies, bounded by INGEST_MAX_ROWS, load in an organization's scope.
        # Batches left empty are dropped: a load expects rows in each one.
        return [mine for batch in batches if (mine := self._rows_of_mine(batch, errors))]

    def _rows_of_mine(self, batch: Batch, errors: RowErrors) -> Batch:
        named = {row[1] for row in batch} - {EVERY_STORE}
        owners = self._owners_claiming_new(named)
        mine = []
        for row in batch:
            if row[1] == EVERY_STORE:
                # An exclusion of "every store" (§10.3): of every store of its organization.
                mine += [(row[0], store_id, *row[2:]) for store_id in self._store_ids()]
            elif owners[row[1]] == self.organization_id:
                mine.append(row)
            else:
                errors.add(row[0], self.not_mine(row[1]))
        return mine

    def _store_ids(self) -> list[str]:
        return list(self.stores().order_by("store_id").values_list("store_id", flat=True))

    def not_mine(self, store_id: str) -> str:
        """The reason a row naming a store out of reach is rejected."""
        return f"store_id {store_id!r} is not a store of {self}"

    def _owners_claiming_new(self, store_ids: set[str]) -> dict[str, int | None]:
        """Each store's organization id, once the ids no store has yet are created
        in this organization (a concurrent load may have created one first: its
        owner is what the database holds afterwards)."""
        wanted = sorted(store_ids)  # sorted: concurrent loads lock new stores in one order
        Store.objects.bulk_create(
            [Store(store_id=store_id, organization=self.organization) for store_id in wanted],
            ignore_conflicts=True,
        )
        owners: dict[str, int | None] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            owners.update(
                Store.objects.filter(store_id__in=chunk).values_list("store_id", "organization_id")
            )
        return owners

    def store_writable(self, store_id: str) -> bool:
        """Whether it may change the store `store_id`: one of its own, or an id no
        store has yet (which its write creates in its organization)."""
        if self.organization is None:
            return True
        owner = Store.objects.filter(store_id=store_id).values_list("organization_id", flat=True)
        return not owner.exists() or owner[0] == self.organization_id


PLATFORM = Scope.platform()
