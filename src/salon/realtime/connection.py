"""A peer's WebSocket as a `PeerLink`: a send queue drained by its own task.

This is the link for any ASGI server. Under `salon serve` the gateway uses
`salon.realtime.framed_link.FramedLink` instead, which keeps these rules but writes
without a task per peer.

Rooms never wait on a socket: `send` only queues. A peer that reads too slowly to keep
its backlog under `MAX_BACKLOG` messages and `MAX_BACKLOG_BYTES` is dropped rather than
let it hold memory or delay anyone else: its backlog is forgotten, the writer stuck on
it is cancelled, the socket is closed with 4008 at once (not behind the backlog), and
the room is told, so the peer is treated as disconnected — it keeps its place for the
resume window and may resume on a new connection.

The writer sends one ASGI message per queued text.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket

from salon.deadline import within
from salon.observability.metrics import Tally
from salon.realtime.transport import abort

log = logging.getLogger("salon.realtime")

MAX_BACKLOG = 5000
#: Queued text, counted in characters: the protocol's JSON is mostly ASCII, where a
#: character is a byte (others take up to four).
MAX_BACKLOG_BYTES = 8 * 1024 * 1024
CLOSE_TOO_SLOW = 4008
#: How long closing a dropped peer's socket may take (its buffers are full) before the
#: connection is dropped instead (`close_or_abort`).
CLOSE_TIMEOUT_SECS = 5.0


async def close_or_abort(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with `code`, or, when the close frame cannot go out in time (the peer does
    not read: uvicorn waits for room in its buffer first), drop the connection."""
    try:
        await within(websocket.close(code, reason), CLOSE_TIMEOUT_SECS)
    except TimeoutError:
        abort(websocket.scope)
    except Exception:  # noqa: BLE001 (already closed, or gone: nothing left to do)
        pass


class WebSocketLink:
    def __init__(self, websocket: WebSocket, tally: Tally | None = None) -> None:
        self.websocket = websocket
        #: The app's counts (/metrics): messages written, counted per write, not per send.
        self.tally = tally or Tally()
        self.queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        #: Characters of text queued and not yet handed to the socket.
        self.backlog = 0
        self.closed = False
        #: Dropped for reading too slowly (see the module's docstring).
        self.dropped = False
        self._on_drop: Callable[[], None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.writer = asyncio.create_task(self._write())

    def watch(self, on_drop: Callable[[], None]) -> None:
        """Have `on_drop` called (soon, not from within `send`) if this link drops its
        peer for reading too slowly."""
        self._on_drop = on_drop

    def send(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_BACKLOG or self.backlog + len(text) > MAX_BACKLOG_BYTES:
            self._drop()
            return
        self.backlog += len(text)
        self.queue.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        """Close after the queued messages are sent."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait((code, reason))

    def _drop(self) -> None:
        log.warning("peer too slow to read its messages (%d queued, %d characters); "
                    "disconnecting it", self.queue.qsize(), self.backlog)
        self.closed = self.dropped = True
        self.tally.peers_too_slow += 1
        self.queue = asyncio.Queue()  # the backlog goes now, not when the socket gives way
        self.backlog = 0
        self.writer.cancel()
        self._closer = asyncio.create_task(self._close_now(CLOSE_TOO_SLOW,
                                                           "too slow to read messages"))
        if self._on_drop is not None:
            asyncio.get_running_loop().call_soon(self._on_drop)

    async def _close_now(self, code: int, reason: str) -> None:
        await close_or_abort(self.websocket, code, reason)

    async def finish(self) -> None:
        """The reading side is done: stop writing once the queue is flushed or closed."""
        self.close(1000, "")
        await asyncio.wait({self.writer}, timeout=5)
        if not self.writer.done():
            self.writer.cancel()

    async def _write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, tuple):
                    await self._close_with(item)
                    return
                self.backlog -= len(item)
                await self.websocket.send_text(item)
                self.tally.messages_out += 1
                self.tally.write_batches += 1
        except Exception:  # the socket went away; the reader notices and cleans up
            self.closed = True

    async def _close_with(self, item: tuple[int, str]) -> None:
        code, reason = item
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)
