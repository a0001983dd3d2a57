"""Simulcast on the embedded SFU without a network (docs/media-design.md §6.10): the
offer/answer munging, aiortc's router learning SSRCs by MID, a `Published` placing
packets in encodings by RID and each slot taking one encoding, switching at a keyframe
with continuous numbers, and the selector's choice of encoding."""

import asyncio
from types import SimpleNamespace

from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from salon.media.backend import TrackInfo
from salon.media.embedded import hooks, simulcast_sdp, vp8
from salon.media.embedded.downstream import SWITCHING, Downstream
from salon.media.embedded.forward import Published
from salon.media.embedded.layers import ALL
from salon.media.embedded.selector import (
    VideoWant,
    allocate,
    allocate_layers,
    simulcast_caps,
)
from tests.test_media_rtp import Wire

OFFER = """v=0\r
o=- 1 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
a=mid:0\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtpmap:111 opus/48000/2\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
a=mid:1\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r
a=sendonly\r
a=rtpmap:96 VP8/90000\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=rid:q send\r
a=rid:h send\r
a=rid:f send\r
a=simulcast:send q;h;~f\r
"""


def test_the_offer_names_the_encodings_and_their_extension_ids() -> None:
    found = simulcast_sdp.offered(OFFER)
    assert found == {"1": simulcast_sdp.Simulcast(("q", "h", "f"), 10, 11)}
    # alternatives: the first of each stream; an undeclared RID is ignored
    other = OFFER.replace("a=simulcast:send q;h;~f", "a=simulcast:send q,x;h;z")
    assert simulcast_sdp.offered(other)["1"].rids == ("q", "h")
    # no RID extension, or a single encoding: an ordinary stream
    assert simulcast_sdp.offered(OFFER.replace("sdes:rtp-stream-id", "sdes:other")) == {}
    assert simulcast_sdp.offered(OFFER.replace("q;h;~f", "q")) == {}
    assert simulcast_sdp.offered(OFFER.replace("a=rid:q send", "a=rid:q/x send")
                                 .replace("a=rid:h send", "a=rid:h recv")) == {}
    assert simulcast_sdp.offered("garbage\r\nm=video\r\na=simulcast:\r\n") == {}


def test_the_answer_accepts_each_encoding_on_its_m_line() -> None:
    answer = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
              "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=recvonly\r\n")
    out = simulcast_sdp.answer(answer, simulcast_sdp.offered(OFFER))
    video = out.split("m=video")[1]
    assert "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n" in video
    assert video.endswith("a=simulcast:recv q;h;f\r\n")
    assert "rid" not in out.split("m=video")[0]
    assert simulcast_sdp.answer(answer, {}) == answer


def test_a_packet_of_an_unannounced_ssrc_is_routed_by_its_mid_once() -> None:
    """Two m-lines with the same payload type: aiortc alone drops the packet."""
    router = RtpRouter()
    camera, screen = object(), object()
    router.register_receiver(camera, ssrcs=[], payload_types=[96], mid="1")
    router.register_receiver(screen, ssrcs=[555], payload_types=[96], mid="2")
    packet = RtpPacket(payload_type=96, ssrc=4242)
    assert router.route_rtp(packet) is None
    hooks.route_by_mid(SimpleNamespace(receiver=SimpleNamespace(
        transport=SimpleNamespace(_rtp_router=router))))
    packet.extensions = HeaderExtensions(mid="1")
    assert router.route_rtp(packet) is camera
    later = RtpPacket(payload_type=96, ssrc=4242)  # browsers stop sending the MID
    assert router.route_rtp(later) is camera
    assert router.route_rtp(RtpPacket(payload_type=96, ssrc=555)) is screen


# --- forwarding ------------------------------------------------------------------------------

def vp8_payload(pid: int, tl0: int, *, key: bool, height: int, start: bool = True) -> bytes:
    """Descriptor (X, S, 15-bit PictureID, TL0PICIDX, no TID), then a VP8 frame header:
    for a keyframe the start code and the picture size (RFC 6386 §9.1)."""
    first = 0x80 | (0x10 if start else 0)
    head = bytes([first, 0xC0, 0x80 | (pid >> 8), pid & 0xFF, tl0])
    if not start:
        return head + b"rest"
    if key:
        width = height * 16 // 9
        return head + bytes([0x00, 0x00, 0x00, 0x9D, 0x01, 0x2A, width & 0xFF, width >> 8,
                             height & 0xFF, height >> 8]) + b"key"
    return head + b"\x01\x00\x00delta"


