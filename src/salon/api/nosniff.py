"""`X-Content-Type-Options: nosniff` on every HTTP response salon serves.

Without it a browser may guess a type other than the one declared (a JSON error read as
HTML, a text file run as a script). salon always declares the type, so guessing can only
go wrong. A response that already carries the header keeps it.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NAME = b"x-content-type-options"
HEADER = (NAME, b"nosniff")


class NoSniff:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(key.lower() == NAME for key, _ in headers):
                    message = {**message, "headers": [*headers, HEADER]}
            await send(message)

        await self.app(scope, receive, send_nosniff)
