"""RealtimeClient: one peer on the realtime protocol (docs/protocol.md), on `websockets`.

Replies are matched to requests by id; events queue up in arrival order, and
`wait_for` takes the first one that matches (leaving the others queued), so a test or a
bot can wait for exactly what it expects without losing anything else.

In a cluster a join follows `REDIRECT`s to the node that runs the meeting, and with
`auto_resume` a dropped connection is resumed on the same object (salon.client.cluster
says where).
"""

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from ssl import SSLContext
from typing import Any, ClassVar, Protocol

import orjson
import websockets

from salon.client import cluster
from salon.client.chat import ChatActions
from salon.client.cluster import http_url, ws_url
from salon.client.collaboration import CollaborationActions
from salon.client.connected import ConnectedActions
from salon.client.presence import PresenceActions
from salon.client.reconnect import Resuming
from salon.client.recording import RecordingActions
from salon.client.social import SocialActions
from salon.deadline import within

__all__ = ["KEEP_ALIVE_SECS", "PROTOCOL_VERSION", "RealtimeClient", "RealtimeError",
           "http_url", "ws_url"]

PROTOCOL_VERSION = 1

#: How often an otherwise silent client pings (the server's idle timeout is 45 s; it
#: drops a silent connection with close code 4007, and the peer may then resume).
KEEP_ALIVE_SECS = 15.0


