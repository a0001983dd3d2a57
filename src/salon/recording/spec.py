"""What the control plane asks the recorder for, how it steers it, and what comes back.

The control plane builds a `RecordingSpec` (the meeting to join, as a hidden recorder
participant, and the outputs wanted), starts `salon.recording.engine.run_recording(spec,
control)` in a recorder process, steers it through `RecordingControl` (pause, resume,
stop) and receives a `RecordingOutcome` when it ends. Everything here is plain data that
pickles, so it crosses a process boundary.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

RecordingKind = Literal["composite", "track"]
StopReason = Literal["API_CALL", "INTERNAL_ERROR", "ALL_PEERS_LEFT", "MAX_SECONDS"]


@dataclass(frozen=True)
class VideoSpec:
    #: "H264" → MP4 (H.264 + AAC); "VP8" or "VP9" → WebM (with Opus).
    codec: Literal["H264", "VP8", "VP9"] = "H264"
    width: int = 1280
    height: int = 720
    fps: int = 30
    #: A watermark image (PNG/JPEG path or http(s) URL already fetched to a path).
    watermark_path: Path | None = None
    watermark_position: Literal["left top", "right top", "left bottom",
                                "right bottom"] = "left top"
    watermark_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class AudioSpec:
    #: The codec of the separate audio file (`export_file`); the composite's own audio
    #: track is AAC in MP4, Vorbis or Opus in WebM.
    codec: Literal["AAC", "MP3"] = "AAC"
    channel: Literal["mono", "stereo"] = "stereo"
    export_file: bool = False


@dataclass(frozen=True)
class LiveSpec:
    """Live outputs of the composite (livestreaming, `salon.livestream`): the same
    encoded packets also go to an HLS playlist and to RTMP servers; nothing is encoded
    twice. Without `keep_file` the composite file itself is not written."""

    #: Where the HLS playlist (`index.m3u8`) and its segments are written; None: no HLS.
    hls_dir: Path | None = None
    #: Seconds per HLS segment (a keyframe starts each; the encoder's GOP follows it).
    hls_time: int = 1
    #: Segments listed in the sliding playlist.
    hls_list_size: int = 6
    #: `rtmp://` or `rtmps://` URLs to push the stream to (FLV).
    rtmp_urls: tuple[str, ...] = ()
    #: Lower qualities for viewers (heights, `livestream_viewer_qualities`), each encoded
    #: again from the composed frames under a master playlist.
    qualities: tuple[int, ...] = ()
    keep_file: bool = False
    #: The number of the playlist's first segment: 0 for a new livestream session; past
    #: every number an earlier encoder of the same session can have used when this one
    #: takes it over, so that viewers' players see the playlist go on (after a
    #: discontinuity) rather than start again.
    first_segment: int = 0
    #: What segment names start with (`livestream.outputs.segment_prefix`: the
    #: session's), "" for plain `seg_NNNNN.ts`.
    segment_prefix: str = ""


@dataclass(frozen=True)
class InteractiveSpec:
    """An interactive recording (`salon.recording.interactive`): the composite as HLS
    segments with a timed-metadata stream, packed into `{file_name}.tar` in place of the
    MP4; each `ID3Data` broadcast the recorder receives becomes a tag on its timeline."""

    #: Seconds per HLS segment (RealtimeKit's default, 10; a multiple of the 2 s GOP).
    segment_secs: int = 10


@dataclass(frozen=True)
class RecordingSpec:
    recording_id: str
    kind: RecordingKind
    #: The realtime gateway to join (`ws://127.0.0.1:8787/realtime/v1`).
    gateway_url: str
    #: A participant token of the recorder: a hidden participant whose preset has
    #: `is_recorder`, `hidden_participant` and `recorder_type: "RECORDER"`.
    token: str
    #: Where the outputs are written (the recorder creates the files).
    output_dir: Path
    #: The output file name without extension (`weekly-sync_2026-12-05T10-00-00Z`).
    file_name: str
    video: VideoSpec = VideoSpec()
    audio: AudioSpec = AudioSpec()
    #: Stop by itself after this many recorded seconds (pauses not counted).
    max_seconds: int = 86400
    #: Track recordings: the participant ids whose audio to record; None records all.
    user_ids: tuple[str, ...] | None = None
    #: Track recordings: the file name prefix (RealtimeKit's `layers.*.file_name_prefix`).
    track_prefix: str = "default"
    #: Livestreaming: HLS and RTMP outputs fed by the composite's one encode.
    live: LiveSpec | None = None
    #: Interactive recordings: HLS with timed ID3 metadata, in a tar, instead of the MP4.
    interactive: InteractiveSpec | None = None
    #: Composite recordings of a web page (the API's `url`): the picture is this page in
    #: headless Chromium, opened with `authToken=<token>` (`salon.recording.page`), in
    #: place of salon's layout; the sound is still the meeting's mix.
    url: str | None = None


class RecordingControl(Protocol):
    """How the control plane steers a running recording (a multiprocessing-backed
    implementation crosses the process boundary). The recorder polls it."""

    def paused(self) -> bool: ...

    def stop_requested(self) -> StopReason | None: ...

    def started(self) -> None:
        """Called once, when the first frame or sample is in the output (RECORDING)."""


@dataclass(frozen=True)
class OutputFile:
    path: Path
    #: "composite": the MP4/WebM (an interactive recording's tar); "audio": the
    #: `export_file` audio; "track": one participant's audio WebM (track recordings).
    role: Literal["composite", "audio", "track"]
    content_type: str
    size: int
    duration_secs: float
    participant_id: str | None = None
    peer_id: str | None = None


@dataclass(frozen=True)
class RecordingOutcome:
    files: tuple[OutputFile, ...] = ()
    #: Seconds of recorded media (pauses excluded).
    duration_secs: float = 0.0
    stop_reason: StopReason = "API_CALL"
    #: Set when the recording failed; what was captured is still in `files` if playable.
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def lost_meeting(self) -> bool:
        """Whether the recorder ended because its connection to the meeting went
        without the meeting ending (`ALL_PEERS_LEFT` with `extra[LOST_MEETING]`): the
        meeting's node died or handed the room over, and the meeting may go on on another
        node (docs/cluster.md "Recordings go on")."""
        return self.stop_reason == "ALL_PEERS_LEFT" and self.extra.get(LOST_MEETING) == "1"


#: The `RecordingOutcome.extra` key a recorder sets ("1") when it lost its meeting's
#: connection while the meeting had not ended.
LOST_MEETING = "lost_meeting"
