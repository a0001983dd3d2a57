"""The forwarder's RTP rewriting, without a network: keyframe starts found in packets,
header extensions, and one subscriber slot's numbering across pauses and sources.
(The same code under real aiortc and Chromium peers: tests/media, tests/e2e.)"""

from dataclasses import dataclass, field

from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from salon.media.embedded import rtp
from salon.media.embedded.forward import Downstream

# --- keyframe starts ------------------------------------------------------------------------


def test_vp8_keyframe_starts_are_found_behind_any_descriptor() -> None:
    assert rtp.vp8_starts_keyframe(bytes([0x10, 0x00, 0x00]))          # S, partition 0, P=0
    assert not rtp.vp8_starts_keyframe(bytes([0x10, 0x01, 0x00]))      # P=1: a delta frame
    assert not rtp.vp8_starts_keyframe(bytes([0x00, 0x00]))            # not the start
    assert not rtp.vp8_starts_keyframe(bytes([0x11, 0x00]))            # partition 1
    # X with I (15-bit picture id), L and T: five descriptor bytes before the header
    assert rtp.vp8_starts_keyframe(bytes([0x90, 0xE0, 0x81, 0x23, 0x07, 0x40, 0x00]))
    assert not rtp.vp8_starts_keyframe(bytes([0x90, 0xE0, 0x81, 0x23, 0x07, 0x40, 0x01]))
    # 7-bit picture id only
    assert rtp.vp8_starts_keyframe(bytes([0x90, 0x80, 0x05, 0x00]))
    assert not rtp.vp8_starts_keyframe(bytes([0x90, 0x80]))            # truncated
    assert not rtp.vp8_starts_keyframe(b"")


def test_h264_keyframe_starts_are_found_in_every_packetization() -> None:
    assert rtp.h264_starts_keyframe(bytes([0x67, 0x42]))               # SPS
    assert rtp.h264_starts_keyframe(bytes([0x65, 0x88]))               # IDR slice
    assert not rtp.h264_starts_keyframe(bytes([0x41, 0x9A]))           # non-IDR slice
    stap = bytes([0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xCE])          # STAP-A: SPS, PPS
    assert rtp.h264_starts_keyframe(stap)
    assert not rtp.h264_starts_keyframe(bytes([0x78, 0, 2, 0x41, 0x9A]))
    assert rtp.h264_starts_keyframe(bytes([0x7C, 0x85, 0x88]))         # FU-A start of IDR
    assert not rtp.h264_starts_keyframe(bytes([0x7C, 0x05, 0x88]))     # FU-A middle
    assert not rtp.h264_starts_keyframe(bytes([0x7C, 0x81, 0x9A]))     # FU-A start, non-IDR
    assert not rtp.h264_starts_keyframe(b"")


def test_audio_packets_always_start_and_unknown_video_never() -> None:
    assert rtp.starts_keyframe("audio/opus", b"\x01")
    assert not rtp.starts_keyframe("video/AV1", b"\x00")
    assert rtp.starts_keyframe("video/VP8", bytes([0x10, 0x00]))


def test_extension_block_is_padded_to_whole_words() -> None:
    block = rtp.extension_block(rtp.element(1, b"0") + rtp.element(3, b"abc"))
    assert block[:2] == b"\xbe\xde"
    assert int.from_bytes(block[2:4], "big") == 2
    assert block[4:] == bytes([0x10]) + b"0" + bytes([0x32]) + b"abc" + b"\x00\x00"
    assert rtp.audio_level(True, 30) == bytes([0x80 | 30])


def test_an_extension_frame_is_the_block_without_its_per_packet_values() -> None:
    for fixed in (b"", rtp.element(1, b"0"), rtp.element(1, b"12") + bytes([0x32])):
        for values in (b"", b"\x01\x02\x03", b"\x01\x02\x03\x10\x85", b"\x10\x85"):
            head, pad = rtp.extension_frame(fixed, len(values))
            assert head + values + pad == rtp.extension_block(fixed + values)


# --- one subscriber slot --------------------------------------------------------------------

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


@dataclass
class Source:
    """What a slot needs of a `Published`."""
    is_video: bool
    downstreams: set = field(default_factory=set)
    demand: dict = field(default_factory=dict)
    asks: int = 0
    rids: tuple = ()  # a single stream, not simulcast

    def request_keyframe(self, encoding=None) -> None:
        self.asks += 1


