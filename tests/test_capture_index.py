"""The capture directory's index (`salon.transcription.segments`): each listed file on
the session's clock, and every bad line skipped with its reason, none read outside the
directory."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from salon.transcription.segments import read_capture

START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
T0 = START.timestamp()


def _index(directory: Path, *lines: object) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "segments.jsonl").write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
        + "\n", encoding="utf-8")


def test_files_sit_on_the_session_clock(tmp_path: Path) -> None:
    (tmp_path / "a-1.webm").write_bytes(b"x")
    (tmp_path / "a-2.webm").write_bytes(b"x")
    _index(tmp_path,
           {"file": "a-1.webm", "participant_id": "u1", "peer_id": "p1",
            "custom_participant_id": "ada", "name": "Ada", "started_at": T0 + 2.5,
            "joined_at": T0 + 1.0, "left_at": None},
           "",
           {"file": "a-2.webm", "participant_id": "u1", "peer_id": "p2",
            "custom_participant_id": "ada", "name": "Ada", "started_at": T0 + 40.0,
            "joined_at": T0 + 35.0, "left_at": T0 + 60.0})
    capture = read_capture(tmp_path, START)
    assert capture.skipped == ()
    first, second = capture.tracks
    assert (first.audio_offset_secs, first.joined_offset_secs, first.left_offset_secs) == (
        2.5, 1.0, None)
    assert (second.peer_id, second.audio_offset_secs, second.left_offset_secs) == (
        "p2", 40.0, 60.0)
    assert first.speaker().audio_offset_secs == 2.5


def test_bad_lines_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "ok.webm").write_bytes(b"x")
    outside = tmp_path.parent / "secret.webm"
    outside.write_bytes(b"x")
    good = {"file": "ok.webm", "participant_id": "u1", "started_at": T0}
    _index(tmp_path, "not json", [1, 2], {"file": "ok.webm"},
           {**good, "file": "../secret.webm"}, {**good, "file": "gone.webm"},
           {**good, "started_at": "soon"}, good)
    capture = read_capture(tmp_path, START)
    assert [track.path.name for track in capture.tracks] == ["ok.webm"]
    assert len(capture.skipped) == 6
    assert "line 5: gone.webm is missing" in capture.skipped[4]
    assert "bad file name" in capture.skipped[3]


def test_no_index_is_an_empty_capture(tmp_path: Path) -> None:
    assert read_capture(tmp_path, START).tracks == ()


def test_a_close_by_the_ending_session_is_no_transcriber_failure() -> None:
    """The meeting ending while the transcriber sends a request (seen in CI: 4005 under
    `media.subscribe`) is the end of its work, not an error with a traceback."""
    from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
    from websockets.frames import Close

    from salon.transcription.listener import closed_by_the_session

    ended = Close(4005, "meeting ended")
    assert closed_by_the_session(ConnectionClosedError(ended, ended, True))  # received, then sent
    assert closed_by_the_session(ConnectionClosedOK(Close(1000, ""), Close(1000, ""), True))
    assert not closed_by_the_session(ConnectionClosedError(Close(1011, "internal error"), None))
    assert not closed_by_the_session(ConnectionClosedError(None, None))  # the line simply dropped
    assert not closed_by_the_session(RuntimeError("boom"))


def test_a_transcriber_that_failed_before_capturing_is_a_failed_transcript(
        tmp_path: Path) -> None:
    """No index and an error in `complete.json`: FAILED with that error, not a meeting
    where nobody spoke (READY, zero lines). No error, or an index: the usual outcome."""
    from salon.transcription.capture import mark_complete
    from salon.transcription.worker import (
        TranscriptionFailed,
        WorkRequest,
        failed_without_capture,
        transcribe_capture,
    )

    mark_complete(tmp_path, "s1", "RealtimeError: FORBIDDEN: not a bot")
    assert failed_without_capture(tmp_path) == "RealtimeError: FORBIDDEN: not a bot"
    request = WorkRequest(capture_dir=tmp_path, out_dir=tmp_path / "out",
                          session_started_at=START)
    with pytest.raises(TranscriptionFailed, match="failed before it captured anything: "
                                                  "RealtimeError: FORBIDDEN"):
        transcribe_capture(request)
    mark_complete(tmp_path, "s1", None)
    assert failed_without_capture(tmp_path) is None
    mark_complete(tmp_path, "s1", "late failure")
    _index(tmp_path, {"file": "a.webm", "participant_id": "u1", "started_at": T0})
    assert failed_without_capture(tmp_path) is None  # what it captured is transcribed
