"""drf-spectacular postprocessing hooks.

document_access: what every operation may answer besides its own, written once
here rather than on every view: the 401 and 403 of the API keys (while they
are required), the 429 of the throttles, and the OpenAPI links from
trigger_report's report_id to get_report, which clients and stateful testing
(schemathesis) follow; the pattern of every report id; and the trigger body's
refusal of unknown fields.

exact_values: the constraints the server enforces on values that serializers
cannot say (the rules of §1 as patterns, the bodies of rows): a request the
schema allows is never refused for its form, one it forbids never taken.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import AllowAny

from monitor.ingest import patterns
from monitor.selectors import REPORT_ID_PATTERN

_ERROR = {"$ref": "#/components/schemas/Error"}


def document_access(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    for path, _, method, view in generator.endpoints:
        operation = result["paths"].get(path, {}).get(method.lower())
        if operation is None:  # a view left out of the schema (the schema's own, the docs)
            continue
        responses = operation["responses"]
        view_class = view.cls
        if settings.API_KEYS_REQUIRED and not all(
            issubclass(permission, AllowAny) for permission in view_class.permission_classes
        ):
            responses.setdefault("401", _error("No API key, or an unknown or revoked one."))
            responses["401"]["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            }
            responses.setdefault("403", _error("The API key's scope does not allow this."))
        if operation.get("operationId") != "healthz":  # the only one that needs no database
            responses.setdefault(
                "503", _error("The database is unavailable or busy; try again shortly.")
            )
        if method in ("POST", "PUT", "PATCH"):
            responses.setdefault("413", _error("The request body is over the size limit."))
        if view_class.throttle_classes:
            responses.setdefault("429", _error("Too many requests."))
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request.",
                }
            }
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "report_id":
                # Any other text is a 404 at once (selectors.is_possible_report_id).
                parameter["schema"]["pattern"] = f"^{REPORT_ID_PATTERN}$"
        if operation.get("operationId") == "trigger_report":
            responses["200"]["links"] = {
                name: {
                    "operationId": target,
                    "parameters": {"report_id": "$response.body#/report_id"},
                    "description": "The report just triggered.",
                }
                for name, target in (
                    ("GetReport", "get_report"),
                    ("GetReportByQuery", "get_report_by_query"),
                )
            }
    # TriggerRequestSerializer refuses unknown fields (a misspelt as_of).
    result["components"]["schemas"]["TriggerRequest"]["additionalProperties"] = False
    return result


def _error(description: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ERROR}}, "description": description}


# The operations that check the path's store id by the rules (400 with the
# reason); the others read any stored id (404 when none has it).
_STORE_ID_CHECKED = {
    "store_business_hours_replace",
    "store_timezone_set",
    "store_special_date_set",
    "store_organization_set",
}
_ROW_MEDIA_TYPES = ("application/json", "application/x-ndjson", "text/csv")
# JSON and NDJSON rows are values of any kind: one that is not an object with a
# string for each column is a row rejected with its reason (in the 200), not a
# refused body.
_ANY_OTHER_ROW = {"description": "Anything else: a row rejected, with its reason in the answer."}


def exact_values(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    schemas = result["components"]["schemas"]
    for methods in result["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if (
                    parameter["name"] == "store_id"
                    and operation["operationId"] in _STORE_ID_CHECKED
                ):
                    parameter["schema"] = {"type": "string", "pattern": patterns.store_id_pattern()}
                if parameter["name"] == "date":
                    parameter["schema"] = {"type": "string", "pattern": patterns.LOCAL_DATE_PATTERN}
            body = operation.get("requestBody")
            if body is not None and set(body["content"]) == set(_ROW_MEDIA_TYPES):
                _rows_body(body, schemas)
    # A date's special hours: at least one row (DELETE removes the date).
    special = result["paths"]["/api/monitor/stores/{store_id}/special_hours/{date}"]["put"]
    special["requestBody"]["content"]["application/json"]["schema"]["minItems"] = 1
    _times_of_a_row(schemas["HoursDay"])
    _times_of_a_row(schemas["SpecialHoursTimes"])
    schemas["HoursDay"]["properties"]["day"]["pattern"] = patterns.DAY_PATTERN
    zone = schemas["Timezone"]
    zone["properties"]["timezone_str"]["pattern"] = patterns.timezone_pattern()
    zone["additionalProperties"] = False  # the one key (store_edits.store_timezone_set)
    return result


def _rows_body(body: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A POST of rows (monitor.api.ingest): JSON, NDJSON or CSV, the same rows."""
    content = body["content"]
    row_ref = content["application/json"]["schema"]["items"]
    row = schemas[row_ref["$ref"].rsplit("/", 1)[1]]
    limit = {"maxItems": settings.INGEST_MAX_ROWS}  # more: 413
    items = {"anyOf": [row_ref, _ANY_OTHER_ROW]}
    body["required"] = True  # an empty body is refused (400)
    content["application/json"]["schema"] = {"type": "array", "items": items, **limit}
    # A line a row; no line at all is an empty body.
    content["application/x-ndjson"]["schema"] = {
        "type": "array",
        "items": items,
        "minItems": 1,
        **limit,
        "description": "One JSON value a line (an array here: its items, a line each).",
    }
    # The header names the row's columns (its keys); every field is text. Extra
    # columns are ignored; a header without a required column is refused (400).
    content["text/csv"]["schema"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {name: {"type": "string"} for name in row["properties"]},
            "required": row.get("required", []),
            "additionalProperties": {"type": "string"},
        },
        "minItems": 1,
        **limit,
        "description": "A header row, then a line a row (an array of objects here: the "
        "header is their keys).",
    }


def _times_of_a_row(row: dict[str, Any]) -> None:
    """Both times of a row (§10.1): both empty (closed), or both times (open)."""
    times = {"start_time_local", "end_time_local"}
    row["anyOf"] = [
        {"properties": {name: {"pattern": pattern} for name in times}}
        for pattern in (patterns.EMPTY_PATTERN, patterns.LOCAL_TIME_PATTERN)
    ]
