"""Each participant's voice, kept for the post-meeting transcript.

The transcriber copies every peer's Opus packets into WebM files as they arrive (no
decode, no encode: the track recording's `OpusTrackFile`), each file at most about ten
minutes long (`MAX_FILE_SECS`). Whisper then transcribes
each file on its own, and the job places what it heard on the session's clock by the
file's wall-clock start. So a file must hold one contiguous stretch of audio: when a
voice pauses for longer than `MAX_GAP_SECS` (muted, a dropped connection, DTX silence),
the file is closed and the next packet starts a new one, rather than the gap being
squeezed out as a track recording does.

The directory is the contract with the post-meeting job (salon.transcription.jobs):

    <capture_dir>/<file>.webm     one stretch of one participant's audio
    <capture_dir>/segments.jsonl  a line per closed file: {file, participant_id, peer_id,
                                  custom_participant_id, name, started_at, joined_at,
                                  left_at} (unix seconds)
    <capture_dir>/complete.json   written last: the transcriber finished

Several transcribers may capture one session into one directory, one after another (one
started again after a failure, or on the node that carries a session on after a
failover): each names its files with a tag of its own (`run`), and the index is only
ever appended to, so none overwrites what another kept and the job reads them all.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from salon.recording.tracks import OPUS_RATE, OpusTrackFile

#: A pause in a voice longer than this starts a new file (on the RTP clock or the wall
#: clock, whichever shows it: a publisher's RTP clock may or may not run through a mute).
MAX_GAP_SECS = 2.0
#: A file is closed once it holds this much audio, at its next quiet packet (Opus DTX
#: and comfort noise are a few bytes: `QUIET_PACKET_BYTES`), or `QUIET_WAIT_SECS` later
#: whatever the packet. With DTX a voice never pauses long enough to close its file,
#: and one file of a whole meeting would be decoded whole by the post-meeting job (an
#: hour of one voice is ~230 MB of samples) and lost whole with a killed transcriber.
MAX_FILE_SECS = 600.0
QUIET_WAIT_SECS = 60.0
QUIET_PACKET_BYTES = 10
MANIFEST = "segments.jsonl"
COMPLETE = "complete.json"


def capture_root(data_dir: Path) -> Path:
    """Where transcribers capture, a directory per session (`capture_dir`)."""
    return data_dir / "transcription" / "work"


def capture_dir(data_dir: Path, session_id: str) -> Path:
    return capture_root(data_dir) / session_id


def is_captured_file(path: Path) -> bool:
    """Whether `path` is one the transcriber writes in a capture directory: a voice file
    (or one a killed transcriber left unfinished), the index, the completion mark."""
    return path.name in (MANIFEST, COMPLETE) or path.name.endswith((".webm", ".webm.part"))


@dataclass(frozen=True)
class Speaker:
    """Who a voice belongs to, as the room announced them."""

    participant_id: str
    peer_id: str
    custom_participant_id: str
    name: str
    #: Unix seconds the peer joined the session.
    joined_at: float


class CapturedVoice:
    """One peer's audio track, as a series of contiguous Opus WebM files."""

    def __init__(self, directory: Path, speaker: Speaker, run: str = "",
                 max_file_secs: float = MAX_FILE_SECS,
                 quiet_wait_secs: float = QUIET_WAIT_SECS) -> None:
        self.directory = directory
        self.max_file_secs = max_file_secs
        self.quiet_wait_secs = quiet_wait_secs
        self.speaker = speaker
        #: The capturing transcriber's tag, in each file's name (see the module).
        self.run = run
        self.files = 0
        self._file: OpusTrackFile | None = None
        self._started_at = 0.0
        self._last_rtp = 0
        self._last_arrival = 0.0

    def write(self, packet: av.Packet, arrived: float | None = None) -> None:
        """One forwarded Opus packet (RTP timestamp in `pts`), `arrived` in unix seconds."""
        arrived = time.time() if arrived is None else arrived
        rtp = int(packet.pts or 0)
        if self._file is not None:
            step = (rtp - self._last_rtp) & 0xFFFFFFFF
            if (arrived - self._last_arrival > MAX_GAP_SECS
                    or MAX_GAP_SECS * OPUS_RATE < step < 0x80000000):
                self._close_file(None)  # a pause: the peer has not left
            elif self._long_enough(arrived, packet.size):
                self._close_file(None)  # this packet starts the next stretch
        if self._file is None:
            self._file = OpusTrackFile(self.directory, "voice", self.speaker.participant_id,
                                       f"{self.speaker.peer_id}-{self.run}{self.files}")
            # The packet's first sample was captured about one frame before it arrived.
            self._started_at = arrived - 0.02
            self.files += 1
        self._file.write(packet, 0)
        self._last_rtp, self._last_arrival = rtp, arrived

    def _long_enough(self, arrived: float, size: int) -> bool:
        held = arrived - self._started_at
        return held >= self.max_file_secs and (
            size <= QUIET_PACKET_BYTES or held >= self.max_file_secs + self.quiet_wait_secs)

    def close(self, left_at: float | None = None) -> None:
        """The voice ended (the peer left, the session ended): keep the open file."""
        self._close_file(left_at)

    def _close_file(self, left_at: float | None) -> None:
        if self._file is None:
            return
        done = self._file.close()
        self._file = None
        if done is None:
            return
        s = self.speaker
        line: dict[str, Any] = {
            "file": done.path.name, "participant_id": s.participant_id,
            "peer_id": s.peer_id, "custom_participant_id": s.custom_participant_id,
            "name": s.name, "started_at": round(self._started_at, 3),
            "joined_at": round(s.joined_at, 3),
            "left_at": round(left_at, 3) if left_at is not None else None}
        with (self.directory / MANIFEST).open("a", encoding="utf-8") as manifest:
            manifest.write(json.dumps(line) + "\n")


def mark_complete(directory: Path, session_id: str, error: str | None = None) -> None:
    """The transcriber is done with `directory`: every file in the manifest is final."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / COMPLETE).write_text(json.dumps(
        {"session_id": session_id, "finished_at": round(time.time(), 3), "error": error}))
