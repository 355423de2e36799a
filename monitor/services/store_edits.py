"""Editing one store's business hours or time zone (the API's PUT endpoints).

Each edit is a one-store load through the same loaders as a file (same value
rules, same reasons, same replace and upsert), all or nothing: a PUT states
the store's whole hours or its zone, so one invalid row refuses the edit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError
from monitor.ingest.loaders import HOURS, ZONES, Source
from monitor.ingest.objects import NumberedItems, ObjectsInput
from monitor.ingest.reader import RowErrors
from monitor.models import BusinessHours, Store
from monitor.scope import Scope
from monitor.services import incidents
from monitor.services.data_version import data_changed
from monitor.services.imports import load
from monitor.services.stores import HoursRow, StoreNotFoundError

STORE_ID_KEY = "store_id"
TIMEZONE_KEY = "timezone_str"


class StoreEditError(ValueError):
    """The edit is refused (the message says why); nothing was changed."""


def store_hours_replace(store_id: str, rows: Any, *, scope: Scope) -> list[HoursRow]:
    """Make `rows` (a list of {day, start_time_local, end_time_local}) the hours of
    the store, one of `scope`'s or a new one (created in its organization).

    An empty list removes them all: the store is then open all week (docs/report-semantics.md §4).
    Raises StoreNotFoundError for a store out of the scope's reach.
    """
    store_id = _writable_store_id(store_id, scope)
    if not isinstance(rows, list):
        raise StoreEditError("a JSON array of {day, start_time_local, end_time_local} is expected")
    with transaction.atomic():
        if rows:
            items = NumberedItems(range(1, len(rows) + 1), [_with_store(store_id, r) for r in rows])
            load_all_or_nothing(HOURS, items, scope)
        else:
            store, _ = Store.objects.get_or_create(
                store_id=store_id, defaults={"organization": scope.organization}
            )
            if not scope.is_platform and store.organization_id != scope.organization_id:
                raise StoreNotFoundError(f"no store with id {store_id!r}")  # created meanwhile
            BusinessHours.objects.filter(store=store).delete()
            data_changed()  # as every load does (load() did for the other cases)
            incidents.evaluate_on_commit([store.pk])
    return store_hours(store_id)


def store_hours(store_id: str) -> list[HoursRow]:
    stored = BusinessHours.objects.filter(store__store_id=store_id).order_by(
        "day_of_week", "start_time_local", "end_time_local"
    )
    return [HoursRow(h.day_of_week, h.start_time_local, h.end_time_local) for h in stored]


def store_timezone_set(store_id: str, body: Any, *, scope: Scope) -> Store:
    """Set the zone of the store (one of `scope`'s, or a new one) from
    {"timezone_str": "<IANA name>"}. Raises StoreNotFoundError for a store out of reach."""
    store_id = _writable_store_id(store_id, scope)
    if not isinstance(body, dict) or set(body) != {TIMEZONE_KEY}:
        raise StoreEditError(f'a JSON object {{"{TIMEZONE_KEY}": "<IANA zone name>"}} is expected')
    with transaction.atomic():
        item = {STORE_ID_KEY: store_id, **body}
        load_all_or_nothing(ZONES, NumberedItems([1], [item]), scope, numbered=False)
    return Store.objects.get(store_id=store_id)


def _writable_store_id(store_id: str, scope: Scope) -> str:
    """The path's store id, valid by §1 and within the scope's reach (or new):
    another organization's store answers as a store that does not exist."""
    try:
        valid = rules.store_id(store_id.strip())
    except RowRejectedError as error:
        raise StoreEditError(f"store_id {error}") from None
    if not scope.store_writable(valid):
        raise StoreNotFoundError(f"no store with id {valid!r}")
    return valid


def _with_store(store_id: str, row: Any) -> Any:
    """The row with the path's store_id (which overrides any in the row itself)."""
    if not isinstance(row, dict):
        return row  # rejected by the loader, with the reason
    others = {key: value for key, value in row.items() if key.strip().lower() != STORE_ID_KEY}
    return {STORE_ID_KEY: store_id, **others}


def load_all_or_nothing(
    source: Source, items: NumberedItems, scope: Scope, *, numbered: bool = True
) -> None:
    """Load the rows in the caller's transaction, as `scope` may; StoreEditError
    (and a rollback) if any is bad."""
    errors = RowErrors()
    rows = ObjectsInput("the request body", items, source.columns, size=0)
    load(source, rows, errors, scope=scope)
    if errors.count:
        reasons = "; ".join(
            f"item {error.line}: {error.reason}" if numbered else error.reason
            for error in errors.first
        )
        more = errors.count - len(errors.first)
        raise StoreEditError(
            f"{reasons}{f' (and {more} more)' if more else ''}; nothing was changed"
        )