class Stream:
    """One simulcast encoding as a publisher sends it: its own SSRC, sequence numbers,
    timestamps and PictureIDs; the RID on its first packets only."""

    def __init__(self, rid: str, ssrc: int, height: int, seq: int, ts: int) -> None:
        self.rid, self.ssrc, self.height = rid, ssrc, height
        self.seq, self.ts, self.pid = seq, ts, 100 + ssrc % 50
        self.sent = 0

    def frame(self, key: bool) -> list[RtpPacket]:
        out = []
        for part in range(2):
            payload = vp8_payload(self.pid, self.pid & 0xFF, key=key, height=self.height,
                                  start=part == 0)
            packet = RtpPacket(payload_type=96, marker=part, sequence_number=self.seq,
                               timestamp=self.ts, ssrc=self.ssrc, payload=payload)
            if self.sent < 3:
                packet.extensions = HeaderExtensions(rtp_stream_id=self.rid)
            self.sent += 1
            self.seq = (self.seq + 1) & 0xFFFF
            out.append(packet)
        self.ts += 3000
        self.pid += 1
        return out


def fake_receiver(plis: list[int]) -> SimpleNamespace:
    receiver = SimpleNamespace(_handle_rtp_packet=None, _enabled=True)
    for name in ("codecs", "remote_streams", "rtx_ssrc"):
        setattr(receiver, f"_RTCRtpReceiver__{name}", {})
    receiver._RTCRtpReceiver__nack_generator = None
    receiver._RTCRtpReceiver__rtcp_ssrc = 77

    async def send_pli(ssrc: int) -> None:
        plis.append(ssrc)

    receiver._send_rtcp_pli = send_pli
    return receiver


