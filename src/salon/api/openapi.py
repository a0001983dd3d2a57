"""The OpenAPI document: RealtimeKit's bearer auth declared on every REST operation.

Declared here rather than as a FastAPI security dependency, which would run on every
request only to feed the docs; the real check is `deps.current_app`. The same goes for
the `account_id` and `app_id` path parameters, which it reads without declaring.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from salon.api.routes import PREFIX


def install(app: FastAPI) -> None:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   routes=app.routes)
            document.setdefault("components", {})["securitySchemes"] = {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token from `salon apps create`."}}
            for path, operations in document["paths"].items():
                if path.startswith(PREFIX):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
                        _declare_path_ids(path, operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


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
