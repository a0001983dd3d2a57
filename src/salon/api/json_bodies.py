"""Edge checks on every HTTP request, before routing: NUL in the URL, and JSON bodies.

- A NUL character in the path or the query string (`/meetings/%00`, `?search=%00`) is a
  400 here: PostgreSQL keeps no NUL in text, so such an id or filter would fail deep in
  a query (a 500) on PostgreSQL while SQLite quietly answered. Bodies are checked field
  by field (`core.schema.text`).
- Bodies are read as JSON even when the client did not say so. `curl -d '{…}'` sends
  `application/x-www-form-urlencoded`; RealtimeKit's own examples and many scripts forget
  the header. The API only ever takes JSON, so a body of any other declared type
  (`text/plain`, `application/xml`, none at all) is relabelled `application/json` and the
  usual validation then applies.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from salon.api.envelope import error


def _json_type(declared: bytes) -> bool:
    """`application/json` or a `+json` type, as FastAPI reads as JSON."""
    kind = declared.split(b";")[0].strip().lower()
    return kind == b"application/json" or (kind.startswith(b"application/")
                                           and kind.endswith(b"+json"))


#: Uploads (chat files) are raw bytes whose Content-Type is the file's own.
_RAW_BODIES = "/realtime/v1/files"


NUL_IN_URL = "The URL must not contain NUL characters (%00)."


def has_nul(scope: Scope) -> bool:
    """A NUL in the path or the query string (refused on every route)."""
    query = scope["query_string"].lower()
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


class JsonBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if has_nul(scope):
                refusal = error(400, NUL_IN_URL)
                await refusal(scope, receive, send)
                return
            if (scope["method"] in ("POST", "PUT", "PATCH")
                    and not scope["path"].startswith(_RAW_BODIES)):
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                declared = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
                if not _json_type(declared):
                    scope = {**scope,
                             "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
