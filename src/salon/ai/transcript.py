"""A session's transcript and RealtimeKit's four transcript files (CSV, JSON, SRT, VTT).

Pure: no I/O and no model. Each participant's audio is transcribed on its own (speaker
attribution without diarization), so every line already knows its speaker; `merge`
moves each participant's segments onto the session's clock (by when that participant's
audio starts after the session start) and sorts everything into one transcript.

The formats follow RealtimeKit's examples (shared reference recording-and-ai.md §3),
times in milliseconds from the session start:

* CSV, no header, every field quoted:
  `"1000","<peer_id>","<user_id>","<custom_participant_id>","Alice","Hello everyone"`
* JSON: `[{"startTime": 1000, "endTime": 2500, "sentence": "Hello everyone",
  "peerData": {"id", "userId", "displayName", "cpi", "joinedAt", "leftAt"}}]`
* SRT: `1\\n00:00:01,000 --> 00:00:02,500\\nAlice: Hello everyone\\n`
* VTT: the same cues after `WEBVTT`, with `.` before the milliseconds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

TranscriptFormat = Literal["csv", "json", "srt", "vtt"]
#: Content types of the rendered files.
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


class TimedText(Protocol):
    """What `merge` needs of a recognized segment (recognizer.Segment has it)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Speaker:
    """Who said a line, as RealtimeKit's files name them. `joined_offset_secs` and
    `left_offset_secs` are seconds after the session start (left: None while unknown).

    `audio_offset_secs`: where this speaker's audio file starts after the session start,
    when that is not their join time (a participant's audio captured in several files,
    one per stretch of speech); None: the audio starts when they joined.
    """

    peer_id: str
    user_id: str
    custom_participant_id: str
    name: str
    joined_offset_secs: float = 0.0
    left_offset_secs: float | None = None
    audio_offset_secs: float | None = None


@dataclass(frozen=True)
class Line:
    """One sentence on the session's clock (ms from the session start)."""

    start_ms: int
    end_ms: int
    text: str
    speaker: Speaker


@dataclass(frozen=True)
class Transcript:
    """A session's lines in time order. `session_started_at` (UTC) turns the speakers'
    offsets into the JSON format's `joinedAt` / `leftAt` times; without it they are ""."""

    lines: tuple[Line, ...]
    session_started_at: datetime | None = None

    @property
    def text(self) -> str:
        """Every line's text, in order, space-separated (for word error rates, summaries)."""
        return " ".join(line.text for line in self.lines)


def merge(
    tracks: Iterable[tuple[Speaker, Sequence[TimedText]]],
    *,
    session_started_at: datetime | None = None,
) -> Transcript:
    """One transcript from each speaker's segments (times relative to that speaker's own
    audio, which starts `speaker.audio_offset_secs`, else `speaker.joined_offset_secs`,
    after the session start).

    Sorted by start time; equal starts keep the order the speakers were given in, so the
    result is deterministic.
    """
    lines: list[Line] = []
    for speaker, segments in tracks:
        offset = (speaker.audio_offset_secs if speaker.audio_offset_secs is not None
                  else speaker.joined_offset_secs)
        for seg in segments:
            text = seg.text.strip()
            if not text:
                continue
            start_ms = round((offset + seg.start) * 1000)
            end_ms = max(start_ms, round((offset + seg.end) * 1000))
            lines.append(Line(start_ms, end_ms, text, speaker))
    lines.sort(key=lambda line: (line.start_ms, line.end_ms))
    return Transcript(tuple(lines), session_started_at)


def render(transcript: Transcript, fmt: TranscriptFormat) -> str:
    """The transcript as the file RealtimeKit serves for `?format=` (case-insensitive)."""
    renderers = {"csv": to_csv, "json": to_json, "srt": to_srt, "vtt": to_vtt}
    try:
        return renderers[fmt.lower()](transcript)
    except KeyError:
        raise ValueError(f"unknown transcript format {fmt!r}: csv, json, srt or vtt") from None


def to_csv(transcript: Transcript) -> str:
    """Rows `"start_ms","peer_id","user_id","custom_participant_id","name","text"`,
    no header, every field quoted (RealtimeKit's example)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for line in transcript.lines:
        s = line.speaker
        writer.writerow([line.start_ms, s.peer_id, s.user_id, s.custom_participant_id,
                         s.name, line.text])
    return out.getvalue()


def to_json(transcript: Transcript) -> str:
    """`[{startTime, endTime, sentence, peerData: {id, userId, displayName, cpi,
    joinedAt, leftAt}}]`; joinedAt / leftAt are ISO 8601 UTC times, "" when unknown
    (RealtimeKit's example has `leftAt: ""`)."""
    items = []
    for line in transcript.lines:
        s = line.speaker
        items.append({
            "startTime": line.start_ms,
            "endTime": line.end_ms,
            "sentence": line.text,
            "peerData": {
                "id": s.peer_id,
                "userId": s.user_id,
                "displayName": s.name,
                "cpi": s.custom_participant_id,
                "joinedAt": _at(transcript.session_started_at, s.joined_offset_secs),
                "leftAt": _at(transcript.session_started_at, s.left_offset_secs),
            },
        })
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def to_srt(transcript: Transcript) -> str:
    """SubRip cues numbered from 1, `Name: text`, a blank line after each."""
    return "".join(
        f"{i}\n{_stamp(line.start_ms, ',')} --> {_stamp(line.end_ms, ',')}\n"
        f"{_cue_text(line)}\n\n"
        for i, line in enumerate(transcript.lines, 1))


def to_vtt(transcript: Transcript) -> str:
    """WebVTT: `WEBVTT`, then the SRT cues (numbered identifiers, `.` milliseconds)."""
    cues = "".join(
        f"{i}\n{_stamp(line.start_ms, '.')} --> {_stamp(line.end_ms, '.')}\n"
        f"{_cue_text(line)}\n\n"
        for i, line in enumerate(transcript.lines, 1))
    return "WEBVTT\n\n" + cues


def _cue_text(line: Line) -> str:
    # A cue ends at a blank line, and "-->" would start a new timing line in VTT.
    text = " ".join(line.text.split()).replace("-->", "->")
    name = " ".join(line.speaker.name.split())
    return f"{name}: {text}" if name else text


def _stamp(ms: int, sep: str) -> str:
    ms = max(0, ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def _at(start: datetime | None, offset_secs: float | None) -> str:
    if start is None or offset_secs is None:
        return ""
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    at = (start + timedelta(seconds=offset_secs)).astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
