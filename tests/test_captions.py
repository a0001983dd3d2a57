"""Live captions with real speech and the real model (salon.ai.captions).

espeak-ng says known sentences; they are fed to a `LiveCaptioner` in 20 ms chunks with
explicit wall-clock `at` values, faster than real time unless a test is about timing
(interims, which need the audio to arrive at its own pace). The bundled tiny.en model
recognizes them; only the backlog test slows it down on purpose.
"""

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from salon.ai.captions import Caption, LiveCaptioner
from salon.ai.languages import UnsupportedLanguage
from salon.ai.recognizer import SAMPLE_RATE, Recognizer
from salon.ai.wer import wer
from salon.transcription.voice import VoiceClock
from tests.speech import place, say, silence, speech_bounds

MAX_WER = 0.25
CHUNK = SAMPLE_RATE // 50  # 20 ms, as the bot decodes Opus frames

ALICE = [("en-us", "The quarterly budget review meeting will start after lunch."),
         ("en-us", "We decided to move the product launch to next month.")]
BOB = [("en-gb", "Please send the slides to the design team before Friday."),
       ("en-gb", "The old database must stay online for one more week.")]


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {text: say(text, voice) for voice, text in ALICE + BOB}


def secs(clip: np.ndarray) -> float:
    return clip.size / SAMPLE_RATE


class Captions:
    """on_caption: collects captions (from the worker thread) and waits for finals."""

    def __init__(self) -> None:
        self.items: list[Caption] = []
        self._cond = threading.Condition()

    def __call__(self, caption: Caption) -> None:
        with self._cond:
            self.items.append(caption)
            self._cond.notify_all()

    def finals(self, speaker: str | None = None) -> list[Caption]:
        return [c for c in self.items if not c.is_partial
                and (speaker is None or c.speaker == speaker)]

    def wait_finals(self, count: int, timeout: float = 10.0) -> list[Caption]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.finals()) >= count, timeout)
        return self.finals()


@pytest.fixture
def captions() -> Captions:
    return Captions()


@pytest.fixture
def make(recognizer, captions) -> Callable[..., LiveCaptioner]:
    made: list[LiveCaptioner] = []

    def make(rec: Recognizer | None = None, **options) -> LiveCaptioner:
        captioner = LiveCaptioner(rec or recognizer, captions, **options)
        made.append(captioner)
        return captioner

    yield make
    for captioner in made:
        captioner.close()


def feed(captioner: LiveCaptioner, tracks: dict[str, np.ndarray], t0: float, *,
         realtime: bool = False, holes: dict[str, tuple[float, float]] | None = None) -> None:
    """Feed each speaker's track in 20 ms chunks, interleaved as the bot would, `at`
    on the clock starting at t0; paced by the wall clock when `realtime`. A speaker's
    chunks whose time falls in their `holes` (seconds) are not sent."""
    length = max(track.size for track in tracks.values())
    for i in range(0, length, CHUNK):
        offset = i / SAMPLE_RATE
        if realtime:
            ahead = t0 + offset - time.time()
            if ahead > 0:
                time.sleep(ahead)
        for speaker, track in tracks.items():
            hole = (holes or {}).get(speaker)
            if hole and hole[0] <= offset < hole[1]:
                continue
            if i < track.size:
                captioner.feed(speaker, track[i:i + CHUNK], at=t0 + offset)


# --- recognition and endpointing ----------------------------------------------------


def test_two_speakers_get_one_final_per_utterance_with_their_words(make, captions, clips):
    a1, a2 = (clips[t] for _, t in ALICE)
    b1, b2 = (clips[t] for _, t in BOB)
    # Alice speaks at 0.5 s and again 1.2 s after; Bob at 1.0 s, then his audio stops
    # arriving for 2 s (a hole, not silence), then his second sentence.
    alice_at = [0.5, 0.5 + secs(a1) + 1.2]
    bob_at = [1.0, 1.0 + secs(b1) + 2.5]
    hole = (1.0 + secs(b1) + 0.2, 1.0 + secs(b1) + 2.2)
    length = max(alice_at[1] + secs(a2), bob_at[1] + secs(b2)) + 1.0
    tracks = {"peer-alice": place([(alice_at[0], a1), (alice_at[1], a2)], length),
              "peer-bob": place([(bob_at[0], b1), (bob_at[1], b2)], length)}
    captioner = make()
    t0 = time.time()
    feed(captioner, tracks, t0, holes={"peer-bob": hole})
    assert captioner.wait_idle(15)
    finals = captions.wait_finals(4)
    assert len(finals) == 4, [(c.speaker, c.text) for c in captions.items]
    for speaker, said, starts, spoken in (
            ("peer-alice", ALICE, alice_at, [a1, a2]), ("peer-bob", BOB, bob_at, [b1, b2])):
        mine = captions.finals(speaker)
        assert len(mine) == 2, [c.text for c in mine]
        for caption, (_, text), at, clip in zip(mine, said, starts, spoken, strict=True):
            assert wer(text, caption.text) <= MAX_WER, (text, caption.text)
            begins, ends = speech_bounds(clip)
            assert caption.started_at == pytest.approx(t0 + at + begins, abs=0.2)
            assert caption.ended_at == pytest.approx(t0 + at + ends, abs=0.2)
    assert len({c.utterance_id for c in finals}) == 4
    assert captioner.stats["finals"] == 4


