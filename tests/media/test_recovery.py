"""Packet loss on either hop is repaired: the server answers a subscriber's NACK from
what it sent, and forwards the retransmissions (RTX) it asks a publisher for. Loss is
made by dropping RTP datagrams in the peers' ICE transports, before SRTP, as a network
would (the test namespace has no netem)."""

import asyncio
from pathlib import Path

import pytest

from salon.client.media import MediaSession
from salon.client.media.sources import FileSource
from salon.client.media.testmedia import make_test_media
from tests.live import Meeting

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

LOOPBACK = ["127.0.0.1"]


@pytest.fixture(scope="module")
def test_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_media(tmp_path_factory.mktemp("recovery-media"), seconds=2)


def is_rtp(data: bytes) -> bool:
    """RFC 5761 demultiplexing, as aiortc does it: RTCP packet types are 192..208."""
    return len(data) > 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 208


def lose_every(ice_transport, nth: int, direction: str) -> list[int]:
    """Drop every `nth` RTP datagram this ICE transport sends or receives; the returned
    one-item list counts the drops."""
    dropped, seen = [0], [0]

    def lost(data: bytes) -> bool:
        if not is_rtp(data):
            return False
        seen[0] += 1
        if seen[0] % nth:
            return False
        dropped[0] += 1
        return True

    if direction == "send":
        send = ice_transport._send

        async def lossy_send(data: bytes) -> None:
            if not lost(data):
                await send(data)

        ice_transport._send = lossy_send
    else:
        recv = ice_transport._recv

        async def lossy_recv() -> bytes:
            while True:
                data = await recv()
                if not lost(data):
                    return data

        ice_transport._recv = lossy_recv
    return dropped


async def test_lost_packets_are_recovered_on_both_hops(room: Meeting, sessions,
                                                        test_media: dict) -> None:
    a, b = await room.join("group_call_host"), await room.join()
    ma = await MediaSession.attach(a, ice_hosts=LOOPBACK)
    mb = await MediaSession.attach(b, ice_hosts=LOOPBACK)
    sessions.extend([ma, mb])
    await ma.publish("video", FileSource(test_media["vp8"]))
    video = await mb.wait_track(a.peer_id, "video", frames=10)
    upstream = lose_every(ma.senders["video"].sender.transport.transport, 15, "send")
    receiver = next(t.receiver for t in mb.sub_pc.getTransceivers() if t.kind == "video")
    downstream = lose_every(receiver.transport.transport, 15, "recv")
    await asyncio.sleep(1.0)
    before = video.counters.frames
    await asyncio.sleep(2.0)
    assert video.counters.frames - before >= 54  # 30 fps: whole frames, none given up
    assert upstream[0] >= 5 and downstream[0] >= 5
    track = next(t for t in (await a.request("media.stats"))["tracks"]
                 if t["kind"] == "video")
    assert track["recovered"] >= upstream[0] // 2
    slot = next(r for r in (await b.request("media.stats"))["receiving"]
                if r["track_id"] == track["track_id"])
    assert slot["resent"] >= downstream[0] // 2
