"""Media sources for the Python client: aiortc `MediaStreamTrack`s to publish.

- `FileSource(path)` loops a pre-encoded file at real time. Its `recv()` returns
  `av.Packet`s (with `pts` and `time_base` set), so aiortc's `RTCRtpSender` only packetizes
  them: no encoder runs (the `MediaPlayer(decode=False)` path). VP8 in IVF, H.264 as an
  Annex B byte stream, Opus in Ogg. `request_keyframe()` makes the next packet the file's
  next keyframe, which answers a subscriber's PLI within one frame. For Opus, each
  packet's level is computed once at load (one decode) and `level_of(packet)` returns it
  for `sender_hooks.hook_audio_level` (aiortc puts no level on pre-encoded audio).
- `FileSource(path, temporal_pattern=(0, 2, 1, 2))` plays a VP8 file encoded with
  temporal layers (`make_test_media(...)["vp8_l1t3"]`): `layer_of(packet)` then says each
  packet's layer, and `MediaSession.publish` writes it into the VP8 payload descriptors
  (TID, layer sync, TL0PICIDX), so the SFU can give each subscriber the layers it takes.
- `FileSource(path, dtx=True)` sends Opus as a browser does with DTX (`usedtx=1`, which
  salon's publish answer asks for): in silence, one packet per 400 ms.
- `SyntheticVideo(width, height, fps)` draws a moving pattern and `ToneSource()` a tone;
  aiortc encodes them live, which is realistic but costs CPU (about 10 % of a core for a
  VGA VP8 stream).

Every source paces itself on the monotonic clock: `recv()` returns each packet or frame
when its timestamp is due, so a source published at once plays at real time.
"""

import asyncio
import math
import time
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from salon.media.embedded.rtp import frame_is_keyframe

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
RESYNC_SECS = 0.5  # a consumer this late restarts the pacing instead of bursting
DTX_EVERY = 20  # one packet per 400 ms of silence, as Opus DTX sends

#: container format / codec name -> (kind, codec, RTP clock rate)
_CODECS = {"vp8": ("video", "VP8", VIDEO_CLOCK), "h264": ("video", "H264", VIDEO_CLOCK),
           "opus": ("audio", "opus", AUDIO_CLOCK)}


class _Pacer:
    """Releases timestamps (in `clock` units) at real time from the first call on."""

    def __init__(self, clock: int) -> None:
        self.clock = clock
        self.origin: float | None = None  # monotonic time of timestamp 0

    async def wait(self, timestamp: int) -> None:
        now = time.monotonic()
        if self.origin is None:
            self.origin = now - timestamp / self.clock
            return
        delay = self.origin + timestamp / self.clock - now
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -RESYNC_SECS:  # the reader stalled: go on from now, no burst
            self.origin = now - timestamp / self.clock


@dataclass(frozen=True)
class _Entry:
    data: bytes
    duration: int  # in the RTP clock
    keyframe: bool
    level: int | None  # audio: -dBov 0 (loud) .. 127 (silence)


def _rms_level(frame: av.AudioFrame) -> int:
    """RFC 6465 Appendix A: the frame's RMS level as -dBov, 0 (loud) .. 127 (silence)."""
    name = frame.format.name
    planar = frame.format.is_planar
    count = frame.samples * (1 if planar else len(frame.layout.channels))
    if name.startswith("flt"):
        samples, scale = array("f"), 1.0
    elif name.startswith("s16"):
        samples, scale = array("h"), 32767.0
    elif name.startswith("s32"):
        samples, scale = array("i"), 2147483647.0
    else:
        raise ValueError(f"unexpected decoded audio format {name}")
    samples.frombytes(bytes(frame.planes[0])[:count * samples.itemsize])
    if not samples:
        return 127
    power = sum(s * s for s in samples) / (len(samples) * scale * scale)
    if power <= 0:
        return 127
    return min(127, max(0, round(-10 * math.log10(power))))


