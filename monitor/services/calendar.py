"""A store's calendar (docs/report-semantics.md §10): its special dates and the exclusions,
read, set and removed one at a time (the API's calendar endpoints).

Setting a date goes through the same loader as a special hours file (same
value rules, same reasons, same replacement of the date's rows), all or
nothing. Every change bumps the data version in its transaction, so reports
made before it are not reused after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError
from monitor.ingest.loaders import SPECIAL_HOURS
from monitor.ingest.objects import NumberedItems
from monitor.models import Exclusion, SpecialHours, Store
from monitor.scope import Scope
from monitor.services import incidents
from monitor.services.data_version import data_changed
from monitor.services.store_edits import STORE_ID_KEY, StoreEditError, load_all_or_nothing
from monitor.services.stores import SpecialDate, store_special_dates

DATE_KEY = "date"
EXCLUSIONS_MAX_LIMIT = 1000


class CalendarNotFoundError(LookupError):
    """No such store, date or exclusion (the message says which)."""


@dataclass(frozen=True)
class ExclusionRow:
    id: int
    store_id: str  # "*": every store
    start_utc: datetime
    end_utc: datetime
    reason: str


@dataclass(frozen=True)
class ExclusionPage:
    total: int
    exclusions: tuple[ExclusionRow, ...]


def special_dates(
    store_id: str, *, scope: Scope, first: date | None = None, last: date | None = None
) -> list[SpecialDate]:
    """The special dates of the store, one of `scope`'s (within [first, last]
    when given), oldest first."""
    return store_special_dates(_store(store_id, scope), first=first, last=last)


def special_date_set(store_id: str, day: str, rows: Any, *, scope: Scope) -> SpecialDate:
    """Make `rows` (a list of {start_time_local, end_time_local}; both empty: closed)
    the store's special hours on `day` (YYYY-MM-DD): one of `scope`'s stores, or a
    new one (created in its organization)."""
    store_id = _valid(rules.store_id, "store_id", store_id)
    if not scope.store_writable(store_id):
        raise CalendarNotFoundError(f"no store with id {store_id!r}")
    day = _valid(rules.local_date, "date", day)
    if not isinstance(rows, list) or not rows:
        raise StoreEditError(
            "a non-empty JSON array of {start_time_local, end_time_local} is expected "
            '(both "": closed that date; DELETE removes the date)'
        )
    items = [_with_keys(row, {STORE_ID_KEY: store_id, DATE_KEY: day}) for row in rows]
    with transaction.atomic():
        load_all_or_nothing(SPECIAL_HOURS, NumberedItems(range(1, len(rows) + 1), items), scope)
    one_day = date.fromisoformat(day)
    (stored,) = special_dates(store_id, scope=scope, first=one_day, last=one_day)
    return stored


def special_date_delete(store_id: str, day: str, *, scope: Scope) -> None:
    """Remove the special hours on `day` of the store, one of `scope`'s: its
    regular hours apply again."""
    store = _store(store_id, scope)
    day = _valid(rules.local_date, "date", day)
    with transaction.atomic():
        deleted, _ = SpecialHours.objects.filter(store=store, date=day).delete()
        if not deleted:
            raise CalendarNotFoundError(f"store {store_id!r} has no special hours on {day}")
        data_changed()
        incidents.evaluate_on_commit([store.pk])


def exclusions_list(
    *, scope: Scope, store_id: str | None = None, limit: int = 100, offset: int = 0
) -> ExclusionPage:
    """The exclusions `scope` sees (an organization: its stores' and every store's),
    oldest start first; of one store: its own and every store's (`*`: those of
    every store only)."""
    exclusions = Exclusion.objects.filter(Q(store__in=scope.stores()) | Q(store__isnull=True))
    if store_id == rules.EVERY_STORE:
        exclusions = exclusions.filter(store__isnull=True)
    elif store_id is not None:
        store = _store(store_id, scope)
        exclusions = exclusions.filter(store=store) | exclusions.filter(store__isnull=True)
    page = exclusions.order_by("start_utc", "end_utc", "id").values_list(
        "id", "store__store_id", "start_utc", "end_utc", "reason"
    )[offset : offset + limit]
    return ExclusionPage(
        total=exclusions.count(),
        exclusions=tuple(
            ExclusionRow(pk, store or rules.EVERY_STORE, start, end, reason)
            for pk, store, start, end, reason in page
        ),
    )


def exclusion_delete(exclusion_id: int, *, scope: Scope) -> None:
    """Remove an exclusion: the platform any, an organization its stores' only
    (one of every store is the platform's)."""
    exclusions = Exclusion.objects.filter(pk=exclusion_id)
    if not scope.is_platform:
        exclusions = exclusions.filter(store__in=scope.stores())
    stores = list(exclusions.values_list("store_id", flat=True))  # [None]: of every store
    with transaction.atomic():
        deleted, _ = exclusions.delete()
        if not deleted:
            raise CalendarNotFoundError(f"no exclusion with id {exclusion_id}")
        data_changed()
        incidents.evaluate_on_commit(None if None in stores else stores)


def _store(store_id: str, scope: Scope) -> Store:
    store = scope.store(store_id)
    if store is None:
        raise CalendarNotFoundError(f"no store with id {store_id!r}")
    return store


def _valid(rule: Any, name: str, value: str) -> str:
    try:
        checked: str = rule(value.strip())
    except RowRejectedError as error:
        raise StoreEditError(f"{name} {error}") from None
    return checked


def _with_keys(row: Any, keys: dict[str, str]) -> Any:
    """The row with the path's values (which override any in the row itself)."""
    if not isinstance(row, dict):
        return row  # rejected by the loader, with the reason
    others = {key: value for key, value in row.items() if key.strip().lower() not in keys}
    return {**keys, **others}
