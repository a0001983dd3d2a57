"""`FramedLink` at unit level: one write per peer per loop turn, a fanned-out message
framed once, a full socket waited for, and the same bounds as the queued link.
The real-server case (a peer that stops reading) is tests/test_slow_readers.py."""

import asyncio
from typing import Any

from websockets.frames import Frame, Opcode

from salon.realtime.connection import MAX_BACKLOG
from salon.realtime.framed_link import FramedLink
from salon.realtime.transport import FRAMES, text_frame


class Writer:
    """What `FramedLink` needs of a `FrameWriter`, recording the writes."""

    def __init__(self, plain: bool = True) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.plain = plain
        self.writes: list[bytes | list[str]] = []

    def write_frames(self, frames: bytes) -> bool:
        self.writes.append(frames)
        return True

    def write_texts(self, texts: list[str]) -> bool:
        self.writes.append(list(texts))
        return True


class Socket:
    def __init__(self) -> None:
        self.closed_with: tuple[int, str] | None = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)


def link(writer: Writer) -> tuple[FramedLink, Socket]:
    socket = Socket()
    return FramedLink(socket, writer), socket  # type: ignore[arg-type]


async def turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_what_is_sent_in_one_turn_goes_in_one_write_framed_once() -> None:
    first, second = Writer(), Writer()
    a, _ = link(first)
    b, _ = link(second)
    event, other = '{"type":"chat.message"}', '{"type":"broadcast"}'
    for peer in (a, b):
        peer.send(event)
    a.send(other)
    assert first.writes == []  # nothing is written inside `send`
    await turn()
    assert first.writes == [text_frame(event) + text_frame(other)]
    assert second.writes == [text_frame(event)]
    assert a.backlog == 0 and a.pending == []


async def test_a_connection_with_extensions_frames_its_own() -> None:
    writer = Writer(plain=False)
    peer, _ = link(writer)
    peer.send("one")
    peer.send("two")
    await turn()
    assert writer.writes == [["one", "two"]]


async def test_a_full_socket_is_left_alone_until_it_drains() -> None:
    writer = Writer()
    writer.writable.clear()
    peer, _ = link(writer)
    peer.send("one")
    await turn()
    assert writer.writes == [] and peer.pending == ["one"]
    peer.send("two")
    await turn()
    assert writer.writes == []
    writer.writable.set()
    await turn()
    assert writer.writes == [text_frame("one") + text_frame("two")]


async def test_close_waits_for_the_pending_messages() -> None:
    writer = Writer()
    peer, socket = link(writer)
    peer.send("last words")
    peer.close(4000, "bye")
    peer.send("ignored")
    await turn()
    assert writer.writes == [text_frame("last words")]
    assert socket.closed_with == (4000, "bye")
    await asyncio.wait_for(peer.finish(), 1)


async def test_a_backlog_past_its_bound_drops_the_peer_and_tells_the_room() -> None:
    writer = Writer()
    writer.writable.clear()  # the peer reads nothing
    peer, socket = link(writer)
    drops: list[Any] = []
    peer.watch(lambda: drops.append(1))
    for _ in range(MAX_BACKLOG + 1):
        peer.send("{}")
    assert peer.dropped and peer.closed and peer.pending == [] and peer.backlog == 0
    await turn()
    assert drops == [1] and socket.closed_with == (4008, "too slow to read messages")
    assert writer.writes == []
    await asyncio.wait_for(peer.finish(), 1)


def test_text_frame_is_what_websockets_would_send() -> None:
    for size in (0, 125, 126, 65535, 65536, 200_000):
        text = "é" * (size // 2) + "x" * (size % 2)
        expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
        assert text_frame(text) == expected


async def test_a_dropped_peer_whose_close_cannot_go_out_is_cut_off(monkeypatch) -> None:
    """uvicorn sends a close frame only once its buffer has room, and a peer that does
    not read never makes room: past the close timeout the connection is reset (it stayed
    open for as long as the peer kept it, the handler waiting for its next message)."""
    from salon.realtime import connection

    monkeypatch.setattr(connection, "CLOSE_TIMEOUT_SECS", 0.05)

    class Transport:
        aborted = False

        def abort(self) -> None:
            self.aborted = True

    transport = Transport()

    class Stuck(Socket):
        scope = {"extensions": {FRAMES: type("W", (), {"protocol": type(
            "P", (), {"transport": transport})()})()}}

        async def close(self, code: int = 1000, reason: str = "") -> None:
            await asyncio.Event().wait()  # waits for room that never comes

    writer = Writer()
    writer.writable.clear()
    peer = FramedLink(Stuck(), writer)  # type: ignore[arg-type]
    for _ in range(MAX_BACKLOG + 1):
        peer.send("{}")
    assert peer.dropped
    await asyncio.sleep(0.2)
    assert transport.aborted
