"""Transcription with real speech and the real model (salon.ai, issue 14).

espeak-ng says known sentences in three voices; the bundled tiny.en model (loaded once
for the module) must give the words back, attribute a two-person session's sentences to
the right people in the right order on the session's clock, and the four RealtimeKit
files must parse back to the same sentences and times. No network is needed.
"""

import csv
import io
import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest

from salon.ai.languages import (
    REALTIMEKIT_TO_WHISPER,
    UnsupportedLanguage,
    check_language,
    whisper_language,
)
from salon.ai.posthoc import TrackAudio, TranscriptionOptions, transcribe_session
from salon.ai.profanity import mask_profanity
from salon.ai.recognizer import (
    SAMPLE_RATE,
    Recognizer,
    decode_audio,
    default_model_path,
    model_is_multilingual,
)
from salon.ai.transcript import Speaker, Transcript, merge, render
from salon.ai.wer import wer
from salon.settings import Settings
from tests.speech import place, say, write_opus_webm

MAX_WER = 0.15

SENTENCES = [
    ("en-us", "The quarterly budget review meeting will start after lunch."),
    ("en-gb", "Please send the slides to the design team before Friday."),
    ("en-us+f3", "We decided to move the product launch to next month."),
]


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    return [say(text, voice) for voice, text in SENTENCES]


def _text(segments) -> str:
    return " ".join(s.text for s in segments)


# --- the recognizer on real speech ------------------------------------------------------

