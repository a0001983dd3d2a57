"""The request middleware: an id for every request, its log context, its REST figures.

Pure ASGI, outermost of salon's middleware, so it times and counts every answer —
those that `body_limit` gives before routing and the 500s of unexpected failures too.

- Request id: an incoming `X-Request-Id` of 1–128 characters from `[A-Za-z0-9._:-]`
  is kept (so a proxy's id follows the request through), anything else is replaced by
  a new one; the answer carries it back in `X-Request-Id`, and every log line written
  while the request runs names it (salon.observability.context). WebSocket connections
  get one too, for their whole life.
- Figures: `salon_http_requests_total` and `salon_http_request_duration_seconds`,
  labelled with the route's template (`/client/v4/…/meetings/{meeting_id}`), never the
  raw path, so ids do not multiply the series.
- With `SALON_ACCESS_LOG`, one log line per request (method, route, status, ms).
"""

import logging
import re
import secrets
import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salon.observability import context
from salon.observability.metrics import UNMATCHED, Metrics

log = logging.getLogger("salon.access")

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    return secrets.token_hex(8)


def request_id_of(scope: Scope) -> str:
    """The client's `X-Request-Id` when it is acceptable, else a new id."""
    for name, value in scope.get("headers") or ():
        if name == HEADER:
            if _VALID_ID.fullmatch(value):
                return value.decode()
            break
    return new_request_id()


def route_template(scope: Scope) -> str:
    """The template of the route that served (or would serve) the request, prefix and
    all: `/client/v4/accounts/{account_id}/realtime/kit/{app_id}/meetings`."""
    path = _context_path(scope.get("fastapi"))
    if path is None:
        path = getattr(scope.get("route"), "path", None)
    if path is None:
        # Answered before routing (body_limit's 401 or 413), or by no route: match it.
        path = _match(scope)
    return path or UNMATCHED


def _context_path(fastapi_scope: Any) -> str | None:
    """FastAPI (0.163) mounts included routers lazily: the route it selects keeps its own
    path, without the prefix; the selection's context has the whole template."""
    if not isinstance(fastapi_scope, dict):
        return None
    selected = fastapi_scope.get("effective_route_context")
    if selected is None:
        return None
    return (getattr(selected.starlette_route, "path_format", None)
            or getattr(selected, "path_format", None))


def _match(scope: Scope) -> str | None:
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        try:
            if hasattr(candidate, "_match"):  # an included router (see _context_path)
                match, _, _, selected = candidate._match(dict(scope))
                path = _context_path({"effective_route_context": selected})
            else:
                match, _ = candidate.matches(scope)
                path = getattr(candidate, "path", None)
        except Exception:
            continue
        if match != Match.NONE:
            return path
    return None


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = context.request_id.set(request_id)
        try:
            if kind == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, request_id)
        finally:
            context.request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500
        header = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, seconds)
            if self.access_log:
                self._log(scope, route, status, seconds)

    @staticmethod
    def _log(scope: Scope, route: str, status: int, seconds: float) -> None:
        params: dict[str, Any] = scope.get("path_params") or {}
        fields = {"app_id": params.get("app_id"), "meeting_id": params.get("meeting_id"),
                  "session_id": params.get("session_id")}
        tokens = [(variable, variable.set(fields[name])) for name, variable in context.FIELDS
                  if fields.get(name) is not None]
        try:
            log.info("%s %s %d %.1f ms", scope["method"], route, status, seconds * 1000,
                     extra={"method": scope["method"], "route": route, "path": scope["path"],
                            "status": status,
                            "duration_ms": round(seconds * 1000, 2)})
        finally:
            for variable, token in reversed(tokens):
                variable.reset(token)
