"""Everyone's audio mixed into one 48 kHz track on the recorded clock.

Each peer's Opus packets are decoded and placed on the recorded timeline by their RTP
timestamps, anchored at the recorded time the peer's first packet arrived: network
jitter then does not move samples around, and packets that arrive together in a burst
still land where they belong. The anchor follows the least delayed packet seen (the
first one may have waited behind a busy moment), so the latency it assumes is the path's
own. A peer whose RTP time drifts away from its arrivals by
more than `REANCHOR_SECS` (a restarted publisher, a long loss) is anchored again, and so
is everyone after a pause (the clock's `epoch` changes).

The mix is summed without normalisation (FFmpeg `amix normalize=0`) and clipped.
"""

import logging
from dataclasses import dataclass, field

import av
import numpy as np

log = logging.getLogger("salon.recording.mixer")

RATE = 48_000
#: How far a packet's RTP position may stray from its arrival before re-anchoring.
REANCHOR_SECS = 0.5
#: A packet this much earlier than its anchor predicts moves the anchor earlier.
EARLIER_SAMPLES = RATE // 500  # 2 ms


@dataclass
class _Source:
    decoder: av.CodecContext
    resampler: av.AudioResampler
    anchor: tuple[int, int, int] | None = None  # (epoch, rtp timestamp, sample position)
    last_rtp: int = 0
    unwrapped: int = 0
    chunks: list[tuple[int, np.ndarray]] = field(default_factory=list)
    end: int = -(1 << 62)  # where the last chunk placed ends: a peer never overlaps itself


class AudioMixer:
    """Decodes, places and sums the audio of every source (`<peer_id>:audio`)."""

    def __init__(self, channels: int = 2) -> None:
        self.channels = channels
        self._sources: dict[str, _Source] = {}

    def _source(self, key: str) -> _Source:
        source = self._sources.get(key)
        if source is None:
            layout = "stereo" if self.channels == 2 else "mono"
            source = self._sources[key] = _Source(
                av.CodecContext.create("opus", "r"),
                av.AudioResampler(format="fltp", layout=layout, rate=RATE))
        return source

    def remove(self, key: str) -> None:
        self._sources.pop(key, None)

    def push(self, key: str, packet: av.Packet, arrival: float, epoch: int) -> None:
        """One Opus packet of `key`, its RTP timestamp in `packet.pts`, which arrived at
        recorded time `arrival`."""
        source = self._source(key)
        try:
            frames = source.decoder.decode(packet)
        except av.error.FFmpegError as exc:  # a corrupt packet: skip it, keep the source
            log.debug("opus decode failed for %s: %s", key, exc)
            return
        samples = [s for frame in frames for s in source.resampler.resample(frame)]
        if not samples:
            return
        pcm = np.concatenate([s.to_ndarray() for s in samples], axis=1)
        self.place(key, pcm, int(packet.pts or 0), arrival, epoch)

    def place(self, key: str, pcm: np.ndarray, rtp: int, arrival: float, epoch: int) -> None:
        """Put decoded samples (channels × n, float) at the position `rtp` maps to."""
        source = self._source(key)
        arrived_at = round(arrival * RATE)
        if source.anchor is None or source.anchor[0] != epoch:
            source.anchor = (epoch, rtp, arrived_at)
            source.last_rtp, source.unwrapped = rtp, rtp
        else:
            step = (rtp - source.last_rtp) & 0xFFFFFFFF
            if step >= 0x80000000:
                step -= 0x100000000  # an older packet (reordered)
            source.unwrapped += step
            source.last_rtp = rtp
        epoch0, rtp0, position0 = source.anchor
        position = position0 + source.unwrapped - rtp0
        if arrived_at < position - EARLIER_SAMPLES:
            # it came sooner than the anchor predicts: the anchor's own packet was held
            # up (a busy loop, a burst); the least delayed packet sets the latency
            source.anchor = (epoch0, rtp0, position0 - (position - arrived_at))
            position = arrived_at
        if abs(position - arrived_at) > REANCHOR_SECS * RATE:
            source.anchor = (epoch0, rtp, arrived_at)
            source.unwrapped = rtp
            position = arrived_at
        if position < source.end:  # overlaps what this peer already has (a moved anchor)
            pcm = pcm[:, source.end - position:]
            position = source.end
            if not pcm.shape[1]:
                return
        source.chunks.append((position, pcm.astype(np.float32, copy=False)))
        source.end = position + pcm.shape[1]

    def render(self, start: int, count: int) -> np.ndarray:
        """The mix of samples [start, start + count) as channels × count float32; what
        lies before `start + count` is consumed (later packets for it are too late)."""
        out = np.zeros((self.channels, count), dtype=np.float32)
        end = start + count
        for source in self._sources.values():
            keep = []
            for position, pcm in source.chunks:
                stop = position + pcm.shape[1]
                lo, hi = max(position, start), min(stop, end)
                if hi > lo:
                    out[:, lo - start:hi - start] += pcm[:, lo - position:hi - position]
                if stop > end:
                    keep.append((position, pcm))
            source.chunks = keep
        np.clip(out, -1.0, 1.0, out=out)
        return out
