"""Stand-ins for the other nodes of a cluster, for testing how clients follow one.

Real WebSocket servers on their own loopback addresses, speaking the cluster's side of
the protocol (docs/protocol.md "Clusters: redirects and failover") in front of a real
salon server: a `Redirector` is a node that does not run the meeting, a `Relay` one that
runs it (it passes everything on to the real server) and can stop running it.
"""

import asyncio
import contextlib
from typing import Any

import orjson
import websockets
from websockets.asyncio.server import Server, ServerConnection

from salon.client.cluster import http_url

REDIRECT_MESSAGE = "This meeting runs on another node; connect there."


async def _serve(handler: Any, host: str) -> tuple[Server, str]:
    server = await websockets.serve(handler, host, 0, max_size=2**22)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://{host}:{port}/realtime/v1"


class Redirector:
    """Answers any join with REDIRECT to `target` (a gateway URL), then closes 4012; the
    first `moving` joins with MEETING_MOVING instead (closing 4013), as a node does while
    the meeting is between nodes."""

    def __init__(self, target: str = "", host: str = "127.0.0.2", moving: int = 0) -> None:
        self.target = target
        self.host = host
        self.moving = moving
        self.url = ""
        #: Every join it was sent, in order.
        self.joins: list[dict[str, Any]] = []
        self.server: Server | None = None

    async def __aenter__(self) -> "Redirector":
        self.server, self.url = await _serve(self._handle, self.host)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            join = orjson.loads(await connection.recv())
            self.joins.append(join)
            if len(self.joins) <= self.moving:
                await connection.send(orjson.dumps({
                    "type": "reply", "id": join.get("id"), "ok": False,
                    "error": {"code": "MEETING_MOVING", "retry_after": 1, "message":
                              "This meeting is moving to another node; join again in a "
                              "moment."}}).decode())
                await connection.close(4013, "meeting moving")
                return
            await connection.send(orjson.dumps({
                "type": "reply", "id": join.get("id"), "ok": False,
                "error": {"code": "REDIRECT", "message": REDIRECT_MESSAGE,
                          "url": self.target, "address": http_url(self.target)}}).decode())
            await connection.close(4012, "redirect")


class Relay:
    """A node that runs the meeting: passes every message between its clients and the
    real server at `upstream`. `drop(code)` closes its clients' side with `code` (4013:
    it stopped running the meeting); `stop()` cuts them off without a close frame and
    stops listening. With `hold` set, the clients' messages are swallowed (a request
    stays unanswered); with `nodes` set, join replies name them."""

    def __init__(self, upstream: str, host: str = "127.0.0.3") -> None:
        self.upstream = upstream
        self.host = host
        self.url = ""
        self.hold = False
        self.nodes: list[str] | None = None
        self.joins: list[dict[str, Any]] = []
        #: The type of every message its clients sent, in order.
        self.sent: list[str] = []
        self.links: set[ServerConnection] = set()
        self.server: Server | None = None

    @property
    def address(self) -> str:
        return http_url(self.url)

    async def __aenter__(self) -> "Relay":
        self.server, self.url = await _serve(self._handle, self.host)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def drop(self, code: int) -> None:
        await asyncio.gather(*(link.close(code, "reconnect") for link in list(self.links)))

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.close(close_connections=False)
        for link in list(self.links):
            link.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _handle(self, connection: ServerConnection) -> None:
        self.links.add(connection)
        try:
            async with websockets.connect(self.upstream, max_size=2**22) as upstream:
                passes = [asyncio.create_task(self._down(upstream, connection)),
                          asyncio.create_task(self._up(connection, upstream))]
                await asyncio.wait(passes, return_when=asyncio.FIRST_COMPLETED)
                for task in passes:
                    task.cancel()
                await asyncio.gather(*passes, return_exceptions=True)
        finally:
            self.links.discard(connection)

    async def _up(self, client: ServerConnection, upstream: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in client:
                message = orjson.loads(raw)
                self.sent.append(str(message.get("type")))
                if message.get("type") == "join":
                    self.joins.append(message)
                if not self.hold:
                    await upstream.send(raw)

    async def _down(self, upstream: Any, client: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in upstream:
                message = orjson.loads(raw)
                data = message.get("data")
                if (self.nodes is not None and message.get("type") == "reply"
                        and isinstance(data, dict) and "resume_token" in data):
                    raw = orjson.dumps({**message, "data": {**data, "nodes": self.nodes}}).decode()
                await client.send(raw)
