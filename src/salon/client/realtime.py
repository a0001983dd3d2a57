"""RealtimeClient: one peer on the realtime protocol (docs/protocol.md), on `websockets`.

Replies are matched to requests by id; events queue up in arrival order, and
`wait_for` takes the first one that matches (leaving the others queued), so a test or a
bot can wait for exactly what it expects without losing anything else.
"""

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from ssl import SSLContext
from typing import Any, ClassVar, Protocol

import orjson
import websockets

from salon.client.chat import ChatActions
from salon.client.collaboration import CollaborationActions
from salon.client.connected import ConnectedActions
from salon.client.presence import PresenceActions
from salon.client.social import SocialActions

PROTOCOL_VERSION = 1

#: How often an otherwise silent client pings (the server's idle timeout is 45 s; it
#: drops a silent connection with close code 4007, and the peer may then resume).
KEEP_ALIVE_SECS = 15.0


class RealtimeError(Exception):
    """An error reply: `code` from the protocol (FORBIDDEN, INVALID, …) and a message;
    `retry_after_ms` when the code is RATE_LIMITED, `retry_after` (seconds) when a join
    is refused SERVER_BUSY."""

    def __init__(self, code: str, message: str, retry_after_ms: int | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms
        self.retry_after = retry_after


def ws_url(http_url: str) -> str:
    """The gateway URL of a salon server given its HTTP base URL."""
    return http_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") \
        + "/realtime/v1"


def http_url(gateway_url: str) -> str:
    """The HTTP base URL of a salon server given its gateway URL (the reverse of ws_url)."""
    base = gateway_url.replace("ws://", "http://").replace("wss://", "https://").rstrip("/")
    return base.removesuffix("/realtime/v1")


class Inspector(Protocol):
    """Sees the messages of every client: each request it sends, each message it reads."""

    def sent(self, client: "RealtimeClient", message: dict[str, Any]) -> None: ...
    def received(self, client: "RealtimeClient", message: dict[str, Any]) -> None: ...


class RealtimeClient(PresenceActions, ChatActions, CollaborationActions, ConnectedActions,
                     SocialActions):
    """One peer: the connection here, the protocol's requests by name in the mixins."""

    #: Shown every request sent and every message read, before anything else sees it.
    #: The test suite checks them all against the protocol's schema this way
    #: (tests/protocol_check.py); None (the default) costs nothing. `send_raw` is not
    #: shown: it is how tests send what is malformed on purpose.
    inspector: ClassVar[Inspector | None] = None

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Condition()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.joined: dict[str, Any] = {}
        #: How many are in the room `{participants, on_stage, audience}`, as the join
        #: reply and then each `audience.delta` (large rooms) said; empty while waiting.
        self.counts: dict[str, int] = {}
        self.timeout = 10.0
        #: The HTTP base URL and the token this peer joined with (chat file uploads).
        self.http_url = ""
        self.token = ""
        #: Events handled as they arrive instead of queued (the media session's offers).
        self.listeners: dict[str, Callable[[dict[str, Any]], None]] = {}
        #: Called for events that are still queued as usual (the media session follows
        #: `meeting.changed` this way).
        self.watchers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self.pinger: asyncio.Task[None] | None = None
        self.reader = asyncio.create_task(self._read())

    # --- connecting -------------------------------------------------------------------------

    @classmethod
    async def connect(cls, url: str, *, ssl: SSLContext | None = None) -> "RealtimeClient":
        """`ssl`: for a `wss://` URL, the context to verify the server with (one trusting a
        self-signed certificate, say); None: the system's trusted authorities."""
        extra: dict[str, Any] = {"ssl": ssl} if ssl is not None else {}
        return cls(await websockets.connect(url, max_size=2**22, **extra))

    @classmethod
    async def join(cls, url: str, token: str, *, name: str | None = None,
                   media: dict[str, bool] | None = None,
                   resume: dict[str, str] | None = None,
                   session_id: str | None = None,
                   keep_alive: float | None = KEEP_ALIVE_SECS,
                   ssl: SSLContext | None = None) -> "RealtimeClient":
        """Connect and join; raises RealtimeError if the server refuses. The client pings
        every `keep_alive` seconds (None: never); `ssl` is as for `connect`."""
        client = await cls.connect(url, ssl=ssl)
        client.http_url = http_url(url)
        client.token = token
        data: dict[str, Any] = {"token": token, "protocol": PROTOCOL_VERSION}
        if name is not None:
            data["name"] = name
        if media is not None:
            data["media"] = media
        if resume is not None:
            data["resume"] = resume
        if session_id is not None:
            data["session_id"] = session_id
        try:
            client.joined = await client.request("join", **data)
            client.counts = dict(client.joined.get("room", {}).get("counts", {}))
        except BaseException:
            await client.close()
            raise
        if keep_alive:
            client.pinger = asyncio.create_task(client._keep_alive(keep_alive))
        return client

    async def _keep_alive(self, every: float) -> None:
        """Ping now and then: the server drops a connection silent for 45 s, and a peer
        that only receives media says nothing on it."""
        while not self.closed.is_set():
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):
                # nobody waits for this reply: `_read` drops replies no one asked for
                await self._send({"id": next(self.ids), "type": "ping"})

    @property
    def peer_id(self) -> str:
        return self.joined["peer_id"]

    @property
    def status(self) -> str:
        return self.joined["status"]

    @property
    def resume_info(self) -> dict[str, str]:
        return {"peer_id": self.joined["peer_id"], "resume_token": self.joined["resume_token"]}

    async def close(self) -> None:
        """Drop the connection without leaving (the server keeps the peer to resume)."""
        if self.pinger is not None:
            self.pinger.cancel()
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader

    async def leave(self) -> None:
        with contextlib.suppress(RealtimeError, ConnectionError,
                                 websockets.ConnectionClosed):
            await self.request("leave")
        await self.close()

    # --- requests and events ----------------------------------------------------------------

    async def send_raw(self, text: str | bytes) -> None:
        await self.connection.send(text)

    async def request(self, kind: str, /, **data: Any) -> dict[str, Any]:
        """Send one request and wait for its reply (`self.timeout` seconds at most)."""
        request_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            await self._send({"id": request_id, "type": kind, "data": data})
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self.pending.pop(request_id, None)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.inspector is not None:
            self.inspector.sent(self, message)
        await self.connection.send(orjson.dumps(message))

    async def wait_for(self, event: str, where: Callable[[dict[str, Any]], bool] | None = None,
                       timeout: float = 5) -> dict[str, Any]:
        """Take the first queued-or-coming event named `event` for which `where` holds."""
        async def found() -> dict[str, Any]:
            async with self.arrived:
                while True:
                    for index, (name, data) in enumerate(self.events):
                        if name == event and (where is None or where(data)):
                            del self.events[index]
                            return data
                    if self.closed.is_set():
                        raise ConnectionError(f"closed ({self.close_code}) before {event}")
                    await self.arrived.wait()
        return await asyncio.wait_for(found(), timeout)

    def drain(self, event: str | None = None) -> list[dict[str, Any]]:
        """Take every queued event (of one name, if given) without waiting."""
        taken = [data for name, data in self.events if event is None or name == event]
        self.events = [(n, d) for n, d in self.events if not (event is None or n == event)]
        return taken

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = orjson.loads(raw)
                if self.inspector is not None:
                    self.inspector.received(self, message)
                if message.get("type") == "reply":
                    future = self.pending.get(message.get("id"))
                    if future is not None and not future.done():
                        if message["ok"]:
                            future.set_result(message["data"])
                        else:
                            error = message["error"]
                            future.set_exception(RealtimeError(
                                error["code"], error["message"], error.get("retry_after_ms"),
                                error.get("retry_after")))
                    elif not message["ok"]:
                        await self._queue("error", message["error"])
                elif message.get("type") == "event":
                    await self._queue(message["event"], message["data"])
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code
            self.closed.set()
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"closed ({self.close_code})"))
            async with self.arrived:
                self.arrived.notify_all()

    async def _queue(self, name: str, data: dict[str, Any]) -> None:
        if name == "audience.delta":
            self.counts = dict(data["counts"])
        if name == "meeting.changed":
            self.follow_move(data)  # `peer_id`, `joined` are the new room's from now on
        for watcher in self.watchers.get(name, ()):
            watcher(data)
        listener = self.listeners.get(name)
        if listener is not None:
            listener(data)
            return
        async with self.arrived:
            self.events.append((name, data))
            self.arrived.notify_all()
