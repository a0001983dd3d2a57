"""VP8 temporal layers at RTP level: the payload descriptor, one subscriber's layer
filter and renumbering, and a slot forwarding a layered stream (no network)."""

import asyncio

from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from salon.media.embedded import vp8
from salon.media.embedded.forward import Downstream
from salon.media.embedded.layers import ALL, TemporalLayers
from tests.test_media_rtp import Source, Wire

#: L1T3: the layer of each frame in the 4-frame pattern.
PATTERN = (0, 2, 1, 2)


def descriptor(pid: int, tl0: int, tid: int, *, start: bool = True, sync: bool = False,
               key: bool = False) -> bytes:
    """X=1, S, PID=0; I (15-bit PictureID), L, T; then a VP8 payload header byte
    (P=0 for a keyframe)."""
    first = 0x80 | (0x10 if start else 0)
    return (bytes([first, 0xE0, 0x80 | (pid >> 8), pid & 0xFF, tl0,
                   (tid << 6) | (0x20 if sync else 0)])
            + (b"\x00" if key else b"\x01") + b"frame")


def test_the_descriptor_names_layer_picture_and_tl0_index() -> None:
    d = vp8.parse(descriptor(0x1234, 77, 2, sync=True))
    assert (d.starts_frame, d.tid, d.layer_sync, d.picture_id, d.tl0picidx) == (
        True, 2, True, 0x1234, 77)
    assert d.picture_id_bits == 15 and d.header_len == 6
    short = vp8.parse(bytes([0x90, 0xA0, 0x05, 0x40, 0x00]))  # 7-bit PictureID, T
    assert (short.picture_id, short.picture_id_bits, short.tid, short.tl0picidx) == (
        5, 7, 1, None)
    plain = vp8.parse(bytes([0x10, 0x00]))  # no extension: no layers
    assert plain.tid is None and plain.starts_frame
    assert vp8.parse(b"") == vp8.NO_LAYERS
    assert vp8.parse(bytes([0x90, 0xE0, 0x80])) == vp8.NO_LAYERS  # truncated


def test_rewrite_keeps_field_widths_and_the_rest_of_the_payload() -> None:
    payload = descriptor(0x7FFE, 255, 1)
    d = vp8.parse(payload)
    out = vp8.rewrite(payload, d, 0x8001, 256)  # wraps to 15 and 8 bits
    again = vp8.parse(out)
    assert (again.picture_id, again.tl0picidx, again.tid) == (1, 0, 1)
    assert len(out) == len(payload) and out[6:] == payload[6:]
    assert vp8.rewrite(payload, d, None, None) is payload


def frames(count: int, first_pid: int = 100, first_tl0: int = 10):
    """`count` single-packet L1T3 frames: (descriptor bytes, tid)."""
    tl0 = first_tl0 - 1
    for i in range(count):
        tid = PATTERN[i % 4]
        if tid == 0:
            tl0 += 1
        yield descriptor(first_pid + i, tl0 & 0xFF, tid, key=i == 0), tid


def test_dropping_upper_layers_leaves_gapless_picture_ids() -> None:
    layers = TemporalLayers()
    layers.restart()
    layers.target = 0
    kept = []
    for i, (payload, tid) in enumerate(frames(12)):
        d = vp8.parse(payload)
        if layers.admit(d):
            pid, tl0 = layers.numbers(d, i == 0)
            kept.append((pid if pid is not None else d.picture_id,
                         tl0 if tl0 is not None else d.tl0picidx, tid))
    assert [t for *_, t in kept] == [0, 0, 0]
    assert [p for p, *_ in kept] == [100, 101, 102]  # one less per dropped frame
    assert [t for _, t, _ in kept] == [10, 11, 12]  # TL0PICIDX untouched


