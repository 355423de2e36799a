"""Schemathesis over the whole OpenAPI schema: every operation, positive and
negative data, every check, and the stateful links (trigger_report →
get_report), against the app in this process (its WSGI application), with
API keys off (as `make run`) and on (a write key sent with every request; the
checks also send requests without it, which must get 401).

The schema is exact (monitor.api.schema), so no check is waived but two
(CONFIG: a relation of two query parameters, which OpenAPI cannot declare, and
the channels' kind-dependent bodies, left to their owners): a
request it allows is never refused for its form, one it forbids never taken,
and every answer is as it says. Rows go in all three content types:
schemathesis writes JSON itself; NDJSON and CSV are written here from the
same rows, as the schema describes them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from pytest_django.fixtures import Settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from monitor.api.serializers import AS_OF_FORMAT
from monitor.ingest import rules
from monitor.models import ApiKey
from monitor.services.api_keys import api_key_create
from tests.report_data import store_spec_examples

# Each run sends EXAMPLES cases to every operation, some minutes in all: above
# the suite's 300 s timeout on a loaded machine, though nothing hangs.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(1200)]

EXAMPLES = 60
HYPOTHESIS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


NDJSON, CSV = "application/x-ndjson", "text/csv"
MAY_BE_400 = {
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429", "5xx"]
    }
}
CONFIG = {
    # Keys are sent by the tests themselves (headers), not made up.
    "generation": {"max-examples": EXAMPLES, "with-security-parameters": False},
    "operations": [
        {
            # The one waiver left: since must be before until, a relation of two
            # query parameters that OpenAPI cannot declare (each parameter has
            # a schema of its own); since >= until answers 400 with the reason.
            "include-operation-id": "incidents",
            "checks": MAY_BE_400,
        },
        {
            # Which of url and to a channel takes depends on its kind, and whether
            # an address or an Apprise URL is valid is more than a pattern: left
            # to the channels' owners (a discriminated oneOf would say the first).
            "include-operation-id": "channel_create",
            "checks": MAY_BE_400,
        },
    ],
}


def _is_rows(rows: Any, media_type: str | None) -> bool:
    """Whether a body can be sent as `media_type`: NDJSON has no "not an array" (one
    value alone is a body of one row), and a CSV's rows are objects of text."""
    if media_type == "application/x-ndjson":
        return isinstance(rows, list)
    if media_type == "text/csv":
        return isinstance(rows, list) and all(
            isinstance(row, dict) and all(type(value) is str for value in row.values())
            for row in rows
        )
    return True


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, rows: Any) -> bytes:
    """An array of rows as NDJSON: a line each (no lines: an empty body)."""
    # json, not orjson: JSON's integers have no 64-bit bound.
    return (
        "".join(json.dumps(row) + "\n" for row in rows).encode() if _is_rows(rows, NDJSON) else b""
    )


@schemathesis.serializer("text/csv")
def csv_rows(context: Any, rows: Any) -> bytes:
    """An array of objects as CSV: a header of the keys every row has (one that
    some row lacks is no column), then a line a row. No rows: an empty body."""
    if not rows or not _is_rows(rows, CSV):
        return b""
    header = [key for key in rows[0] if all(key in row for row in rows)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([row[key] for key in header] for row in rows)
    return out.getvalue().encode()


def _as_of_text(instant: datetime, minutes: int, separator: str, digits: int) -> str:
    """`instant` spelled as the as-of pattern allows, at an offset of `minutes`."""
    local = instant.astimezone(timezone(timedelta(minutes=minutes)))
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits]
    if minutes == 0:
        return text + ("", "Z", "+00:00")[digits % 3]
    sign = "+" if minutes > 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# The as-of format: an instant from 1970 to now (the server allows 24 hours
# more), at any offset, in any of the pattern's spellings. From a second after
# the epoch: cutting the fraction must not take it before.
schemathesis.openapi.format(
    AS_OF_FORMAT,
    st.builds(
        _as_of_text,
        st.datetimes(
            min_value=(rules.EARLIEST_INSTANT + timedelta(seconds=1)).replace(tzinfo=None),
            max_value=datetime.now(UTC).replace(tzinfo=None),
            timezones=st.just(UTC),
        ),
        st.integers(-(23 * 60 + 59), 23 * 60 + 59) | st.just(0),
        st.sampled_from(["T", " "]),
        st.integers(0, 6),
    ),
)


def _can_be_wrong(parameter: dict[str, Any]) -> bool:
    """Whether a parameter has values that break its schema: not a store id in a path
    (any non-empty text: a path has no empty segment to send)."""
    any_text = ({"type": "string"}, {"type": "string", "pattern": r"^[\s\S]+$"})
    return bool(parameter["in"] != "path" or parameter["schema"] not in any_text)


def load_schema(key: str | None) -> Any:
    """The app's schema, whose requests send `key` (when not None) as a bearer token."""
    config = SchemathesisConfig.from_dict(CONFIG)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), config=config
    )
    if key is not None:
        bearer = f"Bearer {key}"

        @schema.auth()
        class ReadKey:
            def get(self, case: Any, context: Any) -> str:
                return bearer

            def set(self, case: Any, data: str, context: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": data}

    return schema


@pytest.fixture(autouse=True)
def connections_kept() -> Iterator[None]:
    """Keep the test's database connection (and its transaction) across requests,
    as Django's test client does: the WSGI handler would close it at each end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["keys off", "keys on"])
def key(request: pytest.FixtureRequest, settings: Settings) -> str | None:
    """The key every request sends: none, or a write key (then required), which may
    use every operation."""
    store_spec_examples()
    # Throttles would answer 429 to most requests here (tests/api/test_access.py has them).
    settings.API_THROTTLE_RATES = {"read": None, "trigger": None, "write": None}
    if request.param == "keys off":
        return None
    settings.API_KEYS_REQUIRED = True
    return api_key_create(name="fuzz", scope=ApiKey.Scope.WRITE).key


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation(key: str | None, mode: GenerationMode) -> None:
    schema = load_schema(key)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.definition.raw["operationId"] for operation in operations} == {
        "trigger_report",
        "get_report",
        "get_report_by_query",
        "reports",
        "report_detail",
        "report_csv",
        "stores",
        "store",
        "healthz",
        "readyz",
        "metrics",
        "ingest_polls",
        "ingest_business_hours",
        "ingest_timezones",
        "store_business_hours_replace",
        "store_timezone_set",
        "ingest_special_hours",
        "exclusions",
        "ingest_exclusions",
        "exclusion_delete",
        "store_special_hours",
        "store_special_date_set",
        "store_special_date_delete",
        "ingest_store_organizations",
        "store_organization_set",
        "incidents",
        "incident",
        "channels",
        "channel_create",
        "channel_delete",
        "channel_test",
        "channel_deliveries",
    }
    for operation in operations:
        raw = operation.definition.raw
        if mode is GenerationMode.NEGATIVE and not (
            raw.get("requestBody") or any(map(_can_be_wrong, raw.get("parameters", [])))
        ):
            continue  # nothing to get wrong (the probes, /metrics, a store's special hours)

        @given(case=operation.as_strategy(generation_mode=mode))
        @HYPOTHESIS
        def call(case: Any) -> None:
            if _is_rows(case.body, case.media_type):  # else no such body exists to send
                case.call_and_validate()

        call()


def test_stateful_links(key: str | None) -> None:
    run_state_machine_as_test(
        load_schema(key).as_state_machine(),
        settings=hypothesis_settings(HYPOTHESIS, max_examples=20, stateful_step_count=6),
    )
