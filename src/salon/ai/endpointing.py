"""One speaker's audio stream cut into utterances by voice activity (live captions).

`SpeakerStream` takes the chunks fed for one speaker, runs the streaming silero VAD
(salon.ai.vad) over them and says where utterances start and end: speech starts at a
window whose probability reaches `SPEECH_THRESHOLD`, continues while it stays above
`SILENCE_THRESHOLD` (the hysteresis faster-whisper uses), and ends after
`endpoint_secs` below it. An utterance longer than `max_utterance_secs` is cut, at its
last short pause when there is one in the second half, so a monologue still gets
finals. The stream keeps the open utterance's audio (plus `PRE_ROLL_S` before it) for
interim recognition, and a finished utterance leaves as an `Utterance` carrying its own
audio. Wall-clock times come from the `at` given with the chunks.

Pure bookkeeping and the VAD, no threads: the captions worker owns one per speaker.
"""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass

import numpy as np

from salon.ai.recognizer import SAMPLE_RATE
from salon.ai.vad import WINDOW, StreamingVad

#: silero's probability that starts speech, and the one below which it is silence.
SPEECH_THRESHOLD = 0.5
SILENCE_THRESHOLD = 0.35
#: Audio kept before the VAD's start and after its end: silero triggers a little after
#: a soft onset and stops right at the last phoneme, and Whisper wants the edges.
PRE_ROLL_S = 0.3
POST_ROLL_S = 0.3
#: An utterance with less speech than this (a cough, a click) gets no final caption.
MIN_SPEECH_S = 0.25
#: A jump of the chunks' `at` beyond the stream's own clock by more than this is a gap
#: (packets lost, the sender muted): it counts as silence, up to what ends an
#: utterance. Smaller jumps only re-anchor the clock (jitter, clock drift).
GAP_S = 0.3
REANCHOR_S = 0.05


@dataclass(frozen=True)
class Chunk:
    """Fed audio: samples, the wall clock of the first one, and the monotonic time
    it was handed to feed() (to measure how far the worker is behind)."""

    samples: np.ndarray
    at: float
    arrived: float


@dataclass
class Utterance:
    """A finished utterance, waiting for its final recognition."""

    speaker: str
    utterance_id: str
    audio: np.ndarray
    started_at: float
    ended_at: float
    speech_secs: float
    #: monotonic time at which the audio that ended it arrived: how long it waits
    ready: float
    #: speech since the last interim decode, in seconds (interims that were due)
    undecoded_secs: float = 0.0
    interims: int = 0
    last_interim: str = ""


@dataclass
class _Open:
    utterance_id: str
    start: int  # stream position of the first speech window
    speech_end: int  # end of the last window above SILENCE_THRESHOLD
    started_at: float
    speech: int = 0  # samples of windows above SPEECH_THRESHOLD
    pause: int = 0  # end of the latest short pause (a window below the threshold)
    interim_at: int = 0  # speech_end when the last interim was decoded
    interims: int = 0
    last_interim: str = ""


class _Buffer:
    """Samples from stream position `base` on, in a growable array (no copy per chunk)."""

    def __init__(self) -> None:
        self.base = 0
        self._data = np.zeros(SAMPLE_RATE * 4, dtype=np.float32)
        self._size = 0

    @property
    def end(self) -> int:
        return self.base + self._size

    def append(self, samples: np.ndarray) -> None:
        need = self._size + samples.size
        if need > self._data.size:
            grown = np.zeros(max(need, 2 * self._data.size), dtype=np.float32)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size:need] = samples
        self._size = need

    def slice(self, start: int, stop: int) -> np.ndarray:
        start, stop = max(start, self.base), min(stop, self.end)
        return self._data[start - self.base: max(start, stop) - self.base].copy()

    def drop_before(self, position: int) -> None:
        cut = min(max(0, position - self.base), self._size)
        if cut:
            self._data[: self._size - cut] = self._data[cut: self._size]
            self._size -= cut
            self.base += cut


