"""Track recordings: each participant's audio as its own WebM, the forwarded Opus packets
copied as they are (no decode, no encode — the bytes in the file are the bytes the
publisher sent), named by RealtimeKit's pattern
`{prefix}_{user_id}_{peer_id}_peer_audio_{unix_ms}.webm`.

Timestamps are the packets' RTP timestamps (48 kHz) from the first one kept, minus the
paused spans: a pause leaves no gap, as in the composite.
"""

import time
from fractions import Fraction
from pathlib import Path

import av

from salon.recording.outputs import probe
from salon.recording.spec import OutputFile

OPUS_RATE = 48_000
#: Where RTP time jumps further than this (a publisher that stopped and started again),
#: the file goes on one packet later instead of keeping a silent hole.
MAX_GAP_SECS = 2.0


def track_file_name(prefix: str, user_id: str, peer_id: str, unix_ms: int) -> str:
    return f"{prefix}_{user_id}_{peer_id}_peer_audio_{unix_ms}.webm"


class OpusTrackFile:
    """One peer's audio, copied packet by packet into a WebM."""

    def __init__(self, output_dir: Path, prefix: str, user_id: str, peer_id: str) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        self.user_id, self.peer_id = user_id, peer_id
        self.path = output_dir / track_file_name(prefix, user_id, peer_id,
                                                 int(time.time() * 1000))
        self._partial = self.path.with_name(f".{self.path.name}.part")
        self.container = av.open(str(self._partial), "w", format="webm")
        # An encoder context only to describe the stream (its OpusHead is the WebM's
        # codec private data); it never encodes anything.
        self.stream = self.container.add_stream("libopus", rate=OPUS_RATE)
        self.stream.layout = "stereo"
        self.packets = 0
        self._last_rtp: int | None = None
        self._position = 0  # next pts, in samples
        self._epoch = -1

    def write(self, packet: av.Packet, epoch: int) -> None:
        """One forwarded Opus packet (RTP timestamp in `pts`); `epoch` is the recorded
        clock's, so the first packet after a pause follows the last one before it."""
        rtp = int(packet.pts or 0)
        if self._last_rtp is None or epoch != self._epoch:
            pts = self._position
        else:
            step = (rtp - self._last_rtp) & 0xFFFFFFFF
            if step >= 0x80000000:
                return  # older than what is written: the muxer needs rising timestamps
            if step > MAX_GAP_SECS * OPUS_RATE:
                step = 960
            pts = self._last_pts + step
        self._epoch, self._last_rtp, self._last_pts = epoch, rtp, pts
        copy = av.Packet(bytes(packet))
        copy.pts = copy.dts = pts
        copy.time_base = Fraction(1, OPUS_RATE)
        copy.stream = self.stream
        self.container.mux(copy)
        self.packets += 1
        self._position = pts + 960

    def close(self) -> OutputFile | None:
        """Finalize and rename; None (and no file) if no packet was ever written."""
        self.container.close()
        if not self.packets:
            self._partial.unlink(missing_ok=True)
            return None
        self._partial.replace(self.path)
        return probe(self.path, "track", participant_id=self.user_id, peer_id=self.peer_id)
