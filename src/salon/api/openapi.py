"""The OpenAPI document: every route's answers, errors included, and RealtimeKit's bearer
auth declared on every REST operation (and on the token check outside the prefix).

Success bodies come from each route's `response_model` (the shapes in
`salon.api.schemas`). Errors are filled in here: every REST operation may answer 400
(validation; also a NUL in the URL, as any route may), 401 (the token) and 404 (the
app, or the object), and 413 unless it is a GET (`body_limit`); routes add their own
(409, 503) with `schemas.errors`. FastAPI's 422 is dropped: salon answers validation errors with 400.

The bearer scheme is declared here rather than as a FastAPI security dependency, which
would run on every request only to feed the docs; the real check is `deps.current_app`
(and `body_limit.BodyLimit`). The same goes for the `account_id` and `app_id` path
parameters, which it reads without declaring.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from salon.api.routes import PREFIX
from salon.api.schemas.envelope import ERROR_STATUSES, Failure
from salon.core.schema import standard_bounds

_FAILURE_REF = {"$ref": "#/components/schemas/Failure"}

#: Routes outside the REST prefix that take the API token all the same (Cloudflare's
#: token check): without `security`, generated clients would not send it.
BEARER_OUTSIDE_PREFIX = frozenset({"/client/v4/user/tokens/verify"})


def install(app: FastAPI) -> None:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   routes=app.routes)
            components = document.setdefault("components", {})
            components["securitySchemes"] = {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token from `salon apps create`."}}
            components.setdefault("schemas", {}).update(_failure_schemas())
            for schema_name in ("HTTPValidationError", "ValidationError"):
                components["schemas"].pop(schema_name, None)
            for path, operations in document["paths"].items():
                for method, operation in operations.items():
                    operation.setdefault("responses", {}).pop("422", None)
                    _declare_errors(operation, 400)  # a NUL in the URL, on any route
                    if path.startswith(PREFIX):
                        operation["security"] = [{"bearer": []}]
                        _declare_path_ids(path, operation)
                        _declare_errors(operation, 401, 404,
                                        *([413] if method != "get" else []))
                    if path in BEARER_OUTSIDE_PREFIX:
                        operation["security"] = [{"bearer": []}]
                    operation["responses"] = dict(sorted(operation["responses"].items()))
            standard_bounds(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


def _failure_schemas() -> dict[str, Any]:
    schema = Failure.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Failure": schema, **definitions}


def _declare_errors(operation: dict[str, Any], *statuses: int) -> None:
    responses = operation["responses"]
    for status in statuses:
        responses.setdefault(str(status), {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": _FAILURE_REF}}})


def _declare_path_ids(path: str, operation: dict[str, Any]) -> None:
    """Document each `{name}` of the path that no declared parameter covers, as FastAPI
    would have (a required string)."""
    parameters = operation.setdefault("parameters", [])
    declared = {p["name"] for p in parameters if p["in"] == "path"}
    at = sum(1 for p in parameters if p["in"] == "path")  # after the path's, before queries
    for name in re.findall(r"{(\w+)}", path):
        if name not in declared:
            parameters.insert(at, {"in": "path", "name": name, "required": True,
                                   "schema": {"title": name.replace("_", " ").title(),
                                              "type": "string"}})
            at += 1
