"""Media sources and test media: files that decode, real-time pacing, keyframe skipping,
Opus levels, and a FileSource through a plain aiortc loopback pair (run inside a network
namespace: scripts/test-netns tests/media/test_sources.py)."""

import asyncio
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest
from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError

from salon.client.media.sources import FileSource, SyntheticVideo, ToneSource
from salon.client.media.testmedia import make_test_media
from salon.media.embedded import hooks, rtp, sender_hooks

#: It measures frame rates, bitrates or timings: it runs alone (scripts/test-netns).
pytestmark = pytest.mark.solo

SECONDS = 4  # test files are 4 s long (sources loop them)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_media(tmp_path_factory.mktemp("media"), seconds=SECONDS)


def demux(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [p for p in container.demux(container.streams[0]) if p.size]


@pytest.mark.parametrize("key", ["vp8", "h264"])
def test_video_files_decode_with_a_keyframe_every_second(media: dict[str, Path], key: str) -> None:
    packets = demux(media[key])
    assert len(packets) == 30 * SECONDS
    keyframes = [i for i, p in enumerate(packets) if rtp.frame_is_keyframe(key, bytes(p))]
    assert keyframes == list(range(0, 30 * SECONDS, 30))
    with av.open(str(media[key])) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 30 * SECONDS
    assert (frames[0].width, frames[0].height) == (640, 480)
    kbps = sum(p.size for p in packets) * 8 / SECONDS / 1000
    assert 300 < kbps < 900


@pytest.mark.parametrize("key", ["opus", "speech"])
def test_opus_files_decode_in_20ms_packets(media: dict[str, Path], key: str) -> None:
    packets = demux(media[key])
    assert abs(len(packets) - 50 * SECONDS) <= 1
    assert {p.duration for p in packets[:-1]} == {960}  # the last one is trimmed
    with av.open(str(media[key])) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    assert abs(samples - 48_000 * SECONDS) <= 960


def test_test_media_is_cached_per_directory(media: dict[str, Path]) -> None:
    before = {k: p.stat().st_mtime_ns for k, p in media.items()}
    began = time.monotonic()
    again = make_test_media(media["vp8"].parent, seconds=SECONDS)
    assert time.monotonic() - began < 0.5
    assert again == media and {k: p.stat().st_mtime_ns for k, p in again.items()} == before


def test_opus_levels_follow_the_tone(media: dict[str, Path]) -> None:
    levels = FileSource(media["opus"]).levels  # 1 s of tone, 1 s of silence, ...
    tone, silence = levels[5:45], levels[55:95]
    assert all(8 <= v <= 20 for v in tone), tone  # 0.3 peak: -13.5 dBov
    assert all(v >= 40 for v in silence), silence
    speech = FileSource(media["speech"]).levels  # 1 s in 4
    assert max(speech[5:45]) < 40 and min(speech[60:195]) >= 40


async def test_file_source_paces_packets_at_real_time(media: dict[str, Path]) -> None:
    source = FileSource(media["vp8"])
    assert (source.kind, source.codec, source.mime_type) == ("video", "VP8", "video/VP8")
    began = time.monotonic()
    packets = [await source.recv() for _ in range(46)]
    elapsed = time.monotonic() - began
    assert 1.4 < elapsed < 1.7  # 45 intervals of 1/30 s
    assert [p.pts for p in packets] == [3000 * i for i in range(46)]
    assert all(p.time_base == Fraction(1, 90_000) for p in packets)
    assert [i for i, p in enumerate(packets) if p.is_keyframe] == [0, 30]
    source.stop()
    with pytest.raises(MediaStreamError):
        await source.recv()


async def test_file_source_loops_with_continuous_timestamps(media: dict[str, Path]) -> None:
    source = FileSource(media["opus"])
    source._pacer.origin = time.monotonic() - 3600  # far behind: no waiting ...
    source._pacer.wait = _no_wait  # ... and no resync
    count = len(source.levels)
    packets = [await source.recv() for _ in range(count + 3)]
    assert [p.pts for p in packets] == [960 * i for i in range(count + 3)]
    assert bytes(packets[count]) == bytes(packets[0])  # the loop starts over


async def _no_wait(timestamp: int) -> None:
    return None


async def test_request_keyframe_skips_to_the_next_keyframe(media: dict[str, Path]) -> None:
    source = FileSource(media["vp8"])
    for _ in range(5):
        await source.recv()
    source.request_keyframe()
    began = time.monotonic()
    packet = await source.recv()
    assert time.monotonic() - began < 0.06  # at the next frame slot, not a second later
    assert packet.is_keyframe and packet.pts == 5 * 3000  # the timeline goes on unbroken
    assert bytes(packet) == bytes(demux(media["vp8"])[30])
    after = await source.recv()
    assert not after.is_keyframe and bytes(after) == bytes(demux(media["vp8"])[31])
    assert source.keyframe_requests == 1
    audio = FileSource(media["opus"])
    first = await audio.recv()
    audio.request_keyframe()  # audio: every packet stands alone, nothing is skipped
    second = await audio.recv()
    assert bytes(second) == bytes(demux(media["opus"])[1]) and first.pts + 960 == second.pts


async def test_level_of_answers_for_the_last_packet_only(media: dict[str, Path]) -> None:
    source = FileSource(media["opus"])
    first = await source.recv()
    assert source.level_of(first) == source.levels[0]
    await source.recv()
    assert source.level_of(first) is None and source.level_of(None) is None
    assert source.level_of(source.last_packet) == source.levels[1]


async def test_live_sources_produce_paced_frames() -> None:
    video, tone = SyntheticVideo(320, 240, fps=30), ToneSource(on_secs=0.1, off_secs=0.1)
    began = time.monotonic()
    frames = [await video.recv() for _ in range(16)]
    assert 0.45 < time.monotonic() - began < 0.7
    assert (frames[-1].width, frames[-1].height, frames[-1].pts) == (320, 240, 15 * 3000)
    assert bytes(frames[0].planes[0]) != bytes(frames[1].planes[0])  # it moves
    audio = [await tone.recv() for _ in range(10)]  # 5 sounding, 5 silent
    assert [any(bytes(f.planes[0])) for f in audio] == [True] * 5 + [False] * 5
    assert audio[-1].pts == 9 * 960 and audio[0].sample_rate == 48_000


class Loopback:
    """A plain aiortc pair on 127.0.0.1: `pub` sends sources, `sub` decodes and counts."""

    def __init__(self) -> None:
        hooks.use_host_addresses(["127.0.0.1"])
        self.pub, self.sub = hooks.new_peer_connection(), hooks.new_peer_connection()
        self.arrivals: dict[str, list[float]] = {"audio": [], "video": []}
        self.last: dict[str, object] = {}
        self.levels: list[int] = []
        self.readers: list[asyncio.Task] = []
        self.sub.on("track", self._on_track)

    def _on_track(self, track) -> None:
        async def read() -> None:
            try:
                while True:
                    self.last[track.kind] = await track.recv()
                    self.arrivals[track.kind].append(time.monotonic())
            except MediaStreamError:
                pass
        self.readers.append(asyncio.ensure_future(read()))

    def send(self, source) -> object:
        transceiver = self.pub.addTransceiver(source, direction="sendonly")
        codecs = RTCRtpSender.getCapabilities(source.kind).codecs
        transceiver.setCodecPreferences(
            [c for c in codecs if c.mimeType in (source.mime_type, f"{source.kind}/rtx")])
        return transceiver.sender

    async def connect(self) -> None:
        await self.pub.setLocalDescription(await self.pub.createOffer())
        await self.sub.setRemoteDescription(self.pub.localDescription)
        for transceiver in self.sub.getTransceivers():
            if transceiver.kind == "audio":
                hooks.watch_rtp(transceiver.receiver, self._level)
        await self.sub.setLocalDescription(await self.sub.createAnswer())
        await self.pub.setRemoteDescription(self.sub.localDescription)

    def _level(self, packet) -> None:
        if packet.extensions.audio_level is not None:
            self.levels.append(packet.extensions.audio_level[1])

    def rate(self, kind: str, since: float) -> float:
        times = [t for t in self.arrivals[kind] if t >= since]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    def receiver(self, kind: str):
        return next(t.receiver for t in self.sub.getTransceivers() if t.kind == kind)

    async def close(self) -> None:
        await self.pub.close()
        await self.sub.close()
        for reader in self.readers:
            reader.cancel()


@pytest.mark.parametrize("key", ["vp8", "h264"])
async def test_file_source_through_aiortc_arrives_at_30_fps_and_decodes(
        media: dict[str, Path], key: str) -> None:
    loop = Loopback()
    try:
        video, audio = FileSource(media[key]), FileSource(media["opus"])
        sender = loop.send(video)
        loop.send(audio)
        sender_hooks.hook_keyframe_requests(sender, video.request_keyframe)
        await loop.connect()
        async with asyncio.timeout(10):
            while len(loop.arrivals["video"]) < 2:
                await asyncio.sleep(0.05)
        start = time.monotonic() + 0.5
        await asyncio.sleep(3)
        assert 28 <= loop.rate("video", start) <= 32
        assert 47 <= loop.rate("audio", start) <= 53
        frame = loop.last["video"]
        assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (640, 480)
        assert isinstance(loop.last["audio"], av.AudioFrame)
        # a subscriber's PLI reaches the file source through the sender hook
        receiver = loop.receiver("video")
        ssrc = receiver.getSynchronizationSources()[0].source
        requests = video.keyframe_requests
        hooks.send_pli(receiver, ssrc)
        async with asyncio.timeout(2):
            while video.keyframe_requests == requests:
                await asyncio.sleep(0.02)
    finally:
        await loop.close()


async def test_opus_file_source_levels_reach_the_wire(media: dict[str, Path]) -> None:
    loop = Loopback()
    try:
        audio = FileSource(media["opus"])
        sender_hooks.hook_audio_level(loop.send(audio), audio.level_of)
        await loop.connect()
        async with asyncio.timeout(10):
            while len(loop.levels) < 60:
                await asyncio.sleep(0.05)
        assert all(8 <= v <= 20 for v in loop.levels[5:45]), loop.levels[:50]
    finally:
        await loop.close()
