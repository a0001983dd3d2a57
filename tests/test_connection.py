"""A peer's WebSocket link at unit level: slow readers are dropped, not buffered."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from salon.core.presets import Permissions
from salon.core.room import Peer, Record
from salon.live.host import RoomHost
from salon.live.settings import LiveSettings
from salon.realtime.connection import MAX_BACKLOG, MAX_BACKLOG_BYTES, WebSocketLink

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class StuckSocket:
    """A peer that stopped reading: the transport's buffer is full, so a send never
    finishes. Closing does not wait behind it."""

    def __init__(self) -> None:
        self.sends = 0
        self.closed_with: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        self.sends += 1
        await asyncio.Event().wait()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)


async def test_a_backlog_past_its_byte_bound_drops_the_peer_at_once() -> None:
    socket = StuckSocket()
    link = WebSocketLink(socket)  # type: ignore[arg-type]
    drops: list[int] = []
    link.watch(lambda: drops.append(1))
    big = "x" * 60_000
    link.send(big)
    await asyncio.sleep(0.01)  # the writer takes it, and is stuck on the socket from now on
    assert socket.sends == 1
    sent = 1
    while not link.closed:
        link.send(big)
        sent += 1
    # The one at the writer, those that fit the bound, and the one that broke it:
    assert sent == MAX_BACKLOG_BYTES // len(big) + 2  # long before 5000 messages
    assert link.dropped and link.queue.qsize() == 0 and link.backlog == 0
    link.send(big)  # ignored from now on
    assert link.queue.qsize() == 0

    await asyncio.sleep(0.05)
    assert link.writer.cancelled()  # no longer stuck on the peer's socket
    assert socket.closed_with == (4008, "too slow to read messages")  # not behind a backlog
    assert socket.sends == 1 and drops == [1]
    await asyncio.wait_for(link.finish(), 1)  # the gateway's cleanup does not hang or raise


async def test_a_backlog_past_its_message_bound_drops_the_peer() -> None:
    link = WebSocketLink(StuckSocket())  # type: ignore[arg-type]
    for _ in range(MAX_BACKLOG + 2):
        link.send("{}")
    assert link.dropped and link.queue.qsize() == 0
    await asyncio.wait_for(link.finish(), 1)


async def test_a_dropped_peer_is_disconnected_in_its_room_and_may_resume() -> None:
    class Recorder:
        def put(self, record: Record) -> None:
            pass

    host = RoomHost("meeting-1", "Unit", "app-1", 60, Recorder(),  # type: ignore[arg-type]
                    LiveSettings(resume_grace_secs=30))
    peer = Peer(peer_id="p1", participant_id="u1", custom_participant_id="c1", name="Slow",
                picture=None, preset_name="unit", view_type="GROUP_CALL",
                permissions=Permissions())
    slow = WebSocketLink(StuckSocket())  # type: ignore[arg-type]
    reply: dict[str, Any] = host.connect(peer, slow)
    while not slow.closed:
        slow.send("x" * 100_000)
    await asyncio.sleep(0.05)

    assert "p1" not in host.links  # the host no longer writes to it…
    assert "p1" in host.room.peers and host.room.peers["p1"].disconnected_at is not None
    assert "p1" in host._grace  # …and keeps its place for the resume window

    fresh = WebSocketLink(StuckSocket())  # type: ignore[arg-type]
    resumed = host.resume("p1", "u1", reply["resume_token"], fresh)
    assert resumed["resumed"] and host.links["p1"] is fresh and "p1" not in host._grace
    for link in (slow, fresh):
        await asyncio.wait_for(link.finish(), 6)
