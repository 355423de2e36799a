"""The one home of hand-written SQL's names: the models' tables and columns, quoted.

Selectors and the bulk loads (monitor.ingest) write SQL by hand where the ORM
would build an object per row; they take every table and column name from
here, so that a model change shows up in one place. The statements that
differ between PostgreSQL and SQLite live in monitor.ingest.backends (loads)
and monitor.selectors (reads).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from monitor.models import BusinessHours, StatusPoll, Store


@dataclass(frozen=True)
class SqlNames:
    stores: str
    store_pk: str
    store_id: str
    timezone: str
    hours: str
    hours_store: str
    day: str
    start: str
    end: str
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
        store_pk=quote(Store._meta.pk.column),
        store_id=quote(Store._meta.get_field("store_id").column),
        timezone=quote(Store._meta.get_field("timezone_str").column),
        hours=quote(BusinessHours._meta.db_table),
        hours_store=quote(BusinessHours._meta.get_field("store").column),
        day=quote(BusinessHours._meta.get_field("day_of_week").column),
        start=quote(BusinessHours._meta.get_field("start_time_local").column),
        end=quote(BusinessHours._meta.get_field("end_time_local").column),
        polls=quote(StatusPoll._meta.db_table),
        polls_unquoted=StatusPoll._meta.db_table,
        poll_pk=quote(StatusPoll._meta.pk.column),
        poll_store=quote(StatusPoll._meta.get_field("store").column),
        poll_time=quote(StatusPoll._meta.get_field("timestamp_utc").column),
        poll_active=quote(StatusPoll._meta.get_field("active").column),
    )