def slot() -> tuple[Downstream, Wire, HeaderExtensionsMap]:
    downstream = Downstream("video", "video/VP8")
    wire = Wire()
    downstream._output = wire  # type: ignore[assignment]
    params = RTCRtpSendParameters(
        codecs=[RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000,
                                      payloadType=97)],
        headerExtensions=[RTCRtpHeaderExtensionParameters(
            id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid")], muxId="1")
    downstream._configure(params)
    extensions = HeaderExtensionsMap()
    extensions.configure(params)
    return downstream, wire, extensions


async def test_each_slot_takes_one_encoding_and_switches_at_its_keyframe() -> None:
    plis: list[int] = []
    published = Published(TrackInfo("p:video", "p", "video", "video/VP8", "1"),
                          SimpleNamespace(kind="video"), fake_receiver(plis))
    published.payload_types = frozenset({96})
    published.set_simulcast(("f", "q", "h"))  # offer order is not size order
    published.forwarding = True
    streams = [Stream("f", 3, 720, 9000, 50_000), Stream("q", 1, 180, 100, 7),
               Stream("h", 2, 360, 65530, 4_000_000_000)]

    def frame(keys: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        for stream in streams:
            for packet in stream.frame(stream.rid in keys):
                published._on_rtp(packet, False)

    frame({"f", "q", "h"})
    assert [e.rid for e in published.encodings] == ["q", "h", "f"]  # by keyframe height
    assert [e.height for e in published.encodings] == [180, 360, 720]
    low, high = slot(), slot()
    for downstream, _, _ in (low, high):
        downstream.attach(published)
        downstream.start()
    # both start on the highest sending encoding; the low one is moved down
    published.retarget(low[0], published.encodings[0])
    await asyncio.sleep(0)
    assert plis == [3]  # f's keyframe asked for; q's ask shares the outstanding one
    published.pli_pending_since = None
    published.request_keyframe(published.encodings[0])
    await asyncio.sleep(0)
    assert plis == [3, 1]  # by the SSRC of the encoding needed
    frame()  # each starts from its encoding's latest keyframe (the picture group kept)
    assert low[0].spatial is published.encodings[0]
    assert high[0].spatial is published.encodings[2]
    for _ in range(3):
        frame()

    def heights(out: list[bytes], extensions: HeaderExtensionsMap) -> list[int]:
        found = []
        for data in out:
            packet = RtpPacket.parse(data, extensions)
            size = vp8.keyframe_size(packet.payload, vp8.parse(packet.payload).header_len)
            if size is not None:
                found.append(size[1])
        return found

    assert heights(low[1].sent, low[2]) == [180]
    assert heights(high[1].sent, high[2]) == [720]
    # the high one is moved down to h: it keeps f until h's keyframe
    published.retarget(high[0], published.encodings[1])
    before = len(high[1].sent)
    frame()
    assert len(high[1].sent) == before + 2  # still f
    state = high[0].forward(streams[2].frame(False)[0], False, b"\0\0\0", None, 9.0,
                            None, False, published.encodings[1])
    assert state == SWITCHING
    published.pli_pending_since = None
    frame({"h"})
    frame()
    assert heights(high[1].sent, high[2]) == [720, 360]
    assert high[0].spatial_switches == 1
    out = [RtpPacket.parse(p, high[2]) for p in high[1].sent]
    seqs = [p.sequence_number for p in out]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False)), seqs
    pids = [vp8.parse(p.payload).picture_id for p in out if p.payload[0] & 0x10]
    assert all((b - a) & 0x7FFF == 1 for a, b in zip(pids, pids[1:], strict=False)), (
        pids, [p.sequence_number for p in out])
    stamps = [p.timestamp for p in out if p.marker]
    assert all(0 < (b - a) & 0xFFFFFFFF < 90000 for a, b in zip(stamps, stamps[1:],
                                                               strict=False)), stamps
    assert {p.ssrc for p in out} == {high[0]._ssrc}
    # the slot left f: f's packets no longer reach it
    assert high[0] not in published.encodings[2].slots
    # a packet from an SSRC with no RID, or an unknown RID, cannot be placed: dropped
    stray = RtpPacket(payload_type=96, marker=1, sequence_number=1, ssrc=99,
                      payload=vp8_payload(1, 1, key=True, height=90))
    stray.extensions = HeaderExtensions(rtp_stream_id="zz")
    published._on_rtp(stray, False)
    assert 99 not in published._by_ssrc
    # RTX of an encoding names it by repaired RID
    assert published._ssrc_of_rid("h") == 2 and published._ssrc_of_rid("x") is None
    stats = published.stats()
    assert [e["rid"] for e in stats["encodings"]] == ["q", "h", "f"]
    for downstream, _, _ in (low, high):
        downstream.detach()
    assert all(not e.slots for e in published.encodings)


# --- choosing an encoding ---------------------------------------------------------------------

Q = (60_000.0, 90_000.0, 130_000.0)       # 320x180, TL0 / +TL1 / +TL2
H = (180_000.0, 270_000.0, 400_000.0)     # 640x360
F = (600_000.0, 900_000.0, 1_300_000.0)   # 1280x720


def test_a_constrained_link_gets_the_low_encoding_at_full_frame_rate() -> None:
    sim = VideoWant(encodings=(Q, H, F))
    assert allocate_layers(5_000_000, 48_000, [sim]) == [(2, ALL)]
    assert allocate_layers(300_000, 48_000, [sim]) == [(0, ALL)]  # not h at 7.5 fps
    assert allocate_layers(650_000, 48_000, [sim]) == [(1, ALL)]
    assert allocate_layers(100_000, 48_000, [sim]) == [(0, 0)]  # never below q's TL0
    # an encoding that is not sending (paused by the publisher) is never chosen
    paused = VideoWant(encodings=(Q, H, (0.0,)))
    assert allocate_layers(5_000_000, 0, [paused]) == [(1, ALL)]
    # only two encodings sent (a small camera), no temporal layers
    assert allocate_layers(5_000_000, 0, [VideoWant(encodings=((200_000.0,),
                                                                (700_000.0,)))]) == [(1, ALL)]
    # nothing measured yet
    assert allocate_layers(1_000_000, 0, [VideoWant(encodings=((0.0,),))]) == [(0, ALL)]


def test_a_temporal_only_stream_is_chosen_as_before() -> None:
    layered = VideoWant((150_000.0, 215_000.0, 300_000.0))
    assert allocate(300_000, 48_000, [layered]) == [1]
    assert allocate_layers(300_000, 48_000, [layered]) == [(0, 1)]
    assert allocate(2_000_000, 0, [layered, VideoWant(encodings=(Q, H, F))]) == [ALL, ALL]


def test_the_subscribers_own_limits_cap_the_encoding() -> None:
    heights = [180, 360, 720]
    assert simulcast_caps(True, None, heights) == (0, 0)   # data saver: the lowest, TL0
    assert simulcast_caps(False, 0, heights) == (0, 0)     # not shown
    assert simulcast_caps(False, 120, heights) == (0, ALL)  # thumbnail: the lowest
    assert simulcast_caps(False, 300, heights) == (1, ALL)
    assert simulcast_caps(False, 1080, heights) == (2, ALL)
    assert simulcast_caps(False, None, heights) == (2, ALL)
    assert simulcast_caps(False, 150, [0, 0, 0]) == (0, ALL)  # sizes not known yet
    assert simulcast_caps(False, 400, [0, 0, 0]) == (2, ALL)
    thumb = VideoWant(encodings=(Q, H, F), spatial_cap=0, cap=ALL)
    assert allocate_layers(5_000_000, 0, [thumb]) == [(0, ALL)]
    saver = VideoWant(encodings=(Q, H, F), spatial_cap=0, cap=0)
    assert allocate_layers(5_000_000, 0, [saver]) == [(0, 0)]


async def test_each_encoding_has_its_own_nacks_and_its_rtx_is_found_by_repaired_rid() -> None:
    from aiortc.rtcrtpreceiver import NackGenerator

    receiver = SimpleNamespace(_enabled=True, _handle_rtp_packet=None)
    receiver._RTCRtpReceiver__codecs = {
        96: RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96),
        97: RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=97,
                                  parameters={"apt": 96})}
    receiver._RTCRtpReceiver__remote_streams = {}
    receiver._RTCRtpReceiver__rtx_ssrc = {}
    receiver._RTCRtpReceiver__nack_generator = NackGenerator()
    nacks: list[tuple[int, list[int]]] = []

    async def send_nack(ssrc: int, missing: list[int]) -> None:
        nacks.append((ssrc, missing))

    receiver._send_rtcp_nack = send_nack
    got: list[tuple[int, int, bool]] = []
    hooks.forward_rtp(receiver, lambda p, rtx: got.append((p.ssrc, p.sequence_number, rtx)))
    hooks.repair_by_rid(receiver, {"q": 1111, "h": 2222}.get)

    async def send(ssrc: int, seq: int, pt: int = 96, payload: bytes = b"\x10\x00x",
                   repaired: str | None = None) -> None:
        packet = RtpPacket(payload_type=pt, sequence_number=seq, ssrc=ssrc, payload=payload)
        packet.extensions = HeaderExtensions(repaired_rtp_stream_id=repaired)
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)

    for ssrc, seq in ((1111, 10), (2222, 50_000), (1111, 11), (2222, 50_001)):
        await send(ssrc, seq)
    assert nacks == []  # two sequence-number spaces, no gap in either
    await send(1111, 13)
    assert nacks == [(1111, [12])]
    await send(3333, 700, pt=97, payload=(12).to_bytes(2, "big") + b"\x10\x00x",
               repaired="q")
    assert got[-1] == (1111, 12, True)  # unwrapped onto q's SSRC
    await send(3333, 701, pt=97, payload=(14).to_bytes(2, "big") + b"\x10\x00x")
    assert got[-1] == (1111, 14, True)  # the RTX SSRC is known from then on
    count = len(got)
    await send(4444, 1, pt=97, payload=b"\x00\x01xx", repaired="zz")
    assert len(got) == count  # repairs an encoding nobody offered: dropped


