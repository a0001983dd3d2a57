"""A peer that stops reading is dropped before it holds the server's memory, and the
others hear everything, on a real server (`salon serve`, so `FramedLink` writes).

The slow peer joins over a socket with a small receive buffer and then reads nothing;
ten chatters send 120 custom messages of ~15 KB each (18 MB in all: past the socket
buffers, up to 4 MB here, and the link's 8 MB bound; within their chat budgets). The
unit tests of the queued link are in tests/test_connection.py.
"""

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from salon.client import RealtimeClient, ws_url
from tests.live import FAST, Meeting, admin_for, eventually
from tests.servers import SalonServer, running

CHATTERS = 10
MESSAGES_EACH = 120
PAYLOAD = {"blob": "x" * 15_000}


@pytest.fixture(scope="module")
def server() -> Iterator[SalonServer]:
    with running("", env=FAST) as salon:
        yield salon


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def join_and_stop_reading(url: str, token: str) -> tuple[websockets.ClientConnection,
                                                                 str]:
    """Join, then read nothing: the socket's receive buffer is small and the client's
    own queue holds one message, so the server soon finds the socket full."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    connection = await websockets.connect(url, sock=sock, max_queue=1, compression=None)
    await connection.send(json.dumps({"type": "join", "id": 1, "data": {"token": token}}))
    while True:
        message = json.loads(await connection.recv())
        if message.get("type") == "reply" and message.get("id") == 1:
            return connection, message["data"]["peer_id"]


async def test_a_peer_that_stops_reading_is_dropped_and_the_others_hear_everything(
        server: SalonServer) -> None:
    async with admin_for(server) as admin:
        room = Meeting(server, admin, await admin.create_meeting(title="slow reader"))
        try:
            observer = await room.join(name="Observer")
            chatters = [await room.join(name=f"Chatter {i}") for i in range(CHATTERS)]
            slow_token = (await room.participant(name="Slow"))["token"]
            slow, slow_id = await join_and_stop_reading(ws_url(server.url), slow_token)
            await observer.wait_for("peer.joined", lambda d: d["peer"]["peer_id"] == slow_id)
            observer.drain()
            before = rss_mb(server.process.pid)

            async def chat(client: RealtimeClient) -> None:
                for _ in range(MESSAGES_EACH):
                    await client.request("chat.send", type="custom", payload=PAYLOAD)

            await asyncio.gather(*(chat(client) for client in chatters))

            left = await observer.wait_for(
                "peer.left", lambda d: d["peer_id"] == slow_id, timeout=20)
            assert left["reason"] == "disconnected"
            total = CHATTERS * MESSAGES_EACH
            heard: list[dict] = []
            await eventually(lambda: heard.extend(observer.drain("chat.message"))
                             or len(heard) >= total, timeout=20)
            assert len(heard) == total  # the observer lost nothing
            # What the slow peer did not read was dropped, not kept: 9 MB went out, and
            # the server holds far less than that for it.
            assert rss_mb(server.process.pid) - before < 48
            assert "peer too slow to read its messages" in server.log_path.read_text()

            # The slow socket is closed by the server: reading it now ends (with 4008
            # when the close frame made it past the unread backlog).
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(30):
                    while True:
                        await slow.recv()
            received = closed.value.rcvd
            assert received is None or received.code == 4008
        finally:
            await room.close()
