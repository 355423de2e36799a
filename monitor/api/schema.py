"""A drf-spectacular postprocessing hook: what every operation may answer besides its own.

Written once here rather than on every view: the 401 and 403 of the API keys
(while they are required), the 429 of the throttles, and the OpenAPI links
from trigger_report's report_id to get_report, which clients and stateful
testing (schemathesis) follow; the pattern of every report id; and the trigger
body's refusal of unknown fields.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import AllowAny

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
