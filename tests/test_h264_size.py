"""The picture size of H.264 keyframes, read from their SPS (salon.media.embedded.h264),
so that a simulcast track sent in H.264 has its encodings ordered low to high as a VP8
one has (docs/media-design.md §6.10). Real streams: libx264 through aiortc's own H.264
encoder and packetizer (STAP-A, FU-A), and through PyAV with other profiles."""

import fractions
import os
from types import SimpleNamespace

import av
import numpy as np
import pytest
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtp import HeaderExtensions, RtpPacket

from salon.media.backend import TrackInfo
from salon.media.embedded import h264
from salon.media.embedded.forward import Published
from tests.test_simulcast import fake_receiver


def picture(width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8),
                                       format="rgb24").reformat(format="yuv420p")
    frame.pts, frame.time_base = 0, fractions.Fraction(1, 90000)
    return frame


def aiortc_keyframe(width: int, height: int) -> list[bytes]:
    """The RTP payloads of a keyframe as aiortc sends H.264 (Constrained Baseline)."""
    payloads, _ = H264Encoder().encode(picture(width, height), force_keyframe=True)
    return payloads


def x264_sps(width: int, height: int, profile: str, params: str = "") -> bytes:
    """The SPS NAL unit libx264 writes for `profile` (and x264 `params`)."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.profile = profile
    ctx.options = {"tune": "zerolatency"} | ({"x264-params": params} if params else {})
    stream = b"".join(bytes(p) for p in [*ctx.encode(picture(width, height)),
                                         *ctx.encode(None)])
    units = stream.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")
    return next(u for u in units if u and u[0] & 0x1F == h264.SPS)


@pytest.mark.parametrize("width, height", [
    (320, 180), (640, 360), (1280, 720), (852, 480), (212, 120), (176, 144), (1920, 1080)])
def test_an_aiortc_keyframe_says_its_size(width: int, height: int) -> None:
    """Sizes that are not whole macroblocks (180, 360, 1080, 852) come out of the
    SPS's cropping; the SPS travels in a STAP-A with the PPS (and the IDR when small)."""
    payloads = aiortc_keyframe(width, height)
    assert h264.keyframe_size(payloads[0]) == (width, height)
    assert payloads[0][0] & 0x1F == h264.STAP_A
    assert all(h264.keyframe_size(p) is None for p in payloads[1:])  # IDR fragments


@pytest.mark.parametrize("profile, params", [
    ("High", ""), ("Main", ""), ("High", "interlaced=1"), ("High", "cqm=jvt")])
def test_other_profiles_field_coding_and_scaling_matrices(profile: str, params: str) -> None:
    sps = x264_sps(640, 360, profile, params)
    assert h264.sps_size(sps) == (640, 360)
    assert h264.keyframe_size(sps) == (640, 360)  # a single NAL unit packet


def test_bad_input_gives_none_never_an_exception() -> None:
    sps = aiortc_keyframe(640, 360)[0]
    for cut in range(len(sps)):
        assert h264.keyframe_size(sps[:cut]) in (None, (640, 360))
    rng = np.random.default_rng(7)
    for _ in range(2000):
        junk = bytes(rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8))
        size = h264.keyframe_size(junk)
        assert size is None or (size[0] > 0 and size[1] > 0)
    assert h264.keyframe_size(b"") is None
    assert h264.sps_size(b"\x65" + os.urandom(20)) is None  # an IDR slice, not an SPS
    assert h264.keyframe_size(bytes([24, 0, 2, 0x68, 0xCE])) is None  # STAP-A, PPS only


def test_emulation_prevention_bytes_are_removed() -> None:
    assert h264._rbsp(b"\x67\x00\x00\x03\x01\x00\x00\x03\x00\x03") == \
        b"\x00\x00\x01\x00\x00\x00\x03"


def test_h264_simulcast_encodings_are_ordered_by_their_keyframes() -> None:
    """Offered f, q, h: once each has sent a keyframe, they rank q, h, f by height."""
    published = Published(TrackInfo("p:video", "p", "video", "video/H264", "1"),
                          SimpleNamespace(kind="video"), fake_receiver([]))
    published.payload_types = frozenset({102})
    published.set_simulcast(("f", "q", "h"))
    for ssrc, (rid, height) in enumerate((("f", 720), ("q", 180), ("h", 360)), start=1):
        for seq, payload in enumerate(aiortc_keyframe(height * 16 // 9, height)):
            packet = RtpPacket(payload_type=102, sequence_number=seq, timestamp=0,
                               ssrc=ssrc, payload=payload)
            packet.extensions = HeaderExtensions(rtp_stream_id=rid)
            published._on_rtp(packet, False)
    assert [(e.rid, e.height) for e in published.encodings] == [
        ("q", 180), ("h", 360), ("f", 720)]
