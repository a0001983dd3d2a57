"""The OpenAPI document: RealtimeKit's bearer auth declared on every REST operation.

Declared here rather than as a FastAPI security dependency, which would run on every
request only to feed the docs; the real check is `deps._app`.
"""

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
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
