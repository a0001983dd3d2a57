"""The L1T3 test file really is layered: TL0 (and TL0+TL1) alone decode to the very
same pictures as the whole stream, and the Python client writes each frame's layer into
its VP8 payload descriptors."""

from pathlib import Path

import av
import pytest
from aiortc.mediastreams import MediaStreamError

from salon.client.media.sources import FileSource
from salon.client.media.testmedia import L1T2_PATTERN, L1T3_PATTERN, make_test_media
from salon.media.embedded import vp8


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return make_test_media(tmp_path_factory.mktemp("layers"), seconds=2)


def _decode(path: Path, keep) -> dict[int, bytes]:
    decoder = av.CodecContext.create("libvpx", "r")
    pictures = {}
    with av.open(str(path)) as container:
        for index, packet in enumerate(p for p in container.demux(video=0) if p.size):
            if keep(index):
                for frame in decoder.decode(av.Packet(bytes(packet))):
                    pictures[index] = bytes(frame.planes[0])
    return pictures


@pytest.mark.parametrize(("name", "pattern", "tops"), [
    ("vp8_l1t3", L1T3_PATTERN, ((0, 15), (1, 30))),
    ("vp8_l1t2", L1T2_PATTERN, ((0, 30),)),
])
def test_lower_layers_alone_decode_to_the_same_pictures(files, name, pattern, tops) -> None:
    whole = _decode(files[name], lambda i: True)
    assert len(whole) == 60
    for top, count in tops:
        part = _decode(files[name], lambda i, t=top: pattern[i % len(pattern)] <= t)
        assert len(part) == count
        assert all(part[i] == whole[i] for i in part), f"{name}: TL0..{top} differs"


async def test_the_source_names_each_frames_layer(files) -> None:
    source = FileSource(files["vp8_l1t3"], temporal_pattern=L1T3_PATTERN)
    seen = []
    for _ in range(9):
        packet = await source.recv()
        seen.append(source.layer_of(packet))
    assert [s[0] for s in seen] == [0, 2, 1, 2, 0, 2, 1, 2, 0]
    assert [s[2] for s in seen] == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert source.layer_of(object()) is None
    with pytest.raises(ValueError):
        FileSource(files["vp8_l1t3"], temporal_pattern=(1, 0))
    with pytest.raises(ValueError):
        FileSource(files["opus"], temporal_pattern=L1T3_PATTERN)


async def test_published_packets_carry_the_layer(files) -> None:
    from aiortc import RTCRtpSender

    from salon.media.embedded import sender_hooks

    class Sender:  # just what hook_vp8_layers wraps
        def __init__(self, track) -> None:
            self.track = track

        async def _next_encoded_frame(self, codec):
            from aiortc.rtcrtpsender import RTCEncodedFrame
            packet = await self.track.recv()
            payloads, timestamp = encoder.pack(packet)
            return RTCEncodedFrame(payloads, timestamp, None)

    from aiortc.codecs.vpx import Vp8Encoder
    encoder = Vp8Encoder()
    source = FileSource(files["vp8_l1t3"], temporal_pattern=L1T3_PATTERN)
    sender = Sender(source)
    sender_hooks.hook_vp8_layers(sender, source.layer_of)
    codec = RTCRtpSender.getCapabilities("video").codecs[0]
    tids = []
    for _ in range(4):
        frame = await sender._next_encoded_frame(codec)
        ds = [vp8.parse(p) for p in frame.payloads]
        assert ds[0].starts_frame and all(d.tid == ds[0].tid for d in ds)
        assert len({d.picture_id for d in ds}) == 1 and ds[0].tl0picidx == 0
        tids.append(ds[0].tid)
    assert tids == [0, 2, 1, 2]


async def test_dtx_sends_one_packet_in_twenty_during_silence(files) -> None:
    """`speech` (2 s long here) is 1 s of sound then silence: with DTX the silence costs
    one packet per 400 ms, and the timestamps jump over what was not sent."""
    plain = FileSource(files["speech"], loop=False)
    dtx = FileSource(files["speech"], dtx=True)

    async def at_once(timestamp: int) -> None:
        return None

    dtx._pacer.wait = at_once  # type: ignore[method-assign]  # no real-time pacing here
    stamps = []
    for _ in range(90):
        stamps.append((await dtx.recv()).pts)
    # the first second sounds (and the decoder's tail fades): packets 960 apart; then
    # silence: one every 19200
    steps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert set(steps[:60]) == {960}
    assert steps.count(960 * 20) >= 1 and all(s % 960 == 0 for s in steps)
    first_loop = [t for t in stamps if t < 2 * 48_000]
    assert len(first_loop) <= 75  # not the 100 packets of 2 s without DTX
    assert plain.dtx is False and FileSource(files["vp8"], dtx=True).dtx is False
    once = FileSource(files["speech"], loop=False, dtx=True)
    once._pacer.wait = at_once  # type: ignore[method-assign]
    with pytest.raises(MediaStreamError):  # the end of a file played once, in silence
        for _ in range(100):
            await once.recv()


def test_an_offset_starts_later_in_the_file(files) -> None:
    audio = FileSource(files["speech"], offset=0.5)
    assert audio._index == 25  # 20 ms packets
    video = FileSource(files["vp8_l1t3"], offset=0.5)
    assert video._index == 60 % len(video._entries) or video._entries[video._index].keyframe