def test_going_up_waits_for_a_base_layer_frame_or_a_layer_sync() -> None:
    layers = TemporalLayers()
    layers.target = 0
    seq = list(frames(8))
    assert layers.admit(vp8.parse(seq[0][0]))  # TL0: limit becomes 0
    assert not layers.admit(vp8.parse(seq[1][0]))  # TL2 dropped
    layers.target = ALL
    assert not layers.admit(vp8.parse(seq[2][0]))  # TL1, no sync: still dropped
    assert not layers.admit(vp8.parse(seq[3][0]))
    assert layers.admit(vp8.parse(seq[4][0]))  # TL0: up from here
    assert layers.admit(vp8.parse(seq[5][0])) and layers.limit == ALL
    layers.target = 0
    synced = TemporalLayers()
    synced.target = 0
    synced.admit(vp8.parse(seq[0][0]))
    synced.target = 1
    assert synced.admit(vp8.parse(descriptor(200, 10, 1, sync=True)))  # Y at layer 1
    assert synced.limit == 1
    # a packet continuing a frame follows the decision made at its start
    assert not synced.admit(vp8.parse(descriptor(201, 10, 2, start=True)))
    assert not synced.admit(vp8.parse(descriptor(201, 10, 2, start=False)))


MID = "urn:ietf:params:rtp-hdrext:sdes:mid"


def vp8_slot() -> tuple[Downstream, Wire, HeaderExtensionsMap]:
    downstream = Downstream("video", "video/VP8")
    wire = Wire()
    downstream._output = wire  # type: ignore[assignment]
    params = RTCRtpSendParameters(
        codecs=[RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000,
                                      payloadType=97)],
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=1, uri=MID)], muxId="1")
    downstream._configure(params)
    extensions = HeaderExtensionsMap()
    extensions.configure(params)
    return downstream, wire, extensions


def test_a_slot_forwards_the_layers_that_fit_with_continuous_numbers() -> None:
    """Two packets per frame; the subscriber drops to TL0 mid-stream and comes back:
    sequence numbers never skip, PictureIDs never skip, timestamps are the source's."""
    downstream, wire, extensions = vp8_slot()
    downstream.attach(Source(is_video=True))  # type: ignore[arg-type]
    downstream.start()
    seq = 1000
    for i, (payload, _tid) in enumerate(frames(24)):
        if i == 6:
            downstream.layers.target = 0  # type: ignore[union-attr]
        if i == 14:
            downstream.layers.target = ALL  # type: ignore[union-attr]
        second = payload[:1].replace(b"\x90", b"\x80") + payload[1:]  # S=0
        for part, marker in ((payload, False), (second, True)):
            packet = RtpPacket(payload_type=100, marker=int(marker), sequence_number=seq,
                               timestamp=3000 * i, ssrc=1, payload=part)
            downstream.forward(packet, i == 0 and not marker, b"\0\0\0", None, i / 30,
                               vp8.parse(part))
            seq += 1
    out = [RtpPacket.parse(p, extensions) for p in wire.sent]
    seqs = [p.sequence_number for p in out]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False)), seqs
    starts = [vp8.parse(p.payload) for p in out if p.payload[0] & 0x10]
    pids = [d.picture_id for d in starts]
    assert all(b - a == 1 for a, b in zip(pids, pids[1:], strict=False)), pids
    tids = [d.tid for d in starts]
    # all layers for frames 0-5 (the switch waits for frame 8's TL0 start, down is
    # immediate), TL0 only for 6-15, all again from the TL0 frame 16
    assert tids == [0, 2, 1, 2, 0, 2] + [0, 0] + [0, 2, 1, 2, 0, 2, 1, 2], tids
    assert downstream.skipped == 2 * 8
    assert downstream.layers.switches == 2  # type: ignore[union-attr]
    assert [p.timestamp - out[0].timestamp for p in out[:2]] == [0, 0]


