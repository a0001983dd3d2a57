"""The post-meeting transcript: every participant's track recording, one at a time.

RealtimeKit transcribes "each participant's audio separately" for speaker attribution;
so does salon, from the track recordings (one Opus WebM per participant, docs/
recording.md). `transcribe_session` is blocking and CPU-bound: the session-end job runs
it in a worker process (a `concurrent.futures.ProcessPoolExecutor` or the recorder's
process), never on the server's event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from salon.ai.recognizer import Recognizer, Segment
from salon.ai.transcript import Speaker, Transcript, merge


@dataclass(frozen=True)
class TrackAudio:
    """One participant's audio file and where it sits on the session's clock.

    `joined_offset_secs`: seconds from the session start to the first sample of `path`
    (the track recording starts when the participant's audio does);
    `left_offset_secs`: when they left, None if unknown. `participant_id` is
    RealtimeKit's user id (`userId`). `audio_offset_secs`: where `path` starts when that
    is not the join time (one participant's audio in several files, as the live
    transcriber writes it); `joined_offset_secs` is then the peer's join time, which
    the JSON format shows as `joinedAt`.
    """

    path: Path
    participant_id: str
    peer_id: str
    custom_participant_id: str
    name: str
    joined_offset_secs: float = 0.0
    left_offset_secs: float | None = None
    audio_offset_secs: float | None = None

    def speaker(self) -> Speaker:
        return Speaker(
            peer_id=self.peer_id, user_id=self.participant_id,
            custom_participant_id=self.custom_participant_id, name=self.name,
            joined_offset_secs=self.joined_offset_secs,
            left_offset_secs=self.left_offset_secs,
            audio_offset_secs=self.audio_offset_secs)


@dataclass(frozen=True)
class TranscriptionOptions:
    """`ai_config.transcription` plus what the job knows about the session."""

    language: str = "en-US"
    keywords: tuple[str, ...] = ()
    profanity_filter: bool = False
    session_started_at: datetime | None = None
    #: The model directory (settings' `transcription_model`); None: the bundled tiny.en.
    model_path: Path | None = None
    #: CTranslate2's threads (settings' `transcription_threads`).
    cpu_threads: int = 2


def transcribe_session(
    tracks: Sequence[TrackAudio],
    options: TranscriptionOptions,
    *,
    recognizer: Recognizer | None = None,
) -> Transcript:
    """The merged transcript of a session's participant tracks.

    The language is checked before any audio is decoded, so an unsupported one fails
    at once (`UnsupportedLanguage`). Pass `recognizer` to reuse a loaded model across
    sessions in a long-lived worker.
    """
    rec = recognizer or Recognizer(options.model_path, cpu_threads=options.cpu_threads)
    rec.check_language(options.language)
    per_track: list[tuple[Speaker, list[Segment]]] = []
    for track in tracks:
        segments = rec.transcribe(
            track.path, language=options.language, keywords=options.keywords,
            profanity_filter=options.profanity_filter)
        per_track.append((track.speaker(), segments))
    return merge(per_track, session_started_at=options.session_started_at)
