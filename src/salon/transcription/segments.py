"""Reading a session's capture directory: which audio files there are, whose they are,
and where each sits on the session's clock.

The live transcriber writes (the contract between it and the post-meeting job):

    <capture_dir>/<any>.webm       Opus WebM, one contiguous stretch of one participant
    <capture_dir>/segments.jsonl   one JSON object per closed file:
        {"file", "participant_id", "peer_id", "custom_participant_id", "name",
         "started_at" (unix s of the first sample), "joined_at", "left_at" | null}

A line that is not such an object, or names a file that is not there, is skipped with
a warning: one lost file must not cost the rest of the transcript.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from salon.ai.posthoc import TrackAudio
from salon.transcription.capture import MANIFEST as INDEX

log = logging.getLogger("salon.transcription")

@dataclass(frozen=True)
class Capture:
    """The usable segment files of a session, and why the others were skipped."""

    tracks: tuple[TrackAudio, ...]
    skipped: tuple[str, ...] = field(default=())


def read_capture(capture_dir: Path, session_started_at: datetime) -> Capture:
    """Every segment file listed in `capture_dir/segments.jsonl` as a `TrackAudio` on the
    session's clock (offsets = unix times − the session's start). No index: nobody's
    audio was captured, an empty capture (not an error)."""
    index = capture_dir / INDEX
    if not index.is_file():
        return Capture(())
    start = session_started_at.timestamp()
    tracks: list[TrackAudio] = []
    skipped: list[str] = []
    for number, raw in enumerate(index.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            track = _track(capture_dir, json.loads(raw), start)
        except (ValueError, TypeError, KeyError) as error:
            skipped.append(f"{INDEX} line {number}: {error}")
            continue
        if not track.path.is_file():
            skipped.append(f"{INDEX} line {number}: {track.path.name} is missing")
            continue
        tracks.append(track)
    for reason in skipped:
        log.warning("capture %s: skipped %s", capture_dir, reason)
    return Capture(_left_when_last_says(tracks), tuple(skipped))


def _left_when_last_says(tracks: list[TrackAudio]) -> tuple[TrackAudio, ...]:
    """Every file of a peer says when the peer left, as its last file does: a file closed
    at a pause in the voice says nothing of it (captures written before that said the
    pause), and each of the peer's sentences carries its `leftAt`."""
    last: dict[str, TrackAudio] = {}
    for track in tracks:
        known = last.get(track.peer_id)
        if track.peer_id and (known is None
                              or track.audio_offset_secs >= known.audio_offset_secs):
            last[track.peer_id] = track
    return tuple(
        replace(track, left_offset_secs=last[track.peer_id].left_offset_secs)
        if track.peer_id else track for track in tracks)


def _track(capture_dir: Path, entry: Any, start: float) -> TrackAudio:
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    name = str(entry["file"])
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"bad file name {name!r}")  # never read outside the capture
    left_at = entry.get("left_at")
    joined_at = entry.get("joined_at")
    started_at = float(entry["started_at"])
    return TrackAudio(
        path=capture_dir / name,
        participant_id=str(entry["participant_id"]),
        peer_id=str(entry.get("peer_id") or ""),
        custom_participant_id=str(entry.get("custom_participant_id") or ""),
        name=str(entry.get("name") or ""),
        joined_offset_secs=(float(joined_at) if joined_at is not None else started_at) - start,
        left_offset_secs=float(left_at) - start if left_at is not None else None,
        audio_offset_secs=started_at - start,
    )
