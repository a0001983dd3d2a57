"""HEAD on every route that answers GET (RFC 9110 §9.1: a general-purpose server
supports both).

FastAPI routes a HEAD to no `@app.get` route and answers 405. Uptime checkers and load
balancers probe with HEAD, and a client may ask for a file's size or type before
fetching it. The request is run as the GET it stands for; the HTTP server (uvicorn)
sends the GET's status and headers, `Content-Length` included, and leaves the body out
because its own view of the request still says HEAD.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)
