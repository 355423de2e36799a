"""Quoted table and column names of the models, for the bulk loads' hand-written SQL."""

from __future__ import annotations

from django.db import connection

from monitor.models import BusinessHours, StatusPoll, Store


def sql_names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "stores": quote(Store._meta.db_table),
        "store_pk": quote(Store._meta.pk.column),
        "store_id": quote(Store._meta.get_field("store_id").column),
        "timezone": quote(Store._meta.get_field("timezone_str").column),
        "hours": quote(BusinessHours._meta.db_table),
        "hours_store": quote(BusinessHours._meta.get_field("store").column),
        "day": quote(BusinessHours._meta.get_field("day_of_week").column),
        "start": quote(BusinessHours._meta.get_field("start_time_local").column),
        "end": quote(BusinessHours._meta.get_field("end_time_local").column),
        "polls": quote(StatusPoll._meta.db_table),
        "id": quote(StatusPoll._meta.pk.column),
        "store": quote(StatusPoll._meta.get_field("store").column),
        "time": quote(StatusPoll._meta.get_field("timestamp_utc").column),
        "active": quote(StatusPoll._meta.get_field("active").column),
    }
