"""A peer's WebSocket as a `PeerLink`: a send queue drained by its own task.

Rooms never wait on a socket: `send` only queues. A peer that reads too slowly to keep
its queue under `MAX_BACKLOG` is disconnected rather than let it hold memory or delay
anyone else (it can resume).
"""

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket

log = logging.getLogger("salon.realtime")

MAX_BACKLOG = 5000
CLOSE_TOO_SLOW = 4008


class WebSocketLink:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self.closed = False
        self.writer = asyncio.create_task(self._write())

    def send(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            log.warning("peer too slow to read its messages; disconnecting")
            self.close(CLOSE_TOO_SLOW, "too slow to read messages")
            return
        self.queue.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait((code, reason))

    async def finish(self) -> None:
        """The reading side is done: stop writing once the queue is flushed or closed."""
        self.close(1000, "")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, timeout=5)
        if not self.writer.done():
            self.writer.cancel()

    async def _write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, tuple):
                    code, reason = item
                    with contextlib.suppress(Exception):
                        await self.websocket.close(code, reason)
                    return
                await self.websocket.send_text(item)
        except Exception:  # the socket went away; the reader notices and cleans up
            self.closed = True