def test_interims_come_before_the_final_and_share_its_utterance_id(make, captions, clips):
    said = ALICE[0][1]
    track = place([(0.3, clips[said])], 0.3 + secs(clips[said]) + 0.8)
    captioner = make(interim_secs=1.0)
    t0 = time.time()
    feed(captioner, {"peer-alice": track}, t0, realtime=True)
    finals = captions.wait_finals(1, timeout=5)
    assert len(finals) == 1
    final = finals[0]
    interims = [c for c in captions.items if c.is_partial]
    assert len(interims) >= 2, captions.items  # a 4 s sentence: one a second or so
    assert captions.items[-1] is final  # every interim came first
    assert all(c.utterance_id == final.utterance_id and c.ended_at is None
               and c.text and c.started_at == final.started_at for c in interims)
    assert [c.emitted_at for c in captions.items] == sorted(c.emitted_at for c in captions.items)
    assert interims[-1].text.split()[:2] == final.text.split()[:2]  # the same sentence
    assert wer(said, final.text) <= MAX_WER
    # In real time the final follows the end of speech closely: endpoint 0.5 s + decode.
    assert final.emitted_at - (t0 + 0.3 + speech_bounds(clips[said])[1]) < 1.5


def test_silence_and_low_noise_give_no_caption(make, captions):
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(3 * SAMPLE_RATE) * 0.01).astype(np.float32)
    hum = (0.05 * np.sin(2 * np.pi * 100 * np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE)
           ).astype(np.float32)
    click = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    click[4000:4400] = 0.6
    captioner = make()
    feed(captioner, {"quiet": np.concatenate([silence(3), noise, hum, click, silence(1)])},
         time.time())
    assert captioner.wait_idle(10)
    assert captions.items == []
    assert captioner.stats["finals"] == 0 and captioner.stats["interims"] == 0


def test_a_long_monologue_is_cut_into_finals(make, captions, clips):
    a1, a2 = (clips[t] for _, t in ALICE)
    track = np.concatenate([silence(0.3), a1, a2, silence(1.0)])  # ~8 s, no pause
    captioner = make(max_utterance_secs=5.0)
    feed(captioner, {"talker": track}, time.time())
    assert captioner.wait_idle(10)
    finals = captions.finals()
    assert len(finals) >= 2, [c.text for c in finals]
    assert all(c.ended_at - c.started_at <= 5.1 for c in finals)
    both = " ".join(t for _, t in ALICE)
    assert wer(both, " ".join(c.text for c in finals)) <= 0.35, [c.text for c in finals]


def test_end_speaker_finalizes_an_open_utterance(make, captions, clips):
    said = BOB[0][1]
    track = np.concatenate([silence(0.3), clips[said], silence(0.1)])  # no endpoint
    captioner = make()
    feed(captioner, {"peer-bob": track}, time.time())
    assert captioner.wait_idle(10)
    assert captions.finals() == []  # still open: no silence to end it yet
    ended = time.monotonic()
    captioner.end_speaker("peer-bob")
    finals = captions.wait_finals(1, timeout=5)
    assert len(finals) == 1 and wer(said, finals[0].text) <= MAX_WER
    assert time.monotonic() - ended < 1.0  # at once, not after the stalled-audio timeout
    # The same key again is a new speaker state and a new utterance.
    feed(captioner, {"peer-bob": np.concatenate([track, silence(0.8)])}, time.time())
    finals = captions.wait_finals(2, timeout=5)
    assert len(finals) == 2 and finals[1].utterance_id != finals[0].utterance_id


