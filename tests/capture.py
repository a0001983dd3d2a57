"""A live transcriber's capture directory, made from espeak-ng speech, for the
post-meeting tests: the contract `salon.transcription.segments` reads.

    <dir>/<peer>-<n>.webm    Opus WebM, one stretch of one participant's audio
    <dir>/segments.jsonl     one line per file: participant_id, peer_id,
                             custom_participant_id, name, started_at, joined_at, left_at
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.speech import say, silence, write_opus_webm

#: Silence around each clip, as a real capture has some before and after the words.
PAD_SECS = 0.3


@dataclass(frozen=True)
class Said:
    """One stretch of speech: who said it, in which espeak voice, `at` seconds after
    the session start (the first word)."""

    participant_id: str
    peer_id: str
    custom_participant_id: str
    name: str
    voice: str
    text: str
    at: float
    joined_at: float = 0.0
    left_at: float | None = None


@functools.lru_cache(maxsize=32)
def _speech(text: str, voice: str) -> np.ndarray:
    return say(text, voice)


def write_capture(directory: Path, session_started_at: float, said: list[Said], *,
                  missing: tuple[str, ...] = ()) -> Path:
    """Write one WebM per `Said` and the index; `missing` adds index lines for files
    that are not there (the job skips them with a warning)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, part in enumerate(said):
        clip = np.concatenate([silence(PAD_SECS), _speech(part.text, part.voice),
                               silence(PAD_SECS)])
        name = f"{part.peer_id}-{number}.webm"
        write_opus_webm(clip, directory / name)
        lines.append({
            "file": name, "participant_id": part.participant_id, "peer_id": part.peer_id,
            "custom_participant_id": part.custom_participant_id, "name": part.name,
            "started_at": session_started_at + part.at - PAD_SECS,
            "joined_at": session_started_at + part.joined_at,
            "left_at": None if part.left_at is None else session_started_at + part.left_at,
        })
    for name in missing:
        lines.append({"file": name, "participant_id": "ghost", "peer_id": "ghost-peer",
                      "custom_participant_id": "", "name": "Ghost",
                      "started_at": session_started_at, "joined_at": session_started_at,
                      "left_at": None})
    (directory / "segments.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return directory
