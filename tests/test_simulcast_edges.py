"""Simulcast forwarding at its edges (found by a review; docs/media-design.md §6.10): a
slot that starts before anything is sent, resends across a switch (by RTX, and on the
media SSRC by a publisher without RTX), the clock at a switch, keyframe requests at most
one a second, and a receiver flooded with made-up SSRCs. `Published` and `Downstream`
with the fake receiver and wire of tests/test_simulcast.py."""

import asyncio
import time
from types import SimpleNamespace

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import HeaderExtensions, RtpPacket

from salon.media.backend import TrackInfo
from salon.media.embedded import hooks
from salon.media.embedded.forward import Published
from tests.test_simulcast import Stream, fake_receiver, slot


def publisher(rids: tuple[str, ...], plis: list | None = None) -> Published:
    pub = Published(TrackInfo("p:video", "p", "video", "video/VP8", "1"),
                    SimpleNamespace(kind="video"), fake_receiver([] if plis is None else plis))
    pub.payload_types = frozenset({96})
    pub.set_simulcast(rids)
    pub.forwarding = True
    return pub


def sender(pub: Published, *streams: Stream):
    def frame(keys=()) -> dict[str, list]:
        out = {}
        for s in streams:
            out[s.rid] = s.frame(s.rid in keys)
            for packet in out[s.rid]:
                pub._on_rtp(packet, False)
        return out
    return frame


async def test_a_slot_that_starts_before_anything_is_sent_gets_what_is_sent() -> None:
    """Subscribed as the track is announced, its first target is the top encoding; the
    publisher never sends it (a small camera): the slot starts on what it does send."""
    plis: list = []
    pub = publisher(("q", "h", "f"), plis)
    ds, wire, _ = slot()
    ds.attach(pub)
    ds.start()
    assert ds.spatial_target is pub.encodings[-1]
    frame = sender(pub, Stream("q", 1, 135, 100, 7), Stream("h", 2, 270, 5000, 9))
    for i in range(120):  # 4 s at 30 fps, keyframes every 2 s
        frame({"q", "h"} if i % 60 == 0 else ())
    await asyncio.sleep(0)
    assert len(wire.sent) > 100 and ds.spatial is not None
    assert ds.spatial.rid in ("q", "h")


async def test_a_late_resend_of_a_packet_from_before_a_switch_is_not_sent() -> None:
    pub = publisher(("q", "h"))
    frame = sender(pub, Stream("q", 1, 180, 100, 7), Stream("h", 2, 360, 5000, 9))
    frame({"q", "h"})
    ds, wire, ext = slot()
    ds.attach(pub)
    ds.start()
    pub.retarget(ds, pub.encodings[0])
    frame({"q"})
    for _ in range(3):
        frame()
    pub.retarget(ds, pub.encodings[1])
    before_switch = frame()  # h packets while the slot still sends q
    frame({"h"})             # the switch, at h's keyframe
    frame()
    assert ds.spatial is pub.encodings[1]
    ours = [RtpPacket.parse(d, ext).sequence_number for d in wire.sent]
    assert ours == [(ours[0] + i) & 0xFFFF for i in range(len(ours))]  # gapless
    sent = len(wire.sent)
    pub._on_rtp(before_switch["h"][0], True)  # its RTX arrives late
    assert len(wire.sent) == sent  # never sent to this slot: nothing to repeat
    # a resend of a packet it did send takes the number it had
    after = frame()
    first = RtpPacket.parse(wire.sent[-len(after["h"])], ext).sequence_number
    pub._on_rtp(after["h"][0], True)
    assert RtpPacket.parse(wire.sent[-1], ext).sequence_number == first


