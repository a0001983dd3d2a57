"""What uvicorn keeps from the gateway: WebSocket control frames.

uvicorn's WebSocket protocol answers a client's ping frames itself and never hands ping
or pong frames to the ASGI app, so the gateway alone would think a client that keeps
itself alive with WebSocket pings (RFC 6455 §5.5.2) silent, and drop it. `salon serve`
runs uvicorn with `ActivityWebSocketProtocol` instead of its default (the same
websockets-based implementation): it notes when the last ping or pong frame arrived and
puts that note in the connection's ASGI scope, under `extensions["salon.activity"]`,
where the gateway reads it (`last_frame_at`). Under another ASGI server the extension is
absent, and only messages count as activity.

uvicorn's own keepalive pings are turned off by `salon serve` (`ws_ping_interval=None`):
their pongs would count as activity and no live client would ever be idle, and a second
timeout would close with its own code (1011). The idle timeout is the one rule.

It also offers the gateway a faster way to send (`FrameWriter`, under
`extensions["salon.frames"]`): every text message waiting for a peer framed at once and
written to the socket in one write, without going through the ASGI `send` chain once per
message (`salon.realtime.framed_link`). In a large room's fan-out that chain and the
write per message were most of the server's time (bench/realtime.py --webinar
--profile fixed).
"""

import asyncio
import struct
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Frame
from websockets.http11 import Request

#: The ASGI scope extension that carries an `Activity`.
EXTENSION = "salon.activity"
#: The ASGI scope extension that carries a `FrameWriter`.
FRAMES = "salon.frames"


@dataclass
class Activity:
    """When the last WebSocket control frame (ping or pong) arrived, on `time.monotonic`."""

    last_frame_at: float | None = None

    def seen(self) -> None:
        self.last_frame_at = time.monotonic()


def activity_of(scope: dict[str, Any]) -> Activity | None:
    return (scope.get("extensions") or {}).get(EXTENSION)


class FrameWriter:
    """Writes text messages on an accepted connection directly through its protocol."""

    def __init__(self, protocol: "ActivityWebSocketProtocol") -> None:
        self.protocol = protocol

    @property
    def usable(self) -> bool:
        p = self.protocol
        return (p.handshake_complete and not p.close_sent and not p.disconnected
                and p.initial_response is None)

    @property
    def writable(self) -> asyncio.Event:
        """Set while the socket takes more (its buffer is under uvicorn's high-water
        mark); also set once the connection is lost, so nobody waits on it for ever."""
        return self.protocol.writable

    @property
    def plain(self) -> bool:
        """No extension (permessage-deflate) transforms this connection's frames: the
        same framed bytes can go to every plain connection."""
        return not self.protocol.conn.extensions

    def write_frames(self, frames: bytes) -> bool:
        """Write text frames framed by `text_frame` (plain connections only). False:
        the connection is closing or gone, nothing was written."""
        p = self.protocol
        if not self.usable or p.transport.is_closing():
            return False
        p.transport.write(frames)
        return True

    def write_texts(self, texts: list[str]) -> bool:
        """Frame `texts` through the connection's extensions and write them at once."""
        p = self.protocol
        if not self.usable or p.transport.is_closing():
            return False
        try:
            for text in texts:
                p.conn.send_text(text.encode())
        except InvalidState:
            return False
        p.transport.write(b"".join(p.conn.data_to_send()))
        return True


def text_frame(text: str) -> bytes:
    """One final, unmasked text frame (RFC 6455 §5.2), as a server sends it."""
    data = text.encode()
    size = len(data)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 127, size)
    return head + data


def frames_of(scope: dict[str, Any]) -> FrameWriter | None:
    return (scope.get("extensions") or {}).get(FRAMES)


def abort(scope: dict[str, Any]) -> None:
    """Drop the connection at once (TCP reset). For a peer that stopped reading: its
    close frame would wait behind a full buffer for ever, and the handler, waiting for
    the peer's next message, would keep the socket open as long."""
    frames = frames_of(scope)
    if frames is not None:
        frames.protocol.transport.abort()


class ActivityWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets ("sansio") protocol, telling the app about control frames."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activity = Activity()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The app's task is created but has not run yet: the scope it reads is this one.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][EXTENSION] = self.activity
            scope["extensions"][FRAMES] = FrameWriter(self)

    def handle_ping(self) -> None:
        self.activity.seen()
        super().handle_ping()

    def handle_pong(self, event: Frame) -> None:
        self.activity.seen()
        super().handle_pong(event)
