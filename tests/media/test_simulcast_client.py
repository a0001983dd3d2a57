"""The Python client publishes simulcast (salon.client.media.simulcast): the test files,
then a `SimulcastSender` against a bare aiortc peer that answers as a simulcast-capable
server would (or as today's server does, without simulcast), and a `MediaSession`
against the real server. Run inside a network namespace:
scripts/test-netns tests/media/test_simulcast_client.py"""

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import pytest
from aiortc import RTCRtpSender, RTCSessionDescription
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import RtcpSrPacket

from salon.client.media import MediaSession
from salon.client.media.simulcast import SimulcastSender, SimulcastSource
from salon.client.media.simulcast_sdp import RID_URI, extmap_id
from salon.client.media.testmedia import make_simulcast_media
from salon.media.embedded import hooks, rtp

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

SECONDS = 4
SIZES = {"q": (160, 120), "h": (320, 240), "f": (640, 480)}


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_simulcast_media(tmp_path_factory.mktemp("simulcast"), seconds=SECONDS)


def test_the_simulcast_set_is_one_picture_at_three_sizes(files: dict[str, Path]) -> None:
    assert list(files) == ["q", "h", "f"]
    kbps = {}
    for rid, path in files.items():
        with av.open(str(path)) as container:
            packets = [p for p in container.demux(container.streams[0]) if p.size]
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == SIZES[rid]
        assert len(packets) == 30 * SECONDS
        keyframes = [i for i, p in enumerate(packets)
                     if rtp.frame_is_keyframe("VP8", bytes(p))]
        assert keyframes == list(range(0, 30 * SECONDS, 60))  # the same frames in each
        kbps[rid] = sum(p.size for p in packets) * 8 / SECONDS / 1000
    assert 60 < kbps["q"] < 150 < kbps["h"] < 260 < kbps["f"] < 450, kbps
    began = time.monotonic()
    assert make_simulcast_media(files["q"].parent, seconds=SECONDS) == files
    assert time.monotonic() - began < 0.5  # cached


def keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) if the packet opens a VP8 keyframe (RFC 6386 §9.1: bytes 6-9 of
    the frame, after the payload descriptor), else None."""
    if not rtp.vp8_starts_keyframe(payload):
        return None
    _, frame = VpxPayloadDescriptor.parse(payload)
    return (int.from_bytes(frame[6:8], "little") & 0x3FFF,
            int.from_bytes(frame[8:10], "little") & 0x3FFF)


@dataclass
class Stream:
    """What arrived on one SSRC."""
    rids: set = field(default_factory=set)
    mids: set = field(default_factory=set)
    packets: int = 0
    frames: int = 0
    keyframes: list = field(default_factory=list)  # (arrival time, (width, height))
    sender_reports: int = 0


class Server:
    """A bare aiortc peer answering the publish offer as a server would: with simulcast
    accepted (`a=rid:<id> recv`, `a=simulcast:recv`) or, as today's server, without."""

    def __init__(self) -> None:
        self.pc = hooks.new_peer_connection()
        self.streams: dict[int, Stream] = {}
        self.receiver = None
        self.pc.on("track", self._on_track)

    def _on_track(self, track) -> None:
        receiver = next(t.receiver for t in self.pc.getTransceivers()
                        if t.receiver.track is track)
        if track.kind != "video":
            return
        self.receiver = receiver
        hooks.forward_rtp(receiver, self._packet)  # nothing decoded: three SSRCs mix here
        original = receiver._handle_rtcp_packet

        async def rtcp(packet) -> None:
            if isinstance(packet, RtcpSrPacket):
                self.streams.setdefault(packet.ssrc, Stream()).sender_reports += 1
            await original(packet)
        receiver._handle_rtcp_packet = rtcp

    def _packet(self, packet, retransmitted: bool) -> None:
        stream = self.streams.setdefault(packet.ssrc, Stream())
        stream.packets += 1
        stream.rids.add(packet.extensions.rtp_stream_id)
        stream.mids.add(packet.extensions.mid)
        stream.frames += packet.marker
        size = keyframe_size(packet.payload)
        if size is not None:
            stream.keyframes.append((time.monotonic(), size))

    async def answer(self, offer: str, mid: str, accept: bool) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        sdp = self.pc.localDescription.sdp
        if accept:
            rid_id = extmap_id(offer, mid, RID_URI)
            lines = [f"a=extmap:{rid_id} {RID_URI}", "a=rid:q recv", "a=rid:h recv",
                     "a=rid:f recv", "a=simulcast:recv q;h;f"]
            sdp = sdp.replace(f"a=mid:{mid}\r\n",
                              f"a=mid:{mid}\r\n" + "".join(f"{x}\r\n" for x in lines))
            # aiortc parses no RID: this test's receiver reads it like the server will
            self.pc.getTransceivers()[0].receiver.transport._rtp_header_extensions_map \
                .configure(RTCRtpParameters(headerExtensions=[
                    RTCRtpHeaderExtensionParameters(id=rid_id, uri=RID_URI)]))
        return sdp

    def by_rid(self) -> dict[str | None, tuple[int, Stream]]:
        out = {}
        for ssrc, stream in self.streams.items():
            if stream.packets:
                assert len(stream.rids) == 1, stream.rids  # one RID per SSRC, always
                out[next(iter(stream.rids))] = (ssrc, stream)
        return out


