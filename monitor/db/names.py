"""The one home of hand-written SQL's names: the models' tables and columns, quoted.

Selectors and the bulk loads (monitor.ingest) write SQL by hand where the ORM
would build an object per row; they take every table and column name from
here, so that a model change shows up in one place. The statements that
differ between PostgreSQL and SQLite live beside this module, one file per
database (monitor.db.postgresql, monitor.db.sqlite), for reads and loads alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from django.db import connection
from django.db.models import Field, Model

from monitor.models import BusinessHours, Exclusion, SpecialHours, StatusPoll, Store


@dataclass(frozen=True)
class SqlNames:
    stores: str
    store_pk: str
    store_id: str
    timezone: str
    store_organization: str
    hours: str
    hours_store: str
    day: str
    start: str
    end: str
    special: str
    special_store: str
    special_date: str
    special_start: str
    special_end: str
    exclusions: str
    exclusion_pk: str
    exclusion_store: str
    exclusion_start: str
    exclusion_end: str
    exclusion_reason: str
    polls: str
    polls_unquoted: str  # for lookups in the database's catalog
    poll_pk: str
    poll_store: str
    poll_time: str
    poll_active: str

    @property
    def poll_columns(self) -> str:
        """The columns a poll load writes, in the order it writes them."""
        return f"{self.poll_store}, {self.poll_time}, {self.poll_active}"


def sql_names() -> SqlNames:
    """The names quoted for the current connection's database."""
    quote = connection.ops.quote_name
    return SqlNames(
        stores=quote(Store._meta.db_table),
        store_pk=_column(Store, "id"),
        store_id=_column(Store, "store_id"),
        timezone=_column(Store, "timezone_str"),
        store_organization=_column(Store, "organization"),
        hours=quote(BusinessHours._meta.db_table),
        hours_store=_column(BusinessHours, "store"),
        day=_column(BusinessHours, "day_of_week"),
        start=_column(BusinessHours, "start_time_local"),
        end=_column(BusinessHours, "end_time_local"),
        special=quote(SpecialHours._meta.db_table),
        special_store=_column(SpecialHours, "store"),
        special_date=_column(SpecialHours, "date"),
        special_start=_column(SpecialHours, "start_time_local"),
        special_end=_column(SpecialHours, "end_time_local"),
        exclusions=quote(Exclusion._meta.db_table),
        exclusion_pk=_column(Exclusion, "id"),
        exclusion_store=_column(Exclusion, "store"),
        exclusion_start=_column(Exclusion, "start_utc"),
        exclusion_end=_column(Exclusion, "end_utc"),
        exclusion_reason=_column(Exclusion, "reason"),
        polls=quote(StatusPoll._meta.db_table),
        polls_unquoted=StatusPoll._meta.db_table,
        poll_pk=_column(StatusPoll, "id"),
        poll_store=_column(StatusPoll, "store"),
        poll_time=_column(StatusPoll, "timestamp_utc"),
        poll_active=_column(StatusPoll, "active"),
    )


class Table(Enum):
    """A table a load writes, by its name in messages."""

    POLLS = "polls"
    STORES = "stores"
    HOURS = "business hours"
    SPECIAL_HOURS = "special hours"
    EXCLUSIONS = "exclusions"

    def sql_name(self) -> str:
        names = sql_names()
        return {
            Table.POLLS: names.polls,
            Table.STORES: names.stores,
            Table.HOURS: names.hours,
            Table.SPECIAL_HOURS: names.special,
            Table.EXCLUSIONS: names.exclusions,
        }[self]


def _column(model: type[Model], field: str) -> str:
    concrete = model._meta.get_field(field)
    assert isinstance(concrete, Field)  # a concrete field: it has a column
    assert concrete.column is not None
    return connection.ops.quote_name(concrete.column)