class SpeakerStream:
    """One speaker's audio, cut into utterances (see the module docstring)."""

    def __init__(self, speaker: str, *, endpoint_secs: float, max_utterance_secs: float) -> None:
        self.speaker = speaker
        self._endpoint = max(WINDOW, round(endpoint_secs * SAMPLE_RATE))
        self._max = max(SAMPLE_RATE, round(max_utterance_secs * SAMPLE_RATE))
        self._vad = StreamingVad()
        self._buffer = _Buffer()
        self._vad_pos = 0  # stream position of the next window the VAD will score
        self._fed = 0  # stream position up to which the VAD has been given the audio
        self._anchors: list[tuple[int, float]] = []  # (stream position, wall clock)
        self._open: _Open | None = None
        self.last_arrival = 0.0

    @property
    def open(self) -> _Open | None:
        """The utterance being spoken, if any."""
        return self._open

    @property
    def position(self) -> int:
        """Samples received so far (the stream's clock, gaps included)."""
        return self._buffer.end

    def wall(self, position: int) -> float:
        """Wall clock of a stream position, from the `at` of the chunks."""
        i = bisect.bisect_right(self._anchors, (position, float("inf"))) - 1
        pos, at = self._anchors[max(i, 0)]
        return at + (position - pos) / SAMPLE_RATE

    def push(self, chunks: list[Chunk]) -> list[Utterance]:
        """Take fed chunks (in order); the utterances they finished."""
        if not chunks:
            return []
        for chunk in chunks:
            self._append(chunk)
        self.last_arrival = chunks[-1].arrived
        # The VAD scores every complete window; each window's end decides.
        probs = self._vad.push(self._buffer.slice(self._fed, self._buffer.end))
        self._fed = self._buffer.end
        done: list[Utterance] = []
        arrived = chunks[-1].arrived
        for prob in probs:
            start = self._vad_pos
            self._vad_pos += WINDOW
            finished = self._step(float(prob), start, self._vad_pos, arrived)
            if finished is not None:
                done.append(finished)
        self._trim()
        return done

    def flush(self, arrived: float) -> Utterance | None:
        """End the open utterance now (the speaker left, or their audio stopped)."""
        if self._open is None:
            return None
        return self._finish(min(self._buffer.end, self._open.speech_end + round(
            POST_ROLL_S * SAMPLE_RATE)), arrived)

    def interim_due(self, interim_secs: float) -> bool:
        """Whether `interim_secs` more speech was said since the last interim."""
        utt = self._open
        return (utt is not None and utt.speech >= MIN_SPEECH_S * SAMPLE_RATE
                and utt.speech_end - utt.interim_at >= interim_secs * SAMPLE_RATE)

    def undecoded_secs(self) -> float:
        """Speech of the open utterance since its last interim decode, in seconds."""
        utt = self._open
        return 0.0 if utt is None else max(0, utt.speech_end - utt.interim_at) / SAMPLE_RATE

    def interim_audio(self) -> np.ndarray:
        """The open utterance's audio so far (with its pre-roll), marking it decoded."""
        utt = self._open
        assert utt is not None
        utt.interim_at = utt.speech_end
        return self._buffer.slice(utt.start - round(PRE_ROLL_S * SAMPLE_RATE),
                                  self._buffer.end)

    def _append(self, chunk: Chunk) -> None:
        if self._anchors:
            drift = chunk.at - self.wall(self._buffer.end)
            if drift > GAP_S:  # a hole in the audio: silence, enough to end an utterance
                gap = min(round(drift * SAMPLE_RATE), self._endpoint + WINDOW)
                self._buffer.append(np.zeros(gap, dtype=np.float32))
            if drift > REANCHOR_S:
                self._anchors.append((self._buffer.end, chunk.at))
        else:
            self._anchors.append((self._buffer.end, chunk.at))
        self._buffer.append(chunk.samples)

    def _step(self, prob: float, start: int, end: int, arrived: float) -> Utterance | None:
        utt = self._open
        if utt is None:
            if prob >= SPEECH_THRESHOLD:
                self._open = _Open(str(uuid.uuid4()), start, end, self.wall(start),
                                   speech=WINDOW, interim_at=start)
            return None
        if prob >= SILENCE_THRESHOLD:
            utt.speech_end = end
            if prob >= SPEECH_THRESHOLD:
                utt.speech += WINDOW
        else:
            utt.pause = end
            if end - utt.speech_end >= self._endpoint:
                return self._finish(utt.speech_end + round(POST_ROLL_S * SAMPLE_RATE),
                                    arrived)
        if end - utt.start >= self._max:
            # Too long: cut at the last short pause if it is in the second half, else
            # here; what follows the cut is a new utterance, still being spoken.
            cut = utt.pause if utt.pause - utt.start >= self._max // 2 else end
            finished = self._finish(cut, arrived, speech_end=min(cut, utt.speech_end))
            self._open = _Open(str(uuid.uuid4()), cut, max(cut, utt.speech_end),
                               self.wall(cut), speech=max(0, utt.speech_end - cut),
                               interim_at=cut)
            return finished
        return None

    def _finish(self, stop: int, arrived: float, *, speech_end: int | None = None) -> Utterance:
        utt = self._open
        assert utt is not None
        self._open = None
        end = utt.speech_end if speech_end is None else speech_end
        audio = self._buffer.slice(utt.start - round(PRE_ROLL_S * SAMPLE_RATE),
                                   min(stop, self._buffer.end))
        spoken = max(0, end - utt.start)
        return Utterance(
            self.speaker, utt.utterance_id, audio, utt.started_at, self.wall(end),
            min(utt.speech, spoken) / SAMPLE_RATE, arrived,
            max(0, end - utt.interim_at) / SAMPLE_RATE, utt.interims, utt.last_interim)

    def _trim(self) -> None:
        """Forget audio nobody needs: all but the pre-roll before the open utterance."""
        keep_from = self._vad_pos - round(PRE_ROLL_S * SAMPLE_RATE)
        if self._open is not None:
            keep_from = min(keep_from, self._open.start - round(PRE_ROLL_S * SAMPLE_RATE))
        self._buffer.drop_before(keep_from)
        i = bisect.bisect_right(self._anchors, (self._buffer.base, float("inf"))) - 1
        if i > 0:
            del self._anchors[:i]