class Wire:
    """Stands in for `sender_hooks.RtpOutput`: keeps what would go out (no SRTP)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.connected = True

    def ready(self) -> bool:
        return self.connected

    def steady(self) -> bool:
        return False  # no fast lane: every packet takes the Python path (lane.py)

    def write(self, packet: bytes) -> bytes | None:
        if not self.connected:
            return None
        self.sent.append(packet)
        return packet

    def resend(self, datagram: bytes) -> None:
        self.sent.append(datagram)


def parameters(kind: str) -> RTCRtpSendParameters:
    if kind == "video":
        codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
        exts = [RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=3, uri=ABS)]
    else:
        codec = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2,
                                      payloadType=111)
        exts = [RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=2, uri=LEVEL)]
    return RTCRtpSendParameters(codecs=[codec], headerExtensions=exts, muxId="3")


def slot(kind: str) -> tuple[Downstream, Wire, HeaderExtensionsMap]:
    downstream = Downstream(kind, "video/VP8" if kind == "video" else "audio/opus")
    wire = Wire()
    downstream._output = wire  # type: ignore[assignment]
    downstream._ssrc = 0xCAFE
    params = parameters(kind)
    downstream._configure(params)
    extensions = HeaderExtensionsMap()
    extensions.configure(params)
    return downstream, wire, extensions


def incoming(seq: int, ts: int, payload: bytes, *, marker: bool = True,
             pt: int = 100) -> RtpPacket:
    return RtpPacket(payload_type=pt, marker=int(marker), sequence_number=seq & 0xFFFF,
                     timestamp=ts & 0xFFFFFFFF, ssrc=1234, payload=payload)


KEY, DELTA = bytes([0x10, 0x00, 0xAA]), bytes([0x10, 0x01, 0xBB])


def test_a_slot_rewrites_the_header_for_its_subscriber() -> None:
    downstream, wire, extensions = slot("audio")
    downstream.attach(Source(is_video=False))  # type: ignore[arg-type]
    downstream.start()
    downstream.forward(incoming(500, 9600, b"opus"), True, b"\x00\x00\x01",
                       rtp.audio_level(True, 12), 100.0)
    out = RtpPacket.parse(wire.sent[0], extensions)
    assert (out.payload_type, out.ssrc, out.payload, out.marker) == (111, 0xCAFE, b"opus", 1)
    assert out.extensions.mid == "3"
    assert out.extensions.audio_level == (True, 12)
    assert downstream.sent == 1


def test_video_waits_for_a_keyframe_and_numbers_stay_continuous_across_sources() -> None:
    downstream, wire, extensions = slot("video")
    a, b = Source(is_video=True), Source(is_video=True)
    downstream.attach(a)  # type: ignore[arg-type]
    assert downstream.forward(incoming(9, 0, KEY), True, b"\0\0\0", None, 0.9) is False
    assert wire.sent == []  # held until the subscriber answers
    assert a.asks == 1  # meanwhile the publisher makes a fresh keyframe
    downstream.start()
    assert downstream.needs_keyframe
    assert downstream.forward(incoming(10, 3000, DELTA), False, b"\0\0\0", None, 1.0)
    assert wire.sent == []  # a delta frame first would decode to garbage
    for i in range(3):
        downstream.forward(incoming(11 + i, 6000 + 3000 * i, KEY if i == 0 else DELTA),
                           i == 0, b"\0\0\0", None, 1.0 + i / 30)
    # the source pauses (a host stops this video) and resumes: wait for a keyframe again
    downstream.resume()
    downstream.forward(incoming(20, 40000, DELTA), False, b"\0\0\0", None, 2.0)
    downstream.forward(incoming(21, 43000, KEY), True, b"\0\0\0", None, 2.1)
    # another source takes the slot, with its own numbering
    downstream.attach(b)  # type: ignore[arg-type]
    downstream.start()
    downstream.forward(incoming(65534, 7, KEY), True, b"\0\0\0", None, 2.2)
    downstream.forward(incoming(65535, 3007, DELTA), False, b"\0\0\0", None, 2.23)
    downstream.forward(incoming(0, 6007, DELTA), False, b"\0\0\0", None, 2.26)
    out = [RtpPacket.parse(p, extensions) for p in wire.sent]
    assert [p.payload for p in out] == [KEY, DELTA, DELTA, KEY, KEY, DELTA, DELTA]
    seqs = [p.sequence_number for p in out]
    assert all((seqs[i + 1] - seqs[i]) & 0xFFFF == 1 for i in range(len(seqs) - 1)), seqs
    stamps = [p.timestamp for p in out]
    assert all(0 < (stamps[i + 1] - stamps[i]) & 0xFFFFFFFF < 2 * 90000  # wall-clock gaps
               for i in range(len(stamps) - 1)), stamps
    assert {p.ssrc for p in out} == {0xCAFE} and {p.payload_type for p in out} == {97}
    assert downstream.sent == 7


def test_a_nack_is_answered_from_the_slots_history() -> None:
    downstream, wire, extensions = slot("audio")
    downstream.attach(Source(is_video=False))  # type: ignore[arg-type]
    downstream.start()
    for i in range(5):
        downstream.forward(incoming(i, 960 * i, bytes([i])), True, b"\0\0\0", None, 1.0)
    lost = RtpPacket.parse(wire.sent[2], extensions).sequence_number
    downstream._retransmit(lost)
    downstream._retransmit((lost + 100) & 0xFFFF)  # never sent: nothing to resend
    assert len(wire.sent) == 6 and wire.sent[-1] == wire.sent[2]


def test_nothing_is_written_before_negotiation_or_while_disconnected() -> None:
    downstream = Downstream("audio", "audio/opus")
    wire = Wire()
    downstream._output = wire  # type: ignore[assignment]
    downstream.attach(Source(is_video=False))  # type: ignore[arg-type]
    downstream.start()
    downstream.forward(incoming(1, 960, b"x"), True, b"\0\0\0", None, 1.0)
    assert wire.sent == []  # no payload type yet
    downstream._configure(parameters("audio"))
    wire.connected = False
    downstream.forward(incoming(2, 1920, b"y"), True, b"\0\0\0", None, 1.0)
    assert wire.sent == [] and downstream.dropped == 2
    wire.connected = True
    downstream.forward(incoming(3, 2880, b"z"), True, b"\0\0\0", None, 1.0)
    assert len(wire.sent) == 1


def test_a_video_slot_connecting_late_asks_for_its_keyframe_once_it_can_send() -> None:
    downstream, wire, _ = slot("video")
    source = Source(is_video=True)
    wire.connected = False
    downstream.attach(source)  # type: ignore[arg-type]
    downstream.start()
    assert downstream.forward(incoming(1, 0, KEY), True, b"\0\0\0", None, 1.0) is False
    wire.connected = True
    assert downstream.forward(incoming(2, 3000, DELTA), False, b"\0\0\0", None, 1.1)
    assert downstream.forward(incoming(3, 6000, KEY), True, b"\0\0\0", None, 1.2) is False
    assert len(wire.sent) == 1


async def test_a_slot_that_becomes_ready_starts_from_the_latest_keyframe_at_once() -> None:
    """The source keeps the packets since its latest keyframe: a subscriber that can
    receive now gets them at once instead of waiting a round trip for a new keyframe."""
    from types import SimpleNamespace

    from salon.media.backend import TrackInfo
    from salon.media.embedded.forward import Published

    receiver = SimpleNamespace(_handle_rtp_packet=None, _enabled=True)
    for name in ("codecs", "remote_streams", "rtx_ssrc"):
        setattr(receiver, f"_RTCRtpReceiver__{name}", {})
    receiver._RTCRtpReceiver__nack_generator = None
    asked: list[int] = []

    async def send_rtcp_pli(ssrc: int) -> None:
        asked.append(ssrc)

    receiver._send_rtcp_pli = send_rtcp_pli
    info = TrackInfo("p:video", "p", "video", "video/VP8", "0")
    published = Published(info, SimpleNamespace(kind="video"), receiver)
    published.payload_types = frozenset({100})
    published.set_active(forwarding=True, allowed=True)
    stream = [incoming(40, 0, KEY)] + [incoming(41 + i, 3000 * (i + 1), DELTA) for i in range(3)]
    for packet in stream:
        published._on_rtp(packet, False)
    downstream, wire, extensions = slot("video")
    downstream.attach(published)
    assert published.plis_sent == 1  # a fresh keyframe for when the answer comes
    downstream.start()
    published._on_rtp(incoming(44, 12000, DELTA), False)
    out = [RtpPacket.parse(p, extensions) for p in wire.sent]
    assert [p.payload for p in out] == [KEY, DELTA, DELTA, DELTA, DELTA]
    assert published.plis_sent == 1  # and none more: it started from the latest one
    published.set_active(forwarding=False)
    assert published.gop is None  # after a pause, never a picture from before it


def test_sender_reports_are_the_bytes_aiortc_writes() -> None:
    """sender_reports writes SR and SDES itself: the same bytes as aiortc's classes."""
    from aiortc.rtp import RtcpSdesPacket, RtcpSenderInfo, RtcpSourceInfo, RtcpSrPacket

    from salon.media.embedded.sender_reports import sender_report, source_description

    for cname in ("a", "ab", "abc", "abcd", "0b1c-c7f3-41d2-9a3e"):
        ntp, ts, count, octets = 0x0102030405060708, 2**32 + 9, 2**32 + 10, 11
        ours = sender_report(0xDEADBEEF, ntp, ts, count, octets) + source_description(
            0xDEADBEEF, cname.encode())
        theirs = bytes(RtcpSrPacket(ssrc=0xDEADBEEF, sender_info=RtcpSenderInfo(
            ntp_timestamp=ntp, rtp_timestamp=ts & 0xFFFFFFFF,
            packet_count=count & 0xFFFFFFFF, octet_count=octets))) + bytes(
            RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=0xDEADBEEF,
                                                  items=[(1, cname.encode())])]))
        assert ours == theirs, cname