@pytest.mark.parametrize("index", range(len(SENTENCES)), ids=[v for v, _ in SENTENCES])
def test_the_words_said_come_back(recognizer, speech, index):
    voice, said = SENTENCES[index]
    audio = speech[index]
    segments = recognizer.transcribe(audio, language="en-US")
    assert wer(said, _text(segments)) <= MAX_WER, (voice, _text(segments))
    duration = audio.size / SAMPLE_RATE
    words = [w for s in segments for w in s.words]
    assert len(words) >= len(said.split()) - 1  # word timestamps come with the text
    assert all(0 <= w.start <= w.end <= duration + 0.1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_an_opus_webm_track_is_decoded_and_its_silence_skipped(recognizer, speech, tmp_path):
    # A track recording: silence, the sentence at 3 s, silence to 9 s.
    path = write_opus_webm(place([(3.0, speech[0])], 9.0), tmp_path / "track.webm")
    audio = decode_audio(path)
    assert audio.dtype == np.float32 and abs(audio.size / SAMPLE_RATE - 9.0) < 0.1
    segments = recognizer.transcribe(path, language="en")
    assert wer(SENTENCES[0][1], _text(segments)) <= MAX_WER
    assert 2.5 <= segments[0].start <= 3.5, segments[0]  # on the file's own clock
    assert segments[-1].end <= 3.0 + speech[0].size / SAMPLE_RATE + 0.5


def test_keywords_bias_the_spelling_of_a_name(recognizer):
    said = "Please send the slides to Zorblatt before Friday."
    audio = say(said, "en-gb")
    plain = _text(recognizer.transcribe(audio))
    biased = _text(recognizer.transcribe(audio, keywords=["Zorblatt"]))
    assert "Zorblatt" not in plain  # tiny.en cannot spell the made-up name by itself...
    assert "Zorblatt" in biased  # ...but can with the keyword


def test_the_profanity_filter_masks_listed_words(recognizer):
    audio = say("Oh shit, I forgot to bring the report.", "en-us")
    plain = recognizer.transcribe(audio)
    masked = recognizer.transcribe(audio, profanity_filter=True)
    assert re.search(r"\bshit\b", _text(plain), re.IGNORECASE), _text(plain)
    assert not re.search(r"shit", _text(masked), re.IGNORECASE)
    assert re.search(r"\bs\*\*\*(?!\w)", _text(masked)), _text(masked)
    assert "shit" not in " ".join(w.text.lower() for s in masked for w in s.words)
    assert wer("oh s*** i forgot to bring the report", _text(masked)) <= MAX_WER


def test_mask_profanity_keeps_innocent_words():
    assert mask_profanity("Hello, Dickens scrapped the class") == "Hello, Dickens scrapped the class"
    assert mask_profanity("Damn it, bullshit and fucking shits") == "D*** it, b******* and f****** s****"


# --- languages --------------------------------------------------------------------------

def test_language_codes_map_to_whisper():
    assert whisper_language("en-US") == "en" and whisper_language("en-IN") == "en"
    assert {whisper_language(c) for c in REALTIMEKIT_TO_WHISPER} == {
        "en", "de", "hi", "sv", "ru", "pl", "el", "fr", "nl"}
    assert whisper_language("pt-BR") == "pt" and whisper_language("yue") == "yue"
    with pytest.raises(UnsupportedLanguage, match="unknown transcription language 'xx'"):
        whisper_language("xx")


def test_an_english_only_model_refuses_german_clearly(recognizer, speech, tmp_path):
    assert not recognizer.multilingual  # tiny.en
    with pytest.raises(UnsupportedLanguage) as error:
        recognizer.transcribe(speech[0], language="de")
    message = str(error.value)
    assert "'de'" in message and "English-only" in message
    assert "SALON_TRANSCRIPTION_MODEL" in message
    # The session pass refuses before it decodes anything (this file does not exist).
    with pytest.raises(UnsupportedLanguage):
        transcribe_session(
            [TrackAudio(tmp_path / "missing.webm", "u", "p", "c", "Ann")],
            TranscriptionOptions(language="fr"), recognizer=recognizer)


def test_multilingual_models_are_told_apart_without_loading(tmp_path):
    assert not model_is_multilingual(default_model_path())
    multi = tmp_path / "whisper-small"
    multi.mkdir()
    (multi / "vocabulary.txt").write_text("t\n" * 51865)
    assert model_is_multilingual(multi)
    assert check_language("de", multilingual=True, model=str(multi)) == "de"
    english = tmp_path / "whisper-base.en"
    english.mkdir()
    (english / "vocabulary.txt").write_text("t\n" * 51865)
    assert not model_is_multilingual(english)
    assert not Recognizer(english).multilingual


def test_the_model_path_setting_is_honoured(monkeypatch, tmp_path):
    monkeypatch.setenv("SALON_TRANSCRIPTION_MODEL", str(tmp_path))
    settings = Settings()
    assert settings.transcription_model == tmp_path
    rec = Recognizer(settings.transcription_model, cpu_threads=settings.transcription_threads)
    with pytest.raises(FileNotFoundError, match="SALON_TRANSCRIPTION_MODEL"):
        rec.load()  # no model there: a clear error, never a download
    monkeypatch.setenv("SALON_TRANSCRIPTION_MODEL", "")
    assert Settings().transcription_model is None
    assert Recognizer().model_path == default_model_path()


# --- a two-person session ---------------------------------------------------------------

STARTED = datetime(2026, 12, 5, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(recognizer, speech, tmp_path_factory):
    """Alice (en-us) joins at 0.5 s and speaks at 1.0 s and again after Bob; Bob (en-gb)
    joins at 2.0 s and speaks in between. Each has their own Opus WebM track."""
    tmp = tmp_path_factory.mktemp("session")
    gap = 1.0
    d = [clip.size / SAMPLE_RATE for clip in speech]
    says = [(1.0, "alice", 0), (1.0 + d[0] + gap, "bob", 1),
            (1.0 + d[0] + gap + d[1] + gap, "alice", 2)]
    joined = {"alice": 0.5, "bob": 2.0}
    end = says[-1][0] + d[2] + 1.0
    tracks = []
    for who, name in (("alice", "Alice"), ("bob", "Bob")):
        clips = [(at - joined[who], speech[i]) for at, w, i in says if w == who]
        path = write_opus_webm(place(clips, end - joined[who]), tmp / f"{who}.webm")
        tracks.append(TrackAudio(path, f"user-{who}", f"peer-{who}", f"cpi-{who}", name,
                                 joined[who], end if who == "bob" else None))
    transcript = transcribe_session(
        tracks, TranscriptionOptions(language="en-US", session_started_at=STARTED),
        recognizer=recognizer)
    return transcript, says


def test_a_session_transcript_attributes_each_sentence_in_order(session):
    transcript, says = session
    assert len(transcript.lines) == 3, transcript.lines
    for line, (at, who, index) in zip(transcript.lines, says, strict=True):
        assert line.speaker.user_id == f"user-{who}"
        assert line.speaker.peer_id == f"peer-{who}"
        assert wer(SENTENCES[index][1], line.text) <= MAX_WER, line.text
        assert abs(line.start_ms - at * 1000) <= 500, (line, at)  # join offset applied
        assert line.end_ms > line.start_ms
    assert [line.start_ms for line in transcript.lines] == sorted(
        line.start_ms for line in transcript.lines)


def _parse_cues(text: str, sep: str) -> list[tuple[int, int, str]]:
    stamp = rf"(\d\d):(\d\d):(\d\d){re.escape(sep)}(\d\d\d)"
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        if lines == ["WEBVTT"]:
            continue
        number, timing, *body = lines
        assert number.isdigit() and int(number) == len(cues) + 1
        m = re.fullmatch(stamp + " --> " + stamp, timing)
        assert m, timing
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, m.groups())
        cues.append(((h1 * 3600 + m1 * 60 + s1) * 1000 + ms1,
                     (h2 * 3600 + m2 * 60 + s2) * 1000 + ms2, "\n".join(body)))
    return cues


def test_the_four_formats_carry_the_same_sentences_and_times(session):
    transcript, _ = session
    expected = [(ln.start_ms, ln.end_ms, ln.speaker, ln.text) for ln in transcript.lines]

    rows = list(csv.reader(io.StringIO(render(transcript, "csv"))))
    assert render(transcript, "csv").startswith('"')  # every field quoted, no header
    assert rows == [[str(s), sp.peer_id, sp.user_id, sp.custom_participant_id, sp.name, t]
                    for s, _, sp, t in expected]

    items = json.loads(render(transcript, "json"))
    assert [(i["startTime"], i["endTime"], i["sentence"]) for i in items] == [
        (s, e, t) for s, e, _, t in expected]
    alice = items[0]["peerData"]
    assert alice == {"id": "peer-alice", "userId": "user-alice", "displayName": "Alice",
                     "cpi": "cpi-alice", "joinedAt": "2026-12-05T09:00:00.500Z",
                     "leftAt": ""}
    assert items[1]["peerData"]["joinedAt"] == "2026-12-05T09:00:02.000Z"
    assert items[1]["peerData"]["leftAt"].startswith("2026-12-05T09:00:")

    srt = render(transcript, "srt")
    assert srt.startswith("1\n00:00:0")
    vtt = render(transcript, "VTT")
    assert vtt.startswith("WEBVTT\n\n1\n")
    for cues in (_parse_cues(srt, ","), _parse_cues(vtt, ".")):
        assert cues == [(s, e, f"{sp.name}: {t}") for s, e, sp, t in expected]


def test_merge_is_pure_and_orders_by_the_session_clock():
    class Seg:
        def __init__(self, start, end, text):
            self.start, self.end, self.text = start, end, text

    a = Speaker("pa", "ua", "ca", "Ann", joined_offset_secs=10.0)
    b = Speaker("pb", "ub", "cb", "Ben", joined_offset_secs=0.0)
    t = merge([(a, [Seg(1.0, 2.0, "second"), Seg(5.0, 5.5, " ")]),
               (b, [Seg(3.0, 4.0, "first"), Seg(12.5, 13.0, "third --> x")])])
    assert [(ln.start_ms, ln.text) for ln in t.lines] == [
        (3000, "first"), (11000, "second"), (12500, "third --> x")]
    assert isinstance(t, Transcript) and t.session_started_at is None
    assert "Ben: third -> x" in render(t, "vtt")  # a cue can't contain its own arrow
    assert json.loads(render(t, "json"))[0]["peerData"]["joinedAt"] == ""
    with pytest.raises(ValueError, match="unknown transcript format"):
        render(t, "txt")  # type: ignore[arg-type]


def test_an_empty_track_gives_no_lines(recognizer, tmp_path):
    path = write_opus_webm(np.zeros(SAMPLE_RATE * 2, dtype=np.float32), tmp_path / "q.webm")
    assert recognizer.transcribe(path) == []
    assert recognizer.transcribe(np.zeros(0, dtype=np.float32)) == []


def test_a_whisper_segment_is_cut_into_sentences_and_at_long_pauses():
    from types import SimpleNamespace as W

    from salon.ai.recognizer import split_sentences

    words = [W(start=0.0, end=0.3, word=" Hi", probability=1.0),
             W(start=0.3, end=0.6, word=" Mr.", probability=1.0),
             W(start=0.6, end=1.0, word=" Smith.", probability=1.0),
             W(start=1.1, end=1.4, word=" Ready", probability=1.0),
             W(start=9.0, end=9.4, word=" Later", probability=1.0),
             W(start=9.4, end=9.8, word=" on?", probability=1.0)]
    seg = W(start=0.0, end=9.8, text=" Hi Mr. Smith. Ready Later on?", words=words)
    parts = split_sentences(seg)
    assert [(p.start, p.end, p.text) for p in parts] == [
        (0.0, 1.0, "Hi Mr. Smith."), (1.1, 1.4, "Ready"), (9.0, 9.8, "Later on?")]
    assert [w.text for w in parts[2].words] == ["Later", "on?"]
    assert split_sentences(W(start=1.0, end=2.0, text=" Whole ", words=None))[0].text == "Whole"