async def test_a_resend_on_the_media_ssrc_is_not_a_new_keyframe() -> None:
    """A publisher without RTX (aiortc's when RTX is not negotiated) resends a lost
    packet as it was: behind the newest, it is a retransmission."""
    pub = publisher(("q", "h"))
    frame = sender(pub, Stream("q", 1, 180, 100, 7), Stream("h", 2, 360, 5000, 9))
    keyframe = frame({"q", "h"})
    for _ in range(5):
        frame()
    gop = list(pub.encodings[1].gop)
    pub._on_rtp(keyframe["h"][0], False)
    assert pub.encodings[1].keyframes == 1
    assert pub.encodings[1].gop == gop


async def test_our_clock_never_goes_back_at_a_switch() -> None:
    pub = publisher(("q", "h"))
    q, h = Stream("q", 1, 135, 100, 7), Stream("h", 2, 270, 5000, 9)
    frame = sender(pub, q, h)
    frame({"q", "h"})
    ds, wire, ext = slot()
    ds.attach(pub)
    ds.start()
    pub.retarget(ds, pub.encodings[0])
    frame({"q"})
    old = None
    for i in range(10):
        sent = frame()
        if i == 5:
            old = sent["q"][0]
    pub.retarget(ds, pub.encodings[1])
    pub._on_rtp(old, True)  # a late resend of an older q frame, just before the switch
    for packet in h.frame(True):
        pub._on_rtp(packet, False)
    stamps = [RtpPacket.parse(d, ext).timestamp for d in wire.sent]
    assert stamps[-1] > max(stamps[:-2])  # the new encoding's keyframe comes after all


async def test_the_publisher_hears_at_most_one_keyframe_request_a_second() -> None:
    plis: list = []
    pub = publisher(("q", "h", "f"), plis)
    streams = [Stream("q", 1, 135, 100, 7), Stream("h", 2, 270, 5000, 9),
               Stream("f", 3, 540, 9000, 11)]
    frame = sender(pub, *streams)
    frame({"q", "h", "f"})
    for encoding in pub.encodings:
        ds, _, _ = slot()
        ds.attach(pub)
        ds.start()
        pub.retarget(ds, encoding)
    await asyncio.sleep(0)  # the requests sent so far land (the fake sends in a task)
    plis.clear()
    pub.pli_pending_since = None
    pub.set_active(forwarding=False)
    pub.set_active(forwarding=True)  # a camera off and on: every slot waits for a keyframe
    started = time.monotonic()
    while time.monotonic() - started < 0.5:
        keys = {s.rid for s in streams if s.ssrc in plis}  # answered at once
        frame(keys)
        await asyncio.sleep(0.02)
    assert len(plis) == 1, plis


async def test_a_receiver_keeps_figures_for_a_bounded_number_of_ssrcs() -> None:
    receiver = SimpleNamespace(_enabled=True, _handle_rtp_packet=None)
    receiver._RTCRtpReceiver__codecs = {
        96: RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96),
        97: RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=97,
                                  parameters={"apt": 96})}
    receiver._RTCRtpReceiver__remote_streams = streams = {}
    receiver._RTCRtpReceiver__rtx_ssrc = {}
    receiver._RTCRtpReceiver__nack_generator = NackGenerator()
    nacks: list = []

    async def send_nack(ssrc: int, missing: list[int]) -> None:
        nacks.append((ssrc, missing))

    receiver._send_rtcp_nack = send_nack
    forwarded: list = []
    hooks.forward_rtp(receiver, lambda packet, _: forwarded.append(packet.ssrc))

    async def send(ssrc: int, seq: int) -> None:
        packet = RtpPacket(payload_type=96, sequence_number=seq, ssrc=ssrc, payload=b"\x10\x00x")
        packet.extensions = HeaderExtensions()
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)

    await send(1111, 10)
    for i in range(2000):
        await send(10_000 + i, 1)
    await send(1111, 11)
    await send(1111, 13)
    assert len(streams) == hooks.MAX_STREAMS
    assert forwarded.count(1111) == 3 and len(forwarded) == hooks.MAX_STREAMS + 2
    assert nacks[-1] == (1111, [12])  # the real stream's losses are still asked for
