"""Opus packets as the recognizer hears them: 16 kHz mono float32."""

import av
import numpy as np

from salon.ai.recognizer import SAMPLE_RATE


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
