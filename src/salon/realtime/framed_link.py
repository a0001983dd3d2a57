"""A peer's WebSocket as a `PeerLink` written once per event-loop turn, without a task.

`salon.realtime.connection.WebSocketLink` gives every peer a queue and a writer task:
each message a room sends wakes that task, and in a 3,000-peer webinar those wake-ups
(a future resolved, a task stepped, an event awaited, per peer per message) were a third
of the server's time, the socket writes the rest (bench/realtime.py --webinar --profile
fixed). Under `salon serve` the gateway uses this link instead:

- `send` appends to the peer's pending list and marks the peer dirty with the loop's
  `Flusher`, which runs once after the current turn and writes each dirty peer's pending
  messages in one socket write. Whatever the rooms sent during a turn (a chat message and
  a stage broadcast, say) reaches a peer in one write: the busier the server, the larger
  its writes.
- A message fanned out to many peers is framed once per turn: connections without
  extensions (no permessage-deflate) get the same bytes (`transport.text_frame`).
- A socket whose buffer is full (uvicorn paused writing) is left out of flushes; one
  small task waits for it to drain. Meanwhile its messages count against the same bounds
  as the queued link's (`MAX_BACKLOG`, `MAX_BACKLOG_BYTES`), and past them the peer is
  dropped (closed with 4008 at once, the room told), exactly as there.
"""

import asyncio
from collections.abc import Callable

from starlette.websockets import WebSocket

from salon.observability.metrics import Tally
from salon.realtime.connection import (
    CLOSE_TIMEOUT_SECS,
    CLOSE_TOO_SLOW,
    MAX_BACKLOG,
    MAX_BACKLOG_BYTES,
    close_or_abort,
    log,
)
from salon.realtime.transport import FrameWriter, text_frame


class Flusher:
    """Writes every dirty link's pending messages once, after the loop's current turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.dirty: list[FramedLink] = []
        self.scheduled = False

    def mark(self, link: "FramedLink") -> None:
        self.dirty.append(link)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        dirty, self.dirty = self.dirty, []
        # id(text) → (text, frame): a fanned-out text is framed once; holding the text
        # keeps its id from being reused by another during the flush.
        framed: dict[int, tuple[str, bytes]] = {}
        for link in dirty:
            link.flush(framed)


_flushers: dict[asyncio.AbstractEventLoop, Flusher] = {}


def flusher_for(loop: asyncio.AbstractEventLoop) -> Flusher:
    flusher = _flushers.get(loop)
    if flusher is None or flusher.loop.is_closed():
        for old in [key for key in _flushers if key.is_closed()]:
            del _flushers[old]
        flusher = _flushers[loop] = Flusher(loop)
    return flusher


class FramedLink:
    """A `PeerLink` over a connection that offers a `FrameWriter`."""

    def __init__(self, websocket: WebSocket, frames: FrameWriter,
                 tally: Tally | None = None) -> None:
        self.websocket = websocket
        self.frames = frames
        #: The app's counts (/metrics): messages written, counted per write, not per send.
        self.tally = tally or Tally()
        self.flusher = flusher_for(asyncio.get_running_loop())
        self.pending: list[str] = []
        #: Characters of text pending, not yet handed to the socket.
        self.backlog = 0
        self.closed = False
        #: Dropped for reading too slowly.
        self.dropped = False
        self._marked = False
        self._ending: tuple[int, str] | None = None  # close once the pending are written
        self._drain: asyncio.Task[None] | None = None  # waiting for a full socket to drain
        self._closer: asyncio.Task[None] | None = None
        self._on_drop: Callable[[], None] | None = None

    def watch(self, on_drop: Callable[[], None]) -> None:
        """Have `on_drop` called (soon, not from within `send`) if this link drops its
        peer for reading too slowly."""
        self._on_drop = on_drop

    def send(self, text: str) -> None:
        if self.closed:
            return
        if len(self.pending) >= MAX_BACKLOG or self.backlog + len(text) > MAX_BACKLOG_BYTES:
            self._drop()
            return
        self.pending.append(text)
        self.backlog += len(text)
        self._mark()

    def close(self, code: int, reason: str) -> None:
        """Close after the pending messages are written."""
        if self.closed:
            return
        self.closed = True
        self._ending = (code, reason)
        self._mark()

    async def finish(self) -> None:
        """The reading side is done: stop once the pending are written and the close
        sent, or after `CLOSE_TIMEOUT_SECS`."""
        self.close(1000, "")
        deadline = asyncio.get_running_loop().time() + CLOSE_TIMEOUT_SECS
        while self._marked or self._drain is not None:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
        if self._drain is not None:
            self._drain.cancel()
        if self._closer is not None:
            await asyncio.wait({self._closer}, timeout=CLOSE_TIMEOUT_SECS)
            if not self._closer.done():
                self._closer.cancel()

    # --- writing --------------------------------------------------------------------------

    def _mark(self) -> None:
        if not self._marked and self._drain is None:
            self._marked = True
            self.flusher.mark(self)

    def flush(self, framed: dict[int, tuple[str, bytes]]) -> None:
        """Write what is pending (the `Flusher` calls this once per turn when marked)."""
        self._marked = False
        if self.dropped:
            return
        if self.pending:
            if not self.frames.writable.is_set():
                self._drain = asyncio.create_task(self._wait_for_drain())
                return
            texts, self.pending, self.backlog = self.pending, [], 0
            if not self._write(texts, framed):
                self.pending.clear()
                self.closed = True
                return
            self.tally.messages_out += len(texts)
            self.tally.write_batches += 1
        if self._ending is not None and self._closer is None:
            self._closer = asyncio.create_task(self._close_with(*self._ending))

    def _write(self, texts: list[str], framed: dict[int, tuple[str, bytes]]) -> bool:
        if not self.frames.plain:
            return self.frames.write_texts(texts)
        chunks = []
        for text in texts:
            known = framed.get(id(text))
            if known is None:
                known = framed[id(text)] = (text, text_frame(text))
            chunks.append(known[1])
        return self.frames.write_frames(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    async def _wait_for_drain(self) -> None:
        try:
            await self.frames.writable.wait()
        finally:
            self._drain = None
        if not self.dropped:
            self._mark()

    async def _close_with(self, code: int, reason: str) -> None:
        await close_or_abort(self.websocket, code, reason)

    def _drop(self) -> None:
        log.warning("peer too slow to read its messages (%d queued, %d characters); "
                    "disconnecting it", len(self.pending), self.backlog)
        self.closed = self.dropped = True
        self.tally.peers_too_slow += 1
        self.pending, self.backlog = [], 0
        if self._drain is not None:
            self._drain.cancel()
        self._closer = asyncio.create_task(self._close_with(CLOSE_TOO_SLOW,
                                                            "too slow to read messages"))
        if self._on_drop is not None:
            asyncio.get_running_loop().call_soon(self._on_drop)