def _load(path: Path) -> tuple[str, str, int, list[_Entry]]:
    """Demux the whole file (and decode Opus once for its levels)."""
    with av.open(str(path)) as container:
        if not container.streams:
            raise ValueError(f"{path}: no stream")
        stream = container.streams[0]
        name = stream.codec_context.name
        if name not in _CODECS:
            raise ValueError(f"{path}: {name} is not VP8, H.264 or Opus")
        kind, codec, clock = _CODECS[name]
        decoder = av.CodecContext.create("opus", "r") if kind == "audio" else None
        default = round(clock / 30) if kind == "video" else 960
        entries: list[_Entry] = []
        for packet in container.demux(stream):
            if not packet.size:
                continue
            data = bytes(packet)
            duration = default
            if packet.duration and packet.time_base:
                duration = round(packet.duration * packet.time_base * clock) or default
            level = None
            if decoder is not None:  # the decoded length, not the container's (end trim)
                frames = decoder.decode(av.Packet(data))
                level = min((_rms_level(f) for f in frames), default=127)
                decoded = sum(f.samples * clock // f.sample_rate for f in frames)
                duration = decoded or duration
            entries.append(_Entry(data, duration, frame_is_keyframe(codec, data), level))
    if not entries:
        raise ValueError(f"{path}: no packets")
    return kind, codec, clock, entries


class FileSource(MediaStreamTrack):
    """A pre-encoded file as a track, looped at real time (see the module docstring).

    `kind` is "video" or "audio" (from the file), `codec` the RTP codec name ("VP8",
    "H264", "opus") and `mime_type` e.g. "video/VP8", for codec preferences.
    `keyframe_requests` counts `request_keyframe()` calls, `packets_sent` the packets
    returned so far, `last_packet` the latest one (read by `sender_hooks.hook_audio_level`).
    """

    def __init__(self, path: Path | str, *, loop: bool = True,
                 temporal_pattern: tuple[int, ...] | None = None,
                 dtx: bool = False, offset: float = 0.0) -> None:
        super().__init__()
        self.path = Path(path)
        kind, self.codec, self.clock, self._entries = _load(self.path)
        self.kind = kind
        self.mime_type = f"{kind}/{self.codec}"
        self.loop = loop
        self.time_base = Fraction(1, self.clock)
        self.keyframe_requests = 0
        self.packets_sent = 0
        self.last_packet: av.Packet | None = None
        self._last_level: int | None = None
        self._index = 0
        self._timestamp = 0
        self._skip_to_keyframe = False
        self._pacer = _Pacer(self.clock)
        self._keyframes = [i for i, e in enumerate(self._entries) if e.keyframe]
        #: VP8 temporal layers: the layer of frame n is pattern[n % len(pattern)], n
        #: counted in the file (keyframes must fall on a layer-0 position).
        self.temporal_pattern = temporal_pattern
        if temporal_pattern is not None:
            if self.codec != "VP8" or not temporal_pattern or temporal_pattern[0] != 0:
                raise ValueError("temporal layers need VP8 and a pattern opening on 0")
            period = len(temporal_pattern)
            if any(temporal_pattern[i % period] for i in self._keyframes):
                raise ValueError(f"{self.path}: a keyframe falls on an upper layer")
        self._layer: tuple[int, bool, int] | None = None
        self._tl0picidx = -1
        #: Opus DTX as a browser does it with `usedtx=1`: in silence (level 127) only one
        #: packet in DTX_EVERY is sent; the RTP timestamps jump over the rest.
        self.dtx = dtx and self.kind == "audio"
        self._silent_run = 0
        #: Start `offset` seconds into the file (a meeting's speakers do not all speak
        #: at once); video starts at the keyframe at or after it.
        if offset > 0:
            elapsed, start = 0, 0
            while start < len(self._entries) and elapsed < offset * self.clock:
                elapsed += self._entries[start].duration
                start += 1
            self._index = start % len(self._entries)
            if self.kind == "video":
                self._index = self._next_keyframe(self._index)

    @property
    def duration(self) -> float:
        """The file's length in seconds (one loop)."""
        return sum(e.duration for e in self._entries) / self.clock

    @property
    def levels(self) -> list[int | None]:
        """Each packet's level in file order (-dBov; None for video)."""
        return [e.level for e in self._entries]

    def request_keyframe(self) -> None:
        """The next packet will be the file's next keyframe (video; audio ignores it)."""
        self.keyframe_requests += 1
        if self.kind == "video":
            self._skip_to_keyframe = True

    def level_of(self, packet: object) -> int | None:
        """The level (-dBov, 0..127) of a packet this source returned last, else None."""
        if packet is not None and packet is self.last_packet:
            return self._last_level
        return None

    def layer_of(self, packet: object) -> tuple[int, bool, int] | None:
        """(TID, layer sync, TL0PICIDX) of the packet this source returned last; None
        for a file without temporal layers. Layer sync is never claimed: libvpx's pattern
        may refer an upper-layer frame to the previous period's TL1, so subscribers
        switch up at TL0 frames only."""
        if packet is not None and packet is self.last_packet:
            return self._layer
        return None

    def _next_keyframe(self, start: int) -> int:
        for index in self._keyframes:
            if index >= start:
                return index
        return self._keyframes[0] if self._keyframes else start

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._index >= len(self._entries):
            if not self.loop:
                self.stop()
                raise MediaStreamError
            self._index = 0
        if self._skip_to_keyframe:
            self._skip_to_keyframe = False
            self._index = self._next_keyframe(self._index)
        entry = self._entries[self._index]
        while self.dtx and entry.level == 127 and self._silent_run % DTX_EVERY:
            self._silent_run += 1  # not sent: the next packet's timestamp says so
            self._timestamp += entry.duration
            self._index += 1
            if self._index >= len(self._entries):
                if not self.loop:
                    self.stop()
                    raise MediaStreamError
                self._index = 0
            entry = self._entries[self._index]
        self._silent_run = self._silent_run + 1 if entry.level == 127 else 0
        await self._pacer.wait(self._timestamp)
        if self.readyState != "live":
            raise MediaStreamError
        packet = av.Packet(entry.data)
        packet.pts = packet.dts = self._timestamp
        packet.time_base = self.time_base
        packet.is_keyframe = entry.keyframe
        self._timestamp += entry.duration
        self._index += 1
        self.packets_sent += 1
        self.last_packet, self._last_level = packet, entry.level
        pattern = self.temporal_pattern
        if pattern is not None:
            position = (self._index - 1) % len(pattern)
            tid = pattern[position]
            if tid == 0:
                self._tl0picidx = (self._tl0picidx + 1) & 0xFF
            self._layer = (tid, False, self._tl0picidx)
        return packet


class SyntheticVideo(MediaStreamTrack):
    """A moving test pattern (diagonal stripes, a sliding bar, a shifting tint) as raw
    `yuv420p` frames: aiortc encodes them, so publishing costs an encoder."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30) -> None:
        super().__init__()
        if width % 2 or height % 2 or width <= 0 or height <= 0:
            raise ValueError("width and height must be positive and even")
        if not 0 < fps <= 120:
            raise ValueError("fps must be in (0, 120]")
        self.width, self.height, self.fps = width, height, fps
        self.frames_sent = 0
        self._pacer = _Pacer(VIDEO_CLOCK)
        self._time_base = Fraction(1, VIDEO_CLOCK)
        self._stripes = bytes((x * 3) & 0xFF for x in range(2 * width))
        self._bar = bytes([235]) * (width // 8)

    def _picture(self, n: int) -> av.VideoFrame:
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        w, h = self.width, self.height
        shift = (4 * n) % w
        bar_x = (8 * n) % (w - len(self._bar))
        bar_top, bar_bottom = h // 3, h // 3 + h // 6
        luma = frame.planes[0]
        pad = bytes(luma.line_size - w)
        rows = []
        for y in range(h):
            row = self._stripes[(shift + y) % w:(shift + y) % w + w]
            if bar_top <= y < bar_bottom:
                row = row[:bar_x] + self._bar + row[bar_x + len(self._bar):]
            rows.append(row + pad if pad else row)
        luma.update(b"".join(rows))
        for index, value in ((1, (n * 2) & 0xFF), (2, (255 - n) & 0xFF)):
            plane = frame.planes[index]
            plane.update(bytes([value]) * (plane.line_size * (h // 2)))
        return frame

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        timestamp = round(self.frames_sent * VIDEO_CLOCK / self.fps)
        await self._pacer.wait(timestamp)
        frame = self._picture(self.frames_sent)
        frame.pts, frame.time_base = timestamp, self._time_base
        self.frames_sent += 1
        return frame


class ToneSource(MediaStreamTrack):
    """A sine tone as 20 ms mono 48 kHz `s16` frames; aiortc encodes them to Opus (and
    computes their level itself). With `on_secs`/`off_secs` the tone alternates with
    silence, e.g. `ToneSource(on_secs=1, off_secs=3)` "speaks" one second in four."""

    kind = "audio"
    samples = 960

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.3, *,
                 on_secs: float | None = None, off_secs: float = 0.0) -> None:
        super().__init__()
        if not 0 <= amplitude <= 1:
            raise ValueError("amplitude must be in [0, 1]")
        self.frequency, self.amplitude = frequency, amplitude
        self.on_secs, self.off_secs = on_secs, off_secs
        self.frames_sent = 0
        self._pacer = _Pacer(AUDIO_CLOCK)
        self._time_base = Fraction(1, AUDIO_CLOCK)
        self._silence = bytes(2 * self.samples)
        self._phase = 0.0

    def _sounding(self, t: float) -> bool:
        if self.on_secs is None:
            return True
        return t % (self.on_secs + self.off_secs) < self.on_secs

    def _samples(self, t: float) -> bytes:
        if not self._sounding(t) or self.amplitude == 0:
            return self._silence
        step = 2 * math.pi * self.frequency / AUDIO_CLOCK
        peak = 32767 * self.amplitude
        start = self._phase
        out = array("h", (int(peak * math.sin(start + i * step)) for i in range(self.samples)))
        self._phase = (start + self.samples * step) % (2 * math.pi)
        return out.tobytes()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        timestamp = self.frames_sent * self.samples
        await self._pacer.wait(timestamp)
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.samples)
        frame.planes[0].update(self._samples(timestamp / AUDIO_CLOCK))
        frame.sample_rate = AUDIO_CLOCK
        frame.pts, frame.time_base = timestamp, self._time_base
        self.frames_sent += 1
        return frame
