"""Speech made on the machine for the transcription tests and bench/transcription.py:
espeak-ng (Debian) says known sentences, PyAV resamples them to Whisper's 16 kHz mono
float32 and can encode them into an Opus WebM like a track recording's."""

import asyncio
import fractions
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from aiortc.mediastreams import AudioStreamTrack

from salon.ai.recognizer import SAMPLE_RATE, decode_audio

#: Words per minute: espeak-ng's default (175) is fast for tiny.en; 140 is clear.
RATE_WPM = 140


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def say(text: str, voice: str = "en-us", *, rate: int = RATE_WPM) -> np.ndarray:
    """`text` spoken by espeak-ng's `voice`, as 16 kHz mono float32 samples."""
    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed: run scripts/setup "
                           "(apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text],
                       check=True, capture_output=True, timeout=60)
        return decode_audio(wav)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def place(clips: list[tuple[float, np.ndarray]], total_secs: float) -> np.ndarray:
    """One track with each clip starting at its time (seconds), silence between."""
    track = silence(total_secs)
    for at, clip in clips:
        start = round(at * SAMPLE_RATE)
        track[start:start + clip.size] += clip[: max(0, track.size - start)]
    return track


def write_opus_webm(samples: np.ndarray, path: Path) -> Path:
    """`samples` (16 kHz mono float32) encoded as Opus 48 kHz in WebM, like a track
    recording (recording/tracks.py writes Opus packets into WebM)."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        for i in range(0, pcm.size, SAMPLE_RATE // 50):
            frame = av.AudioFrame.from_ndarray(pcm[None, i:i + SAMPLE_RATE // 50],
                                               format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = i
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    out.mux(packet)
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path



class SpeechTrack(AudioStreamTrack):
    """An aiortc audio track that says `samples` (16 kHz mono float32) in real time from
    its first `recv`, then keeps sending silence: a test peer's microphone."""

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        self.pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        self.position = 0
        self.started: float | None = None

    async def recv(self) -> av.AudioFrame:
        chunk = SAMPLE_RATE // 50  # 20 ms
        if self.started is None:
            self.started = time.time()
        else:
            wait = self.started + self.position / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        part = self.pcm[self.position:self.position + chunk]
        if part.size < chunk:
            part = np.concatenate([part, np.zeros(chunk - part.size, np.int16)])
        frame = av.AudioFrame.from_ndarray(part.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.position
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.position += chunk
        return frame


def speech_bounds(clip: np.ndarray, threshold: float = 0.01) -> tuple[float, float]:
    """Where the speech in a said clip starts and ends, in seconds (espeak-ng leaves
    some silence after the last word): the true times of live-caption latency."""
    loud = np.flatnonzero(np.abs(clip) > threshold)
    if loud.size == 0:
        return 0.0, 0.0
    return loud[0] / SAMPLE_RATE, (loud[-1] + 1) / SAMPLE_RATE
