"""Read request bodies as JSON even when the client did not say so.

`curl -d '{…}'` sends `application/x-www-form-urlencoded`; RealtimeKit's own examples and
many scripts forget the header. The API only ever takes JSON, so this ASGI middleware
relabels such bodies as `application/json` and the usual validation then applies.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

_RELABEL = {b"", b"application/x-www-form-urlencoded", b"text/plain"}
#: Uploads (chat files) are raw bytes whose Content-Type is the file's own.
_RAW_BODIES = "/realtime/v1/files"


class JsonBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH")
                and not scope["path"].startswith(_RAW_BODIES)):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            declared = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            if declared.split(b";")[0].strip().lower() in _RELABEL:
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