async def test_a_subscribers_downlink_moves_its_slot_between_encodings() -> None:
    """`Downlink.apply` with measured encoding rates: what fits the estimate, data saver,
    a thumbnail; the slot's wanted encoding follows and a keyframe of it is asked for."""
    from salon.media.embedded.downlink import Downlink

    plis: list[int] = []
    published = Published(TrackInfo("p:video", "p", "video", "video/VP8", "1"),
                          SimpleNamespace(kind="video"), fake_receiver(plis))
    published.set_simulcast(("q", "h", "f"))
    for ssrc, (encoding, height) in enumerate(zip(published.encodings, (180, 360, 720),
                                                  strict=True), start=1):
        encoding.ssrc, encoding.height = ssrc, height
    downstream, _, _ = slot()
    downstream.attach(published)
    assert downstream.spatial_target is published.encodings[2]  # the top one sending
    now = [0.0]
    downlink = Downlink(lambda: [downstream], 300_000, clock=lambda: now[0])
    downlink.apply()
    for encoding, rate in zip(published.encodings, (130_000, 280_000, 900_000), strict=True):
        encoding.layer_bytes[0] += rate // 8
    now[0] = 1.0
    published.pli_pending_since = None
    downlink.apply()
    await asyncio.sleep(0)
    assert downstream.spatial_target is published.encodings[0]
    assert plis[-1] == 1  # q's keyframe
    assert downstream.layers.target == ALL  # type: ignore[union-attr]
    downlink.estimate.value = 5_000_000
    downlink.apply()
    assert downstream.spatial_target is published.encodings[2]
    downlink.heights[published.info.track_id] = 300
    downlink.apply()
    assert downstream.spatial_target is published.encodings[1]  # the first ≥ 300 px
    downlink.data_saver = True
    downlink.apply()
    assert downstream.spatial_target is published.encodings[0]
    assert downstream.layers.target == 0  # type: ignore[union-attr]
    assert published.demand[id(downstream)] == 5_000_000  # the publisher's cap follows