def test_a_late_retransmission_keeps_its_number_or_is_dropped_with_its_layer() -> None:
    downstream, wire, extensions = vp8_slot()
    downstream.attach(Source(is_video=True))  # type: ignore[arg-type]
    downstream.start()
    downstream.layers.target = 0  # type: ignore[union-attr]
    sent = {}
    for i, (payload, _) in enumerate(frames(8)):
        packet = RtpPacket(payload_type=100, marker=1, sequence_number=500 + i,
                           timestamp=3000 * i, ssrc=1, payload=payload)
        downstream.forward(packet, i == 0, b"\0\0\0", None, i / 30, vp8.parse(payload))
        sent[500 + i] = packet
    count = len(wire.sent)
    first = RtpPacket.parse(wire.sent[0], extensions).sequence_number
    downstream.forward(sent[504], False, b"\0\0\0", None, 1.0, vp8.parse(sent[504].payload),
                       retransmission=True)  # TL0 frame 4: sent again with its number
    assert RtpPacket.parse(wire.sent[-1], extensions).sequence_number == (first + 1) & 0xFFFF
    downstream.forward(sent[505], False, b"\0\0\0", None, 1.0, vp8.parse(sent[505].payload),
                       retransmission=True)  # TL2: this subscriber never had it
    assert len(wire.sent) == count + 1


def test_a_packet_is_sent_again_at_most_twice() -> None:
    """aiortc's receivers repeat a missing number in every NACK until it arrives; a
    full link must not get the same packet again and again."""
    downstream, wire, _ = vp8_slot()
    downstream.attach(Source(is_video=True))  # type: ignore[arg-type]
    downstream.start()
    payload, _tid = next(frames(1))
    packet = RtpPacket(payload_type=100, marker=1, sequence_number=7, timestamp=0, ssrc=1,
                       payload=payload)
    downstream.forward(packet, True, b"\0\0\0", None, 0.0, vp8.parse(payload))
    seq = RtpPacket.parse(wire.sent[0], HeaderExtensionsMap()).sequence_number
    octets = downstream.octets
    for _ in range(5):
        downstream._retransmit(seq)
    assert len(wire.sent) == 3 and downstream.resent == 2
    assert downstream.octets == 3 * octets  # resends count in what the link carries


async def test_a_publisher_is_capped_at_what_its_best_subscriber_takes() -> None:
    """REMB to the publisher: SALON_MEDIA_MAX_VIDEO_BITRATE, or less when every
    subscriber's downlink takes less (the best-served one decides), never below
    300 kbit/s, and changed only by more than 25 %."""
    from types import SimpleNamespace

    from aiortc.rtp import unpack_remb_fci

    from salon.media.backend import TrackInfo
    from salon.media.embedded.forward import Published

    receiver = SimpleNamespace(_handle_rtp_packet=None, _enabled=True)
    for name in ("codecs", "remote_streams", "rtx_ssrc"):
        setattr(receiver, f"_RTCRtpReceiver__{name}", {})
    receiver._RTCRtpReceiver__nack_generator = None
    receiver._RTCRtpReceiver__rtcp_ssrc = 77
    sent: list = []

    async def send_rtcp(packet) -> None:
        sent.append(unpack_remb_fci(packet.fci)[0])

    receiver._send_rtcp = send_rtcp
    published = Published(TrackInfo("p:video", "p", "video", "video/VP8", "0"),
                          SimpleNamespace(kind="video"), receiver)
    published.payload_types = frozenset({100})
    published.max_bitrate = 2_500_000
    payload, _tid = next(frames(1))

    async def one_packet(seq: int) -> None:
        published._next_remb = 0.0
        published._on_rtp(RtpPacket(payload_type=100, marker=1, sequence_number=seq,
                                    timestamp=seq * 3000, ssrc=5, payload=payload), False)
        await asyncio.sleep(0)

    await one_packet(1)
    published.demand = {1: 250_000.0, 2: 900_000.0}
    await one_packet(2)
    published.demand = {1: 250_000.0}  # never below 300 kbit/s
    await one_packet(3)
    published.demand = {1: 340_000.0}  # within 25 %: not worth restarting an encoder
    await one_packet(4)
    published.demand = {1: 9_000_000.0}
    await one_packet(5)
    assert [abs(b - want) / want < 0.01 for b, want in
            zip(sent, [2_500_000, 900_000, 300_000, 300_000, 2_500_000], strict=True)
            ] == [True] * 5
