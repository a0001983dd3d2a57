"""The transcription itself, in a worker process: decode each captured file, run
Whisper on it, merge, and write RealtimeKit's four files.

Whisper is CPU-bound for seconds to minutes, so `transcribe_capture` never runs on the
server's event loop: `salon.transcription.jobs` hands it to a spawned worker process
(`concurrent.futures.ProcessPoolExecutor`), and everything in and out of it pickles.
The loaded model is kept per worker process, so a long-lived worker loads it once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from salon.ai.languages import UnsupportedLanguage
from salon.ai.posthoc import TranscriptionOptions, transcribe_session
from salon.ai.recognizer import Recognizer
from salon.ai.transcript import render
from salon.transcription.capture import COMPLETE, MANIFEST
from salon.transcription.segments import read_capture

#: The files of every transcript, by the `format` RealtimeKit's GET takes (lowercased).
FORMATS = ("csv", "json", "srt", "vtt")

_recognizers: dict[tuple[str, int], Recognizer] = {}


class TranscriptionFailed(Exception):
    """Why a transcript could not be made, in words for the API's callers (the
    transcript's `error`, and the 404 of GET …/transcript)."""


@dataclass(frozen=True)
class WorkRequest:
    """One session's job, as sent to the worker process."""

    capture_dir: Path
    #: Where the four files are written (then moved into storage by the parent).
    out_dir: Path
    session_started_at: datetime
    language: str = "en-US"
    keywords: tuple[str, ...] = ()
    profanity_filter: bool = False
    model_path: Path | None = None
    cpu_threads: int = 2


@dataclass(frozen=True)
class WorkResult:
    #: Format (`csv`, `json`, `srt`, `vtt`) → the file written.
    files: dict[str, Path]
    line_count: int
    #: Segment files transcribed, and those skipped (with the reason).
    tracks: int
    skipped: tuple[str, ...]


def transcribe_capture(request: WorkRequest) -> WorkResult:
    """The worker's entry point. Raises `TranscriptionFailed` (and nothing else) with a
    message fit for the API: an unsupported language, a missing capture directory, a
    file the decoder cannot read."""
    try:
        return _transcribe(request)
    except UnsupportedLanguage as error:
        raise TranscriptionFailed(str(error)) from None
    except TranscriptionFailed:
        raise
    except Exception as error:  # noqa: BLE001 - the parent stores the reason
        raise TranscriptionFailed(f"{type(error).__name__}: {error}") from None


def _transcribe(request: WorkRequest) -> WorkResult:
    if not request.capture_dir.is_dir():
        raise TranscriptionFailed(
            f"no captured audio: the capture directory {request.capture_dir} is missing")
    failed = failed_without_capture(request.capture_dir)
    if failed is not None:
        raise TranscriptionFailed(f"the transcriber failed before it captured anything: "
                                  f"{failed}")
    capture = read_capture(request.capture_dir, request.session_started_at)
    options = TranscriptionOptions(
        language=request.language, keywords=request.keywords,
        profanity_filter=request.profanity_filter,
        session_started_at=request.session_started_at, model_path=request.model_path,
        cpu_threads=request.cpu_threads)
    transcript = transcribe_session(capture.tracks, options,
                                    recognizer=_recognizer(request.model_path,
                                                           request.cpu_threads))
    request.out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in FORMATS:
        path = request.out_dir / f"transcript.{fmt}"
        path.write_text(render(transcript, fmt), encoding="utf-8")  # type: ignore[arg-type]
        files[fmt] = path
    return WorkResult(files, len(transcript.lines), len(capture.tracks), capture.skipped)


def failed_without_capture(capture_dir: Path) -> str | None:
    """The transcriber's error, when it ended with one and captured nothing (no index):
    a failure, not a meeting where nobody spoke."""
    if (capture_dir / MANIFEST).exists():
        return None
    try:
        mark = json.loads((capture_dir / COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    error = mark.get("error") if isinstance(mark, dict) else None
    return str(error) if error else None


def _recognizer(model_path: Path | None, cpu_threads: int) -> Recognizer:
    key = (str(model_path or ""), cpu_threads)
    if key not in _recognizers:
        _recognizers[key] = Recognizer(model_path, cpu_threads=cpu_threads)
    return _recognizers[key]
