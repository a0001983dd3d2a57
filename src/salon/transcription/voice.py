"""Opus packets as the recognizer hears them: 16 kHz mono float32."""

import av
import numpy as np

from salon.ai.recognizer import SAMPLE_RATE
from salon.recording.tracks import OPUS_RATE
from salon.transcription.capture import MAX_GAP_SECS


class VoiceDecoder:
    """Decodes one voice's forwarded Opus packets (libopus through PyAV, about 30 µs a
    20 ms packet) and resamples them for Whisper."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("opus", "r")
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def decode(self, packet: av.Packet) -> np.ndarray:
        """The samples of one packet (empty if it held none or could not be decoded: a
        lost or damaged packet costs its 20 ms, not the voice)."""
        chunks = []
        try:
            for frame in self._codec.decode(av.Packet(bytes(packet))):
                frame.pts = None  # the resampler needs no timeline: samples in order
                for out in self._resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            return np.zeros(0, dtype=np.float32)
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32, copy=False)


class VoiceClock:
    """The wall clock of each packet of one voice, read on the sender's RTP clock.

    Packets do not arrive as they were spoken: a network's jitter, or this process
    stalling for a moment on a busy machine, holds some back and then hands over a
    burst. Stamped with their arrival, the held-back packets would look like a pause
    in the voice, and the captioner's endpointing (salon.ai.endpointing) would end the
    sentence there. So within a stretch of a voice, a packet's time is the stretch's
    start plus its RTP timestamp's distance from the first packet's, pulled earlier
    only when a packet arrives sooner than that says (the stretch's first packet was
    late itself). A stretch ends, and the next starts on the wall clock, where the
    capture starts a new file (capture.MAX_GAP_SECS): the RTP clock jumps back or by
    more than that, or no packet came for that long (a publisher whose RTP clock stops
    while muted). So a stall longer than that is not told from a mute: the packets it
    held back are stamped as they arrive, together (the captioner, for its part, ends
    an utterance whose audio stops for 1.5 s: salon.ai.captions.STALL_S).
    """

    def __init__(self, rate: int = OPUS_RATE, max_gap_secs: float = MAX_GAP_SECS) -> None:
        self.rate, self.max_gap_secs = rate, max_gap_secs
        self._anchor: tuple[int, float] | None = None  # (RTP timestamp, its wall clock)
        self._last_rtp = 0
        self._last_arrival = 0.0

    def at(self, rtp: int, arrived: float) -> float:
        """Wall clock (unix seconds) of the first sample of the packet stamped `rtp`
        (the RTP timestamp) that arrived at `arrived`."""
        # A packet's first sample was captured about one 20 ms frame before it arrived.
        heard = arrived - 0.02
        anchor = self._anchor
        step = (rtp - self._last_rtp) & 0xFFFFFFFF
        if (anchor is None or step > self.max_gap_secs * self.rate
                or arrived - self._last_arrival > self.max_gap_secs):
            anchor = (rtp, heard)
        else:
            on_rtp = anchor[1] + ((rtp - anchor[0]) & 0xFFFFFFFF) / self.rate
            if heard < on_rtp:
                anchor = (rtp, heard)
        self._anchor, self._last_rtp, self._last_arrival = anchor, rtp, arrived
        return anchor[1] + ((rtp - anchor[0]) & 0xFFFFFFFF) / self.rate
