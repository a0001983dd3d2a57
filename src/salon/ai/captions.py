"""Live captions: each speaker's audio in, interim and final captions out.

The meeting bot decodes every speaker's Opus to 16 kHz mono float32 and calls
`LiveCaptioner.feed()` from its event loop; feed() only appends the chunk under a lock
(it never runs the VAD or the model). One worker thread does the rest, in a loop:

1. takes the fed chunks and runs the streaming silero VAD over each speaker's audio
   (salon.ai.endpointing): `endpoint_secs` of silence ends an utterance, one longer than
   `max_utterance_secs` is cut; a finished utterance is queued for its final;
2. sheds load (below): finals that waited longer than `max_lag_secs` are dropped;
3. recognizes the oldest queued final (beam 5) or, when no final waits and the worker
   is not behind, the open utterance most in need of an interim (greedy), with
   `Recognizer.transcribe_clip` (a short encoder window: 0.05-0.1 s a sentence on 2
   cores) and calls `on_caption` from the worker thread.

One thread runs the model because CTranslate2 already spreads one decode over
`recognizer.cpu_threads` cores; two decoders would only take turns. Finals come first
because they are what stays on screen and in the chat; an interim costs a final at most
one short decode of waiting.

Load shedding, in order: an interim is skipped when a final is queued, when the worker
is behind, or when a newer one is due (debug log, `stats["dropped_interims"]`); a
final whose audio ended more than `max_lag_secs` ago is dropped with a warning naming
the speaker (`stats["dropped_utterances"]`, `["dropped_secs"]`); if the worker stops
taking audio altogether, feed() drops a speaker's oldest unread chunks beyond
`MAX_UNREAD_S` with a warning. Captions fall behind or lose sentences; the meeting's
media never waits for them.

Whisper tiny makes words up on silence and noise ("Thank you.", "you"), so nothing is
recognized without `MIN_SPEECH_S` of VAD speech, and text Whisper itself doubts (no
speech probability over 0.6 with a mean log-probability under -1, its own rule, or no
speech probability over `NO_SPEECH_SURE`) or that repeats itself is not shown.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from salon.ai.endpointing import MIN_SPEECH_S, Chunk, SpeakerStream, Utterance
from salon.ai.recognizer import SAMPLE_RATE, Recognizer, Segment
from salon.ai.wer import words

log = logging.getLogger(__name__)

#: Beam sizes: finals are what stays; an interim is replaced within a second.
FINAL_BEAM = 5
INTERIM_BEAM = 1
#: Whisper's no-speech probability above which its text is dropped whatever it says.
NO_SPEECH_SURE = 0.8
#: A final more compressible than this (zlib) is a decoder loop ("the the the ...").
MAX_COMPRESSION = 2.4
#: Unread audio per speaker that feed() keeps when the worker does not take it.
MAX_UNREAD_S = 30.0
#: A speaker whose audio stops this long (plus endpoint_secs) mid-utterance is done.
STALL_S = 1.0


@dataclass(frozen=True)
class Caption:
    """One caption; see docs/transcription.md "Live captions engine"."""

    speaker: str  # the key given to feed() (a peer id)
    utterance_id: str  # the same for an utterance's interims and its final (uuid4)
    text: str  # recognized so far (interim) or final text; never empty
    is_partial: bool  # True: interim; False: final (one per utterance with speech)
    started_at: float  # time.time() wall clock of the utterance's first sample
    ended_at: float | None  # wall clock of the utterance's end (finals), None (interims)
    emitted_at: float  # time.time() when the caption was produced


class LiveCaptioner:
    """Streaming captions for the speakers of one meeting (see the module docstring)."""

    def __init__(
        self,
        recognizer: Recognizer,
        on_caption: Callable[[Caption], None],
        *,
        language: str = "en-US",
        keywords: Sequence[str] = (),
        profanity_filter: bool = False,
        interim_secs: float = 1.0,
        endpoint_secs: float = 0.5,
        max_utterance_secs: float = 15.0,
        max_lag_secs: float = 4.0,
    ) -> None:
        recognizer.check_language(language)  # UnsupportedLanguage before any audio
        for name, value in (("interim_secs", interim_secs), ("endpoint_secs", endpoint_secs),
                            ("max_utterance_secs", max_utterance_secs),
                            ("max_lag_secs", max_lag_secs)):
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        self.recognizer = recognizer
        self.on_caption = on_caption
        self.language = language
        self.keywords = tuple(keywords)
        self.profanity_filter = profanity_filter
        self.interim_secs = interim_secs
        self.endpoint_secs = endpoint_secs
        self.max_utterance_secs = min(max_utterance_secs, 28.0)  # one Whisper window
        self.max_lag_secs = max_lag_secs
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # the worker waits for work on it
        self._idle = threading.Condition(lock)  # wait_idle() waits on it
        # guarded by the lock: what feed()/end_speaker() hand the worker
        self._unread: dict[str, deque[Chunk | None]] = {}  # None: end_speaker()
        self._unread_samples: dict[str, int] = {}
        self._waiting = False
        self._busy = False
        self._closed = False
        self._unread_dropped_secs = 0.0
        # the worker's own
        self._streams: dict[str, SpeakerStream] = {}
        self._finals: deque[Utterance] = deque()
        self._stats: dict[str, int | float] = {
            "finals": 0, "interims": 0, "dropped_interims": 0, "dropped_utterances": 0,
            "dropped_secs": 0.0, "discarded": 0, "busy_secs": 0.0, "vad_secs": 0.0,
            "lag_secs": 0.0}
        self._thread = threading.Thread(target=self._run, name="live-captions", daemon=True)
        self._thread.start()

    # --- the caller's side (any thread; never blocks on the model) ----------------------

    def feed(self, speaker: str, samples: np.ndarray, at: float | None = None) -> None:
        """Queue a chunk of `speaker`'s audio (16 kHz mono float32, any length); `at`:
        wall clock of its first sample (default now). Returns at once."""
        arrived = time.monotonic()
        chunk = Chunk(np.array(samples, dtype=np.float32, copy=True).reshape(-1),
                      time.time() if at is None else at, arrived)
        with self._cond:
            if self._closed:
                return
            queue = self._unread.setdefault(speaker, deque())
            queue.append(chunk)
            unread = self._unread_samples.get(speaker, 0) + chunk.samples.size
            if unread > MAX_UNREAD_S * SAMPLE_RATE:
                unread -= self._drop_unread(speaker, queue)
            self._unread_samples[speaker] = unread
            if self._waiting:
                self._cond.notify()

    def end_speaker(self, speaker: str) -> None:
        """`speaker` stopped or left: finalize their open utterance, forget them."""
        with self._cond:
            if self._closed:
                return
            self._unread.setdefault(speaker, deque()).append(None)
            self._cond.notify()

    def close(self) -> None:
        """Stop the worker (waiting for a decode in progress); no caption after this."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the worker has read all audio fed so far and recognized every
        finished utterance (an open one waits for more audio or end_speaker()); False
        on timeout. For tests, benchmarks and an orderly shutdown, never the loop."""
        with self._idle:
            return self._idle.wait_for(
                lambda: self._closed or not (self._unread or self._finals or self._busy),
                timeout)

    @property
    def stats(self) -> dict[str, int | float]:
        """Counters: finals, interims, dropped_interims, dropped_utterances,
        dropped_secs (speech dropped for lag), discarded (no speech or made-up text),
        busy_secs (in the model), vad_secs, lag_secs (how far behind, last loop)."""
        stats = dict(self._stats)
        stats["dropped_secs"] += self._unread_dropped_secs
        return stats

    def _drop_unread(self, speaker: str, queue: deque[Chunk | None]) -> int:
        """Called under the lock when the worker has not read a speaker's audio for
        MAX_UNREAD_S: drop the oldest half of it."""
        dropped = 0
        while queue and queue[0] is not None and dropped < MAX_UNREAD_S * SAMPLE_RATE / 2:
            dropped += queue.popleft().samples.size  # type: ignore[union-attr]
        if not dropped:
            return 0
        self._unread_dropped_secs += dropped / SAMPLE_RATE
        log.warning("live captions: dropped %.1f s of unread audio of speaker %s: the "
                    "captions worker has not taken any for %.0f s (stuck or overloaded)",
                    dropped / SAMPLE_RATE, speaker, MAX_UNREAD_S)
        return dropped

    # --- the worker -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.recognizer.load()
            loaded = True
        except Exception:
            # once: every step would fail the same way (a missing model directory)
            log.exception("live captions: the recognizer did not load; no captions for "
                          "this meeting")
            loaded = False
        while True:
            with self._cond:
                while not self._closed and not self._has_work():
                    self._waiting = True
                    self._cond.wait(timeout=0.1 if self._streams else None)
                    self._waiting = False
                    if any(s.open for s in self._streams.values()):
                        break  # check for stalled speakers
                if self._closed:
                    self._idle.notify_all()
                    return
                unread, self._unread = self._unread, {}
                self._unread_samples.clear()
                if not loaded:  # nothing to recognise with: the audio is let go
                    self._finals.clear()
                    self._idle.notify_all()
                    self._cond.wait(timeout=0.1)  # an open stream keeps _has_work true
                    continue
                self._busy = True
            try:
                self._step(unread)
            except Exception:  # a caption bug must not end captions for the meeting
                log.exception("live captions: worker step failed")
            with self._cond:
                self._busy = False
                self._idle.notify_all()

    def _has_work(self) -> bool:
        return bool(self._unread) or bool(self._finals) or any(
            s.interim_due(self.interim_secs) for s in self._streams.values())

    def _step(self, unread: dict[str, deque[Chunk | None]]) -> None:
        t0 = time.perf_counter()
        now = time.monotonic()
        oldest = min((c.arrived for q in unread.values() for c in q if c is not None),
                     default=now)
        for speaker, items in unread.items():
            chunks: list[Chunk] = []
            for item in items:
                if item is not None:
                    chunks.append(item)
                    continue
                self._ingest(speaker, chunks)
                chunks = []
                stream = self._streams.pop(speaker, None)
                if stream is not None:
                    self._queue(stream.flush(now))
            self._ingest(speaker, chunks)
        for stream in self._streams.values():  # audio stopped without end_speaker()
            if stream.open and now - stream.last_arrival > self.endpoint_secs + STALL_S:
                self._queue(stream.flush(now))
        self._stats["vad_secs"] += time.perf_counter() - t0
        self._shed(now, now - oldest)
        if self._finals:
            self._final(self._finals.popleft())
        elif now - oldest <= self.interim_secs:  # else behind: let interims go
            self._interim()

    def _ingest(self, speaker: str, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        stream = self._streams.get(speaker)
        if stream is None:
            stream = self._streams[speaker] = SpeakerStream(
                speaker, endpoint_secs=self.endpoint_secs,
                max_utterance_secs=self.max_utterance_secs)
        for utterance in stream.push(chunks):
            self._queue(utterance)

    def _queue(self, utterance: Utterance | None) -> None:
        if utterance is None:
            return
        self._skipped(utterance.speaker, utterance.undecoded_secs)
        if utterance.speech_secs < MIN_SPEECH_S and not utterance.interims:
            self._stats["discarded"] += 1
            return
        self._finals.append(utterance)

    def _skipped(self, speaker: str, undecoded_secs: float, *, decoding: bool = False) -> None:
        """Count the interims that were due in `undecoded_secs` of speech and never
        decoded (one less when the newest is being decoded now)."""
        skipped = math.floor(undecoded_secs / self.interim_secs) - decoding
        if skipped > 0:
            self._stats["dropped_interims"] += skipped
            log.debug("live captions: speaker %s: %d interim(s) skipped (a final first, "
                      "the worker behind, or a newer one due)", speaker, skipped)

    def _shed(self, now: float, unread_lag: float) -> None:
        """Drop finals that waited longer than max_lag_secs (oldest first)."""
        lag = max(unread_lag, now - self._finals[0].ready if self._finals else 0.0)
        self._stats["lag_secs"] = round(lag, 3)
        while self._finals and now - self._finals[0].ready > self.max_lag_secs:
            late = self._finals.popleft()
            self._stats["dropped_utterances"] += 1
            self._stats["dropped_secs"] += late.speech_secs
            log.warning(
                "live captions: dropped %.1f s of speech of speaker %s: captions are "
                "%.1f s behind (max_lag_secs %.1f), the recognizer cannot keep up with "
                "%d speaker(s)", late.speech_secs, late.speaker, now - late.ready,
                self.max_lag_secs, len(self._streams))

    def _final(self, utterance: Utterance) -> None:
        text = self._recognize(utterance.audio, FINAL_BEAM, final=True)
        if not text:
            if not utterance.interims:
                self._stats["discarded"] += 1
                return
            text = utterance.last_interim  # close what the viewers were shown
        self._emit(Caption(utterance.speaker, utterance.utterance_id, text, False,
                           utterance.started_at, utterance.ended_at, time.time()))
        self._stats["finals"] += 1

    def _interim(self) -> None:
        due = [s for s in self._streams.values() if s.interim_due(self.interim_secs)]
        if not due:
            return
        stream = max(due, key=lambda s: s.undecoded_secs())
        utterance = stream.open
        assert utterance is not None
        self._skipped(stream.speaker, stream.undecoded_secs(), decoding=True)
        text = self._recognize(stream.interim_audio(), INTERIM_BEAM, final=False)
        if not text or text == utterance.last_interim:
            return
        utterance.interims += 1
        utterance.last_interim = text
        self._emit(Caption(stream.speaker, utterance.utterance_id, text, True,
                           utterance.started_at, None, time.time()))
        self._stats["interims"] += 1

    def _recognize(self, audio: np.ndarray, beam: int, *, final: bool) -> str:
        t0 = time.perf_counter()
        try:
            segments = self.recognizer.transcribe_clip(
                audio, language=self.language, keywords=self.keywords,
                profanity_filter=self.profanity_filter, beam_size=beam)
        finally:
            self._stats["busy_secs"] += time.perf_counter() - t0
        text = " ".join(s.text for s in segments if _believable(s)).strip()
        text = re.sub(r"(?:\s*\.\.\.)+", "...", text)
        if not words(text):
            return ""
        if final and len(text) > 40 and _compression(text) > MAX_COMPRESSION:
            log.debug("live captions: dropped a repetitive final: %r", text)
            return ""
        return text

    def _emit(self, caption: Caption) -> None:
        with self._cond:
            if self._closed:
                return
        try:
            self.on_caption(caption)
        except Exception:
            log.exception("live captions: on_caption failed")


def _believable(segment: Segment) -> bool:
    """Whether Whisper heard speech, by its own numbers (hallucinations on noise come
    with a high no-speech probability and a low log-probability)."""
    no_speech = segment.no_speech_prob or 0.0
    logprob = segment.avg_logprob if segment.avg_logprob is not None else 0.0
    return not (no_speech > NO_SPEECH_SURE or (no_speech > 0.6 and logprob < -1.0))


def _compression(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))