async def publish(source: SimulcastSource, accept: bool):
    hooks.use_host_addresses(["127.0.0.1"])
    publisher, server = hooks.new_peer_connection(), Server()
    transceiver = publisher.addTransceiver(source.encodings["f"], direction="sendonly")
    transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                     if c.mimeType == "video/VP8"])
    sender = SimulcastSender(transceiver, source)
    await publisher.setLocalDescription(await publisher.createOffer())
    offer = sender.offer(publisher.localDescription.sdp)
    answer = await server.answer(offer, sender.mid, accept)
    await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    sender.answered(answer)
    return publisher, server, sender


async def wait_until(condition, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_three_ssrcs_with_their_rids_sizes_reports_and_own_keyframes(
        files: dict[str, Path]) -> None:
    source = SimulcastSource.from_files(files)
    publisher, server, sender = await publish(source, accept=True)
    try:
        assert sender.accepted == ["q", "h", "f"]
        await wait_until(lambda: len(server.by_rid()) == 3
                         and all(s.sender_reports for _, s in server.by_rid().values()), 10)
        streams = server.by_rid()
        assert set(streams) == {"q", "h", "f"}
        assert sender.ssrcs() == {rid: ssrc for rid, (ssrc, _) in streams.items()}
        for rid, (_, stream) in streams.items():
            assert stream.mids == {sender.mid}
            assert stream.keyframes and {s for _, s in stream.keyframes} == {SIZES[rid]}
        # ~30 fps on each SSRC
        frames = {rid: s.frames for rid, (_, s) in streams.items()}
        await asyncio.sleep(2)
        rates = {rid: (s.frames - frames[rid]) / 2 for rid, (_, s) in streams.items()}
        assert all(25 <= r <= 35 for r in rates.values()), rates
        # a PLI for q's SSRC: q answers with a keyframe at once, h and f are not asked
        await wait_until(lambda: time.monotonic() - streams["q"][1].keyframes[-1][0] > 0.4,
                         3)
        before = {rid: len(s.keyframes) for rid, (_, s) in streams.items()}
        asked = time.monotonic()
        hooks.send_pli(server.receiver, streams["q"][0])
        await wait_until(lambda: len(streams["q"][1].keyframes) > before["q"], 1)
        assert streams["q"][1].keyframes[-1][0] - asked < 0.25
        assert source.keyframe_requests == {"q": 1, "h": 0, "f": 0}
        # stopping ends the extra senders' RTP and RTCP tasks (aiortc knows nothing of
        # them) and leaves the sources running, to be published again
        extras = list(sender.extras.values())
        await sender.stop()
        assert sender.extras == {} and len(extras) == 2
        assert all(e._RTCRtpSender__rtp_task.done() and e._RTCRtpSender__rtcp_task.done()
                   for e in extras)
        assert all(s.readyState == "live" for s in source.encodings.values())
    finally:
        await sender.stop()
        await publisher.close()
        await server.pc.close()


async def test_without_an_accepting_answer_only_the_highest_encoding_is_sent(
        files: dict[str, Path]) -> None:
    source = SimulcastSource.from_files(files)
    publisher, server, sender = await publish(source, accept=False)
    try:
        assert sender.accepted == [] and sender.extras == {}
        await wait_until(lambda: server.streams, 10)
        await asyncio.sleep(1.5)
        streams = server.by_rid()
        assert list(streams) == [None]  # one SSRC, no RID on its packets
        (ssrc, stream), = streams.values()
        assert ssrc == publisher.getTransceivers()[0].sender._ssrc
        assert {s for _, s in stream.keyframes} == {SIZES["f"]}
        assert stream.frames >= 30
        assert all(s.packets_sent == 0 for rid, s in source.encodings.items() if rid != "f")
    finally:
        await sender.stop()
        await publisher.close()
        await server.pc.close()


async def test_a_session_publishes_simulcast_to_the_server(
        room, files: dict[str, Path], sessions: list[MediaSession]) -> None:
    """Against the real server: the offer carries simulcast; whatever the server answers
    (today: one encoding), a subscriber receives the camera at 30 fps, and if the server
    takes simulcast every encoding is sent."""
    alice, bob = await room.join("group_call_host"), await room.join()
    sent = await MediaSession.attach(alice)
    got = await MediaSession.attach(bob)
    sessions += [sent, got]
    source = SimulcastSource.from_files(files)
    await sent.publish("video", source)
    # audio at once, before the video's connection is up: a second offer and answer,
    # in which the RID keeps its extension id
    await sent.publish("audio", AudioStreamTrack())
    layered = sent.simulcast["video"]
    remote = await got.wait_track(alice.peer_id, "video", frames=30, timeout=15)
    before, t0 = remote.counters.frames, time.monotonic()
    await asyncio.sleep(2)
    fps = (remote.counters.frames - before) / (time.monotonic() - t0)
    assert 25 <= fps <= 35, fps
    running = {rid for rid, s in source.encodings.items() if s.packets_sent}
    assert running == (set(layered.accepted) or {"f"})
    if layered.accepted:  # a server that takes simulcast knows each encoding by its RID
        stats = await alice.request("media.stats")
        video = next(t for t in stats["tracks"] if t["kind"] == "video")
        assert {e["rid"]: e["height"] for e in video["encodings"]} == {
            rid: SIZES[rid][1] for rid in layered.accepted}
    # unpublished and published again: the same transceiver and sender, new sources
    await sent.unpublish("video")
    again = SimulcastSource.from_files(files)
    await sent.publish("video", again)
    assert sent.simulcast["video"] is layered
    await wait_until(lambda: again.encodings["f"].packets_sent > 30, 5)
    with pytest.raises(ValueError):
        await sent.publish("video", again.encodings["f"])  # one encoding on a simulcast one


async def test_a_moved_peer_takes_its_simulcast_camera_along(
        room, files: dict[str, Path], sessions: list[MediaSession]) -> None:
    """Moved to a connected meeting, the session publishes the same `SimulcastSource`
    again there: a new sender on the new connection, the sources never stopped."""
    host = await room.join("group_call_host")
    (child,) = await host.create_connected(["Side room"])
    mover = await room.join()
    there = await room.admin.add_participant(child["id"], "already-there",
                                             "group_call_host", name="Resident")
    resident = await room.connect(there["token"])
    mm, mr = await MediaSession.attach(mover), await MediaSession.attach(resident)
    sessions += [mm, mr]
    source = SimulcastSource.from_files(files)
    await mm.publish("video", source)
    before = mm.simulcast["video"]
    await host.move_to(child["id"], [mover.peer_id])
    await mover.wait_for("meeting.changed")
    await mr.wait_track(mover.peer_id, "video", frames=30, timeout=15)
    after = mm.simulcast["video"]
    assert after is not before and after.source is source and before.extras == {}
    sent = {rid: s.packets_sent for rid, s in source.encodings.items()}
    await asyncio.sleep(1)
    running = {rid for rid, s in source.encodings.items() if s.packets_sent > sent[rid]}
    # f is taken and q never paused; h, which nobody takes, may already be (pausing.py)
    assert {"q", "f"} <= running <= (set(after.accepted) or {"f"})
    assert all(s.readyState == "live" for s in source.encodings.values())


async def test_an_encoding_nobody_takes_is_paused_and_comes_back_when_asked(
        room, files: dict[str, Path], sessions: list[MediaSession]) -> None:
    """Issue 18: a layer nobody needs is paused. Bob shows Alice's camera as a thumbnail
    (the low encoding): after a few seconds the server tells Alice to stop sending h and
    f, and her client stops; Bob goes on at full frame rate. Bob enlarges the tile: h is
    asked back, sent again, and Bob is switched to it."""
    alice, bob = await room.join("group_call_host"), await room.join()
    sent, got = await MediaSession.attach(alice), await MediaSession.attach(bob)
    sessions += [sent, got]
    source = SimulcastSource.from_files(files)
    reply = await sent.publish("video", source)
    layered = sent.simulcast["video"]
    assert layered.accepted == ["q", "h", "f"]
    track_id = next(t["track_id"] for t in reply["tracks"] if t["kind"] == "video")
    await bob.request("media.prefer", heights={track_id: 100})  # q is 120 px high
    remote = await got.wait_track(alice.peer_id, "video", frames=30, timeout=15)
    event = await alice.wait_for("media.encodings", timeout=15)
    assert event["track_id"] == track_id
    assert [e["rid"] for e in event["encodings"]] == ["q", "h", "f"]
    await wait_until(lambda: layered.inactive == {"h", "f"}, 10)
    stats = await alice.request("media.stats")
    video = next(t for t in stats["tracks"] if t["kind"] == "video")
    assert {e["rid"]: e["active"] for e in video["encodings"]} == {
        "q": True, "h": False, "f": False}
    await asyncio.sleep(0.3)  # what was in flight
    counts = {rid: s.packets_sent for rid, s in source.encodings.items()}
    # Bob goes on without a freeze: a new frame at least every 0.5 s (his estimate may
    # drop q's top temporal layers meanwhile: this test's one event loop lags)
    last_frames, last_new, longest = remote.counters.frames, time.monotonic(), 0.0
    for _ in range(60):
        await asyncio.sleep(0.05)
        now = time.monotonic()
        if remote.counters.frames > last_frames:
            longest = max(longest, now - last_new)
            last_frames, last_new = remote.counters.frames, now
    longest = max(longest, time.monotonic() - last_new)
    assert longest < 0.5, longest
    grew = {rid for rid, s in source.encodings.items() if s.packets_sent > counts[rid]}
    assert grew == {"q"}
    # a bigger tile: h is wanted again (it fits Bob's estimate; f would take a climb),
    # resumed at once, and Bob is switched to it
    await bob.request("media.prefer", heights={track_id: 240})
    await wait_until(lambda: "h" not in layered.inactive, 5)
    assert "f" in layered.inactive
    async with asyncio.timeout(10):
        while True:
            stats = await bob.request("media.stats")
            slot = next(s for s in stats["receiving"] if s["track_id"] == track_id)
            if slot.get("encoding") == "h":
                break
            await asyncio.sleep(0.5)
    assert source.encodings["h"].packets_sent > counts["h"]
    assert source.encodings["f"].packets_sent == counts["f"]
    # published anew (a new track on the server, every encoding wanted): all are sent
    await sent.unpublish("video")
    again = SimulcastSource.from_files(files)
    await sent.publish("video", again)
    assert layered.inactive == set()
    await wait_until(lambda: all(s.packets_sent > 10 for s in again.encodings.values()), 5)