@pytest.mark.parametrize("stamped_by", ["rtp", "arrival"])
def test_a_delivery_stall_mid_sentence_does_not_end_it(make, captions, clips, stamped_by):
    """The transcriber stamps a voice's packets on their RTP clock (VoiceClock): packets
    held back 0.8 s mid-sentence and then delivered at once (a busy machine, a jittery
    link) are one sentence. Stamped by their arrival, the same packets look like a
    pause longer than the endpoint and the sentence is cut in two."""
    said = ALICE[0][1]
    track = np.concatenate([silence(0.3), clips[said], silence(0.8)])
    stall_from = round((0.3 + secs(clips[said]) / 2) * SAMPLE_RATE) // CHUNK
    clock, t0 = VoiceClock(), time.time()
    captioner = make()
    for n, i in enumerate(range(0, track.size, CHUNK)):
        # the 40 packets (0.8 s) from stall_from on arrive together when the stall ends
        arrived = t0 + max(n, stall_from + 40 if n >= stall_from else 0) * 0.02
        at = clock.at(n * 960, arrived) if stamped_by == "rtp" else arrived - 0.02
        captioner.feed("peer-alice", track[i:i + CHUNK], at=at)
    assert captioner.wait_idle(15)
    finals = captions.finals()
    if stamped_by == "rtp":
        assert len(finals) == 1 and wer(said, finals[0].text) <= MAX_WER, finals
    else:
        assert len(finals) == 2, finals


def test_close_stops_the_worker_and_no_caption_follows(make, captions, clips):
    said = ALICE[1][1]
    captioner = make()
    track = np.concatenate([silence(0.3), clips[said], silence(0.8)])
    feed(captioner, {"a": track, "b": track}, time.time())  # two finals to make
    captioner.close()
    count = len(captions.items)
    assert not captioner._thread.is_alive()
    captioner.feed("a", track[:CHUNK])  # ignored, no error
    captioner.end_speaker("a")
    time.sleep(0.3)
    assert len(captions.items) == count


def test_an_unsupported_language_or_a_bad_setting_fails_at_construction(recognizer, captions):
    threads = threading.active_count()
    with pytest.raises(UnsupportedLanguage, match="English-only"):
        LiveCaptioner(recognizer, captions, language="de")
    with pytest.raises(UnsupportedLanguage, match="unknown transcription language"):
        LiveCaptioner(recognizer, captions, language="xx")
    with pytest.raises(ValueError, match="interim_secs must be positive"):
        LiveCaptioner(recognizer, captions, interim_secs=0)
    assert threading.active_count() == threads  # no worker was started


def test_keywords_and_the_profanity_filter_reach_the_recognizer(make, captions):
    named = "Please send the slides to Zorblatt before Friday."
    sworn = "Oh shit, I forgot to bring the report."
    track = place([(0.3, say(named, "en-gb")), (4.5, say(sworn, "en-us"))], 8.0)
    captioner = make(keywords=["Zorblatt"], profanity_filter=True)
    feed(captioner, {"p": track}, time.time())
    assert captioner.wait_idle(10)
    finals = captions.wait_finals(2)
    assert len(finals) == 2, [c.text for c in finals]
    assert "Zorblatt" in finals[0].text
    assert "shit" not in finals[1].text.lower() and "s***" in finals[1].text


# --- load --------------------------------------------------------------------------


def test_feed_returns_at_once(make, captions, clips):
    """10 s of audio in 20 ms chunks, while the worker recognizes: feed() only queues."""
    track = place([(0.2, clips[ALICE[0][1]]), (5.0, clips[BOB[0][1]])], 10.0)
    captioner = make()
    t0 = time.time()
    slowest = 0.0
    start = time.perf_counter()
    for i in range(0, track.size, CHUNK):
        before = time.perf_counter()
        captioner.feed("p", track[i:i + CHUNK], at=t0 + i / SAMPLE_RATE)
        slowest = max(slowest, time.perf_counter() - before)
    took = time.perf_counter() - start
    assert took < 0.2, took
    assert slowest < 0.05, slowest
    assert captioner.wait_idle(10) and len(captions.finals()) == 2


class SlowRecognizer(Recognizer):
    """The real model on an overloaded box: every decode takes `delay` longer."""

    def __init__(self, real: Recognizer, delay: float) -> None:
        super().__init__(real.model_path, cpu_threads=real.cpu_threads)
        self._model = real.load()
        self.delay = delay

    def transcribe_clip(self, audio, **options):
        time.sleep(self.delay)
        return super().transcribe_clip(audio, **options)


