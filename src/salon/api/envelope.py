"""RealtimeKit's response envelope, for answers and for every kind of error.

Success: `{"success": true, "data": …}` (plus `paging` on lists). Error:
`{"success": false, "error": {"code": <HTTP status>, "message": …}}` — also for unknown
routes, wrong methods, malformed JSON, failed validation and unexpected failures.
"""

import json
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from salon.core.errors import SalonError
from salon.core.schema import HTTP_URL_PATTERN, URL_PROBLEM

log = logging.getLogger("salon.api")


class Envelope(JSONResponse):
    """A JSON response rendered by orjson (datetimes, UUIDs and speed for free)."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # an integer past 64 bits that was stored before the edges
            # refused them (core.jsonsize): sent as the standard library writes it
            # rather than turning every read of it into a 500.
            log.warning("an answer held a value orjson cannot write; sent with json")
            return json.dumps(content, default=str, separators=(",", ":"),
                              ensure_ascii=False).encode()


def ok(data: Any, *, status_code: int = 200, paging: dict[str, Any] | None = None) -> Envelope:
    body: dict[str, Any] = {"success": True, "data": data}
    if paging is not None:
        body["paging"] = paging
    return Envelope(body, status_code=status_code)


def error(status_code: int, message: str, headers: dict[str, str] | None = None) -> Envelope:
    body = {"success": False, "error": {"code": status_code, "message": message}}
    return Envelope(body, status_code=status_code, headers=headers)


#: FastAPI's answer to a body its JSON parser fails on other than by a syntax error
#: (bytes that are not UTF-8, nesting deeper than the parser's recursion).
FASTAPI_UNPARSABLE = "There was an error parsing the body"

#: Patterns whose failure is said in words rather than by quoting the pattern.
_PATTERNS = {HTTP_URL_PATTERN: f"Value error, {URL_PROBLEM}"}

_PLAIN = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "json_invalid": "is not valid JSON",
}


def describe(errors: Sequence[Any]) -> str:
    """One readable line per problem: `body.session_keep_alive_time_in_secs: Input should be…`."""
    lines = []
    for problem in errors[:10]:
        kind = problem.get("type", "")
        where = ".".join(str(part) for part in problem.get("loc", ()))
        if kind == "json_invalid":
            lines.append("Request body is not valid JSON")
            continue
        if kind in ("model_attributes_type", "model_type", "dict_type"):
            # The whole body, or one object inside it (`ai_config: null`), named.
            lines.append("Request body must be a JSON object" if where == "body"
                         else f"{where}: must be a JSON object")
            continue
        text = _PLAIN.get(kind) or problem.get("msg", "is invalid")
        if kind == "string_pattern_mismatch":
            # a sentence for a pattern too long to read (a URL's is about 1 KB)
            text = _PATTERNS.get((problem.get("ctx") or {}).get("pattern"), text)
        lines.append(f"{where}: {text}" if where else text)
    if len(errors) > 10:
        lines.append(f"and {len(errors) - 10} more problems")
    return "; ".join(dict.fromkeys(lines))


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the first
    route's, and salon has a route per method (`GET` and `POST /meetings` are two).
    A path with GET has HEAD too (api/head.py)."""
    served = [method for method in _METHODS
              if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                     for route in request.app.router.routes)]
    if "GET" in served and "HEAD" not in served:
        served.insert(served.index("GET") + 1, "HEAD")
    return ", ".join(served)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def install(app: FastAPI) -> None:
    """Route every error through the envelope."""

    @app.exception_handler(SalonError)
    async def _domain(_: Request, exc: SalonError) -> Envelope:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return error(exc.status_code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> Envelope:
        return error(400, describe(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _merged(_: Request, exc: ValidationError) -> Envelope:
        # Raised by services that validate a merged (PATCH) document: paths are in the body.
        errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        return error(400, describe(errors))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Envelope:
        messages = {404: "No such endpoint.", 405: "Method not allowed on this endpoint."}
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 400 and detail == FASTAPI_UNPARSABLE:
            detail = "Request body is not valid JSON"  # not UTF-8, or nested too deep
        message = messages.get(exc.status_code) if detail in (None, "Not Found",
                                                              "Method Not Allowed") else detail
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return error(exc.status_code, message or str(detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Envelope:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered outside every middleware (Starlette's ServerErrorMiddleware): say it here.
        return error(500, "Internal server error; the server log has the details.",
                     {"X-Content-Type-Options": "nosniff"})
