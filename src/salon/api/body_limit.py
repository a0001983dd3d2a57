"""REST request bodies: the API token is checked first, then the body is bounded.

FastAPI reads and parses a route's body before it solves the route's dependencies, so
the token check in `deps.current_app` came after the JSON: a 50 MB body with no token
cost a second of event loop and half a gigabyte before its 401, and stalled every live
room meanwhile. Here, in front of routing, a request that may carry a body (any method
but GET, HEAD and OPTIONS) under the REST prefix is

1. authenticated (401 without a live API token; the grant is kept in the request's
   state for `deps.current_app`, so the token is looked up once), then
2. refused with 413 if its declared `Content-Length` is over `max_bytes`, before a byte
   of it is read, and
3. cut off at `max_bytes` while it is read, when it declares no length (chunked): the
   read raises an HTTPException(413) that the envelope handlers answer.

A refused body is read and dropped (never kept, never parsed) before the answer goes
out, up to `DRAIN_BYTES` within `DRAIN_SECS`: a server that answers and closes with
unread bytes makes the kernel reset the connection, and the client loses the answer.
Past those bounds the connection is closed, as nginx's lingering close does.

Chat file uploads (`/realtime/v1/files`) are outside the prefix and keep their own limit.
"""


from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salon.api.envelope import error
from salon.core.errors import Unauthorized
from salon.deadline import within

#: Everything RealtimeKit's API answers: `/client/v4/accounts/{account_id}/realtime/kit/…`.
REST_PREFIX = "/client/v4/accounts/"
#: How much of a refused body is read and dropped so that the client sees the answer.
DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECS = 10.0
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Where `deps.current_app` finds the grant this middleware looked up.
GRANT_STATE = "grant"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in _BODYLESS
                or not scope["path"].startswith(REST_PREFIX)):
            await self.app(scope, receive, send)
            return
        grants = scope["app"].state.grants
        authorization = _header(scope, b"authorization")
        try:
            grant = await grants.grant(authorization.decode("latin-1") if authorization
                                       else None)
        except Unauthorized as refusal:
            await drain(receive)
            response = error(401, refusal.message, {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[GRANT_STATE] = grant
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await drain(receive)
            await error(413, self._too_large())(scope, receive, send)
            return
        await self.app(scope, self._bounded(receive), send)

    def _too_large(self) -> str:
        return f"Request body is larger than {self.max_bytes} bytes."

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if message.get("more_body"):
                        await drain(receive)
                    raise HTTPException(413, self._too_large())
            return message

        return bounded_receive


async def drain(receive: Receive) -> None:
    """Read and drop what is left of a request body, within DRAIN_BYTES and DRAIN_SECS."""
    async def dropping() -> None:
        dropped = 0
        while dropped <= DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body"):
                return
            dropped += len(message.get("body", b""))

    try:
        await within(dropping(), DRAIN_SECS)
    except TimeoutError:
        pass


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)