def test_a_backlog_past_max_lag_drops_with_a_warning_and_never_blocks_feed(
        recognizer, make, captions, clips, caplog):
    caplog.set_level(logging.WARNING, logger="salon.ai.captions")
    texts = [t for _, t in ALICE + BOB]
    # Four speakers finish a sentence at the same moment; each decode takes 0.6 s more
    # than it should, and a caption may be 1 s late: the last ones are dropped.
    length = max(secs(clips[t]) for t in texts) + 1.0
    tracks = {f"peer-{i}": place([(length - 0.8 - secs(clips[t]), clips[t])], length)
              for i, t in enumerate(texts)}
    captioner = make(SlowRecognizer(recognizer, 0.6), max_lag_secs=1.0, interim_secs=30)
    start = time.perf_counter()
    feed(captioner, tracks, time.time())
    assert time.perf_counter() - start < 0.2  # the slow model never held feed() up
    assert captioner.wait_idle(15)
    stats = captioner.stats
    assert stats["dropped_utterances"] >= 1 and stats["dropped_secs"] > 1.0, stats
    assert stats["finals"] + stats["dropped_utterances"] == 4, stats
    assert 1 <= len(captions.finals()) <= 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == stats["dropped_utterances"], warnings
    dropped = {c.speaker for c in captions.finals()} ^ set(tracks)
    for speaker in dropped:
        assert any(f"speaker {speaker}:" in w and "max_lag_secs 1.0" in w
                   for w in warnings), warnings


# --- the streaming VAD ---------------------------------------------------------------


def test_the_streaming_vad_scores_as_faster_whispers_whole_file_pass(clips):
    from faster_whisper.vad import get_vad_model

    from salon.ai.vad import WINDOW, StreamingVad

    audio = place([(0.4, clips[ALICE[0][1]])], 5.0)
    audio = audio[: audio.size // WINDOW * WINDOW]
    whole = get_vad_model()(audio).reshape(-1)
    vad = StreamingVad()
    rng = np.random.default_rng(1)
    probs, i = [], 0
    while i < audio.size:
        n = int(rng.integers(1, 2000))
        probs.append(vad.push(audio[i:i + n]))
        i += n
    streamed = np.concatenate(probs)
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert whole.max() > 0.9 and whole[:5].max() < 0.2  # speech found, silence not


def test_transcribe_clip_keeps_only_what_was_in_the_clip(recognizer, clips):
    # Decoded without timestamps in a short window, Whisper (beam 5) said this sentence
    # twice, the second time "in the silence" after it.
    said = ALICE[0][1]
    clip = place([(0.2, clips[said])], 0.2 + secs(clips[said]) + 0.3)
    segments = recognizer.transcribe_clip(clip, beam_size=5)
    assert len(segments) == 1 and wer(said, segments[0].text) <= MAX_WER, segments
    assert segments[0].no_speech_prob < 0.5 and segments[0].avg_logprob > -1.0
    for quiet in (silence(2.0), np.zeros(0, dtype=np.float32)):
        assert all(s.no_speech_prob > 0.8 for s in recognizer.transcribe_clip(quiet))
    with pytest.raises(UnsupportedLanguage):
        recognizer.transcribe_clip(clip, language="de")


def test_text_placed_after_the_clip_is_dropped():
    from types import SimpleNamespace

    from salon.ai.recognizer import _tokens_before

    tok = SimpleNamespace(timestamp_begin=1000, eot=999)
    at = {0.0: 1000, 2.4: 1120, 4.0: 1200, 4.2: 1210, 5.0: 1250}
    tokens = [at[0.0], 1, 2, at[2.4], at[2.4], 3, at[4.0], at[4.2], 4, 5, at[5.0], 999]
    assert _tokens_before(tokens, tok, 4.1) == [1, 2, 3]
    assert _tokens_before(tokens, tok, 4.3) == [1, 2, 3, 4, 5]
    assert _tokens_before([at[0.0], 1, 2], tok, 4.1) == [1, 2]  # no closing timestamp


def test_a_model_that_does_not_load_turns_captions_off_once(captions, clips, tmp_path,
                                                            caplog):
    """A missing model directory (SALON_TRANSCRIPTION_MODEL): one error, no caption, and
    no traceback per step while people talk (it logged one every recognition step)."""
    missing = Recognizer(tmp_path / "no-model")
    with caplog.at_level(logging.WARNING, logger="salon"):
        captioner = LiveCaptioner(missing, captions)
        try:
            track = np.concatenate([silence(0.3), clips[ALICE[1][1]], silence(0.8)])
            feed(captioner, {"a": track, "b": track}, time.time())
            captioner.end_speaker("a")
            assert captioner.wait_idle(10)
            time.sleep(0.5)  # open streams: the worker keeps looking, quietly
        finally:
            captioner.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "live captions: the recognizer did not load; no captions for this meeting"]
    assert "model.bin missing" in str(errors[0].exc_info[1])
    assert captions.items == []