class RealtimeError(Exception):
    """An error reply: `code` from the protocol (FORBIDDEN, INVALID, …) and a message;
    `retry_after_ms` when the code is RATE_LIMITED, `retry_after` (seconds) when a join
    is refused SERVER_BUSY; `details` the error object's other fields (a REDIRECT's
    `url` and `address`)."""

    def __init__(self, code: str, message: str, retry_after_ms: int | None = None,
                 retry_after: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms
        self.retry_after = retry_after
        self.details = details or {}

    @classmethod
    def of(cls, error: dict[str, Any]) -> "RealtimeError":
        """The exception for an error object as the server sent it."""
        details = {key: value for key, value in error.items()
                   if key not in ("code", "message", "retry_after_ms", "retry_after")}
        return cls(str(error.get("code")), str(error.get("message")),
                   error.get("retry_after_ms"), error.get("retry_after"), details)


class Inspector(Protocol):
    """Sees the messages of every client: each request it sends, each message it reads."""

    def sent(self, client: "RealtimeClient", message: dict[str, Any]) -> None: ...
    def received(self, client: "RealtimeClient", message: dict[str, Any]) -> None: ...


class RealtimeClient(PresenceActions, ChatActions, CollaborationActions, ConnectedActions,
                     SocialActions, RecordingActions, Resuming):
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
        #: Set once the client is closed for good (with auto-resume: once it gave up).
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.joined: dict[str, Any] = {}
        #: How many are in the room `{participants, on_stage, audience}`, as the join
        #: reply (or `self.admitted`) and then each `audience.delta` (large rooms) said;
        #: empty while waiting.
        self.counts: dict[str, int] = {}
        self.timeout = 10.0
        #: The HTTP base URL and the token this peer joined with (chat file uploads).
        self.http_url = ""
        self.token = ""
        #: The cluster: the gateway URL first connected to (a load balancer, say), the one
        #: connected to now (where REDIRECTs led), and the live nodes' base URLs the last
        #: join or resume reply named ([] when the server is not clustered).
        self.entry_url = ""
        self.url = ""
        self.nodes: list[str] = []
        #: Opt-in (`join(auto_resume=True)`): resume on a dropped connection. While it
        #: resumes, `reconnecting` is true and requests fail with ConnectionError; each
        #: resume counts in `resumes` and sets `resumed` (clear it to wait for the next).
        self.auto_resume = False
        self.reconnecting = False
        self.resumes = 0
        self.resumed = asyncio.Event()
        self.ssl: SSLContext | None = None
        self.join_data: dict[str, Any] = {}
        self._handshaking = False
        self._stopping = False
        self._resumer: asyncio.Task[None] | None = None
        #: Events handled as they arrive instead of queued (the media session's offers).
        self.listeners: dict[str, Callable[[dict[str, Any]], None]] = {}
        #: Called for events that are still queued as usual (the media session follows
        #: `meeting.changed` this way).
        self.watchers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self.pinger: asyncio.Task[None] | None = None
        self.reader = asyncio.create_task(self._read(connection))

    # --- connecting -------------------------------------------------------------------------

    @classmethod
    async def connect(cls, url: str, *, ssl: SSLContext | None = None) -> "RealtimeClient":
        """`ssl`: for a `wss://` URL, the context to verify the server with (one trusting a
        self-signed certificate, say); None: the system's trusted authorities."""
        client = cls(await cls._dial(url, ssl))
        client.entry_url = client.url = url
        client.ssl = ssl
        return client

    @staticmethod
    async def _dial(url: str, ssl: SSLContext | None,
                    open_timeout: float = 10.0) -> websockets.ClientConnection:
        extra: dict[str, Any] = {"ssl": ssl} if ssl is not None else {}
        return await websockets.connect(url, max_size=2**22, open_timeout=open_timeout,
                                        **extra)

    @classmethod
    async def join(cls, url: str, token: str, *, name: str | None = None,
                   media: dict[str, bool] | None = None,
                   resume: dict[str, str] | None = None,
                   session_id: str | None = None,
                   keep_alive: float | None = KEEP_ALIVE_SECS,
                   ssl: SSLContext | None = None,
                   auto_resume: bool = False) -> "RealtimeClient":
        """Connect and join, following REDIRECTs to the node that runs the meeting (at
        most 3); raises RealtimeError if the server refuses. The client pings every
        `keep_alive` seconds (None: never); `ssl` is as for `connect`. `auto_resume`:
        resume on a dropped connection (docs/protocol.md "Clusters: redirects and
        failover") instead of closing."""
        client = await cls.connect(url, ssl=ssl)
        client.http_url = http_url(url)
        client.token = token
        client.auto_resume = auto_resume
        data: dict[str, Any] = {"token": token, "protocol": PROTOCOL_VERSION}
        if name is not None:
            data["name"] = name
        if media is not None:
            data["media"] = media
        if resume is not None:
            data["resume"] = resume
        if session_id is not None:
            data["session_id"] = session_id
        client.join_data = data
        try:
            client._adopt(await client._handshake(data))
        except BaseException:
            await client.close()
            raise
        if keep_alive:
            client.pinger = asyncio.create_task(client._keep_alive(keep_alive))
        return client

    async def _handshake(self, data: dict[str, Any]) -> dict[str, Any]:
        """Send `data` as the join on the current connection; on a REDIRECT, connect to
        the node it names and send the same join there, at most MAX_REDIRECTS times; on
        MEETING_MOVING, wait `retry_after` seconds and send it again, at most
        MAX_MOVING_WAITS times."""
        self._handshaking = True
        redirects = waits = 0
        try:
            while True:
                try:
                    return await self._ask("join", data)
                except RealtimeError as error:
                    if error.code == "MEETING_MOVING" and waits < cluster.MAX_MOVING_WAITS:
                        waits += 1
                        pause = error.retry_after
                        await asyncio.sleep(min(pause, 5) if isinstance(pause, int | float)
                                            and pause > 0 else 1)
                        target = self.url
                    else:
                        target = (cluster.redirect_target(error.details)
                                  if error.code == "REDIRECT" else None)
                        if target is None or redirects >= cluster.MAX_REDIRECTS:
                            raise
                        redirects += 1
                await self._switch(await self._dial(target, self.ssl), target)
        finally:
            self._handshaking = False

    def _adopt(self, reply: dict[str, Any]) -> None:
        """Take a join's (or resume's) reply as this peer's state."""
        self.joined = reply
        self.counts = dict(reply.get("room", {}).get("counts", {}))
        self.nodes = [node for node in reply.get("nodes") or [] if isinstance(node, str)]

    def _admitted(self, admitted: dict[str, Any]) -> None:
        """Let in from the waiting room: joined now, with the room (and the SelfView)
        the `self.admitted` event carries in place of the waiting join's."""
        self.joined = {**self.joined, "status": "joined",
                       **{key: admitted[key] for key in ("self", "room", "media")
                          if key in admitted}}
        self.counts = dict(self.joined.get("room", {}).get("counts", {}))

    async def _switch(self, connection: websockets.ClientConnection, url: str) -> None:
        """Carry on on `connection`: read it from now on and close the one before (whose
        reader then ends without a word: it is no longer this client's connection)."""
        old, old_reader = self.connection, self.reader
        self.connection, self.url = connection, url
        self.reader = asyncio.create_task(self._read(connection))
        await old.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await old_reader

    async def _keep_alive(self, every: float) -> None:
        """Ping now and then: the server drops a connection silent for 45 s, and a peer
        that only receives media says nothing on it."""
        while not self.closed.is_set():
            await asyncio.sleep(every)
            if self._handshaking or self.reconnecting:
                continue  # a fresh connection's first message must be the join
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
        """Drop the connection without leaving (the server keeps the peer to resume);
        an auto-resuming client stops resuming."""
        self._stopping = True
        if self.pinger is not None:
            self.pinger.cancel()
        if self._resumer is not None and self._resumer is not asyncio.current_task():
            self._resumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._resumer
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader
        await self._finish()

    async def leave(self) -> None:
        with contextlib.suppress(RealtimeError, ConnectionError,
                                 websockets.ConnectionClosed):
            await self.request("leave")
        await self.close()

    async def _finish(self) -> None:
        """Closed for good: waiters hear of it."""
        if self.closed.is_set():
            return
        self.closed.set()
        async with self.arrived:
            self.arrived.notify_all()

    # --- requests and events ----------------------------------------------------------------

    async def send_raw(self, text: str | bytes) -> None:
        await self.connection.send(text)

    async def request(self, kind: str, /, **data: Any) -> dict[str, Any]:
        """Send one request and wait for its reply (`self.timeout` seconds at most)."""
        if self.reconnecting:
            raise ConnectionError(f"resuming after close {self.close_code}: {kind} not sent")
        return await self._ask(kind, data)

    async def _ask(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            try:
                await self._send({"id": request_id, "type": kind, "data": data})
            except websockets.ConnectionClosed as closed:
                if not self.auto_resume:
                    raise
                raise ConnectionError(f"closed ({closed.rcvd and closed.rcvd.code})") \
                    from closed
            return await within(future, self.timeout)
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
        return await within(found(), timeout)

    def listen(self, handlers: dict[str, Callable[[dict[str, Any]], None]]) -> None:
        """Handle each of these events as it arrives (`listeners`), starting with those
        already queued, in the order they came. Events that follow a reply can be read
        and queued before the awaiting caller runs again: a peer's update sent right
        after this client's join reply would otherwise wait in the queue unseen."""
        self.listeners.update(handlers)
        early = [(name, data) for name, data in self.events if name in handlers]
        self.events = [(n, d) for n, d in self.events if n not in handlers]
        for name, data in early:
            handlers[name](data)

    def drain(self, event: str | None = None) -> list[dict[str, Any]]:
        """Take every queued event (of one name, if given) without waiting."""
        taken = [data for name, data in self.events if event is None or name == event]
        self.events = [(n, d) for n, d in self.events if not (event is None or n == event)]
        return taken

    async def _read(self, connection: websockets.ClientConnection) -> None:
        try:
            async for raw in connection:
                message = orjson.loads(raw)
                if self.inspector is not None:
                    self.inspector.received(self, message)
                if message.get("type") == "reply":
                    future = self.pending.get(message.get("id"))
                    if future is not None and not future.done():
                        if message["ok"]:
                            future.set_result(message["data"])
                        else:
                            future.set_exception(RealtimeError.of(message["error"]))
                    elif not message["ok"]:
                        await self._queue("error", message["error"])
                elif message.get("type") == "event":
                    await self._queue(message["event"], message["data"])
        except websockets.ConnectionClosed:
            pass
        finally:
            await self._lost(connection)

    async def _lost(self, connection: websockets.ClientConnection) -> None:
        """`connection` ended: fail what waits on it; then resume (auto-resume, resumable
        close), leave it to the join or resume under way, or close for good."""
        if connection is not self.connection:
            return  # replaced by a redirect or a resume: nothing waits on it any more
        self.close_code = connection.close_code
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError(f"closed ({self.close_code})"))
        if self._handshaking or self.reconnecting:
            return
        if (self.auto_resume and not self._stopping and self.joined
                and (self.close_code is None or self.close_code in cluster.RESUMABLE_CLOSES)):
            self.reconnecting = True
            self._resumer = asyncio.create_task(self._resume())
            return
        await self._finish()

    async def _queue(self, name: str, data: dict[str, Any]) -> None:
        if name == "audience.delta":
            self.counts = dict(data["counts"])
        if name == "self.admitted":
            self._admitted(data)  # `status`, `joined["room"]`, `counts` as admitted
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
