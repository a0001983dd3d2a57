"""A small REAL recorder for the control plane's tests, until the media engine merges.

It joins nothing: it writes black frames and silence for as long as it runs, into a
genuine file (H.264 + AAC in MP4, or VP8 + Opus in WebM; Opus WebM per "participant"
for track recordings; AAC `.m4a` when `audio.export_file`), honouring pause, stop and
`max_seconds` through the same `RecordingControl` as the engine. So sizes and durations
the tests assert are real. Runs as `SALON_RECORDER=tests.fake_recorder:run_recording`.

Like the engine it writes each file under its work name, an MP4 fragmented
(`salon.recording.parts`), and finalizes it when it ends; a recorder killed with its
node leaves a work file that still plays up to its last fragment.

A `file_name` starting with "crash" makes it die abruptly after a second of recording
(a recorder crash), leaving the file unfinished.
"""

import os
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from salon.recording.parts import FORMATS, finalize, work_options, work_path
from salon.recording.spec import (
    LOST_MEETING,
    OutputFile,
    RecordingControl,
    RecordingOutcome,
    RecordingSpec,
    StopReason,
)

FPS = 10
SAMPLE_RATE = 48000
SAMPLES = 960  # 20 ms


class _Output:
    """One container with a video (optional) and an audio stream fed with black and silence."""

    def __init__(self, path: Path, video: str | None, audio: str, width: int, height: int,
                 layout: str) -> None:
        self.path = path
        self.container = av.open(str(work_path(path)), "w",
                                 format=FORMATS[path.suffix],
                                 options=work_options(path))
        self.video = None
        if video is not None:
            self.video = self.container.add_stream(video, rate=FPS)
            self.video.width, self.video.height = width, height
            self.video.pix_fmt = "yuv420p"
            if video == "libx264":
                self.video.options = {"preset": "ultrafast"}
            self.black = av.VideoFrame(width, height, "yuv420p")
            for plane, value in zip(self.black.planes, (16, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
        self.audio = self.container.add_stream(audio, rate=SAMPLE_RATE, layout=layout)
        self.layout = layout
        self.frames = 0
        self.samples = 0

    def advance(self, seconds: float) -> None:
        """Write media up to `seconds` of recorded time."""
        while self.video is not None and self.frames < seconds * FPS:
            frame = self.black
            frame.pts, frame.time_base = self.frames, Fraction(1, FPS)
            self.container.mux(self.video.encode(frame))
            self.frames += 1
        while self.samples < seconds * SAMPLE_RATE:
            frame = av.AudioFrame(format="s16", layout=self.layout, samples=SAMPLES)
            frame.planes[0].update(bytes(frame.planes[0].buffer_size))
            frame.sample_rate = SAMPLE_RATE
            frame.pts, frame.time_base = self.samples, Fraction(1, SAMPLE_RATE)
            self.container.mux(self.audio.encode(frame))
            self.samples += SAMPLES

    def close(self) -> None:
        if self.video is not None:
            self.container.mux(self.video.encode(None))
        self.container.mux(self.audio.encode(None))
        self.container.close()
        finalize(work_path(self.path), self.path)


def _outputs(spec: RecordingSpec) -> list[tuple[_Output, str, str]]:
    out = spec.output_dir
    layout = spec.audio.channel
    if spec.kind == "track":
        name = f"{spec.track_prefix}_fake-user_fake-peer_peer_audio_{spec.file_name}.webm"
        return [(_Output(out / name, None, "libopus", 0, 0, "stereo"), "track", "audio/webm")]
    v = spec.video
    if v.codec in ("VP8", "VP9"):
        encoder = "libvpx" if v.codec == "VP8" else "libvpx-vp9"
        main = _Output(out / f"{spec.file_name}.webm", encoder, "libopus", v.width, v.height,
                       "stereo")
        outputs = [(main, "composite", "video/webm")]
    else:
        main = _Output(out / f"{spec.file_name}.mp4", "libx264", "aac", v.width, v.height,
                       layout)
        outputs = [(main, "composite", "video/mp4")]
    if spec.audio.export_file:
        outputs.append((_Output(out / f"{spec.file_name}.m4a", None, "aac", 0, 0, layout),
                        "audio", "audio/mp4"))
    return outputs


def run_recording(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    outputs = _outputs(spec)
    recorded = 0.0
    last = time.monotonic()
    started = False
    reason = None
    while reason is None:
        time.sleep(0.05)
        now = time.monotonic()
        if not control.paused():
            recorded = min(recorded + now - last, float(spec.max_seconds))
            for output, _, _ in outputs:
                output.advance(recorded)
            if not started:
                control.started()
                started = True
        last = now
        if spec.file_name.startswith("crash") and recorded > 1.0:
            os._exit(3)
        reason = control.stop_requested()
        if reason is None and recorded >= spec.max_seconds:
            reason = "MAX_SECONDS"
    files = []
    for output, role, content_type in outputs:
        output.close()
        files.append(OutputFile(path=output.path, role=role, content_type=content_type,
                                size=output.path.stat().st_size, duration_secs=recorded,
                                participant_id="fake-user" if role == "track" else None,
                                peer_id="fake-peer" if role == "track" else None))
    return RecordingOutcome(files=tuple(files), duration_secs=recorded, stop_reason=reason)


def run_joining_recording(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    """The same, but first joins the meeting with the recorder's token, as the engine
    does (a hidden participant), and stays connected while it records. As the engine, it
    ends with `ALL_PEERS_LEFT` when the room ends, and also when its connection goes
    without the room ending — the meeting's node died or handed the room over — which
    it reports as the engine does (`RecordingOutcome.lost_meeting`)."""
    import asyncio

    from salon.client import RealtimeClient

    joined = threading.Event()
    done = threading.Event()
    ended = threading.Event()
    lost = threading.Event()

    async def stay() -> None:
        peer = await RealtimeClient.join(spec.gateway_url, spec.token, keep_alive=5)
        peer.listeners["room.ended"] = lambda data: ended.set()
        joined.set()
        while not done.is_set() and not peer.closed.is_set():
            await asyncio.sleep(0.05)
        if not done.is_set():
            (lost if not ended.is_set() else ended).set()
        await peer.leave()

    thread = threading.Thread(target=asyncio.run, args=(stay(),), daemon=True)
    thread.start()
    if not joined.wait(10):
        return RecordingOutcome(stop_reason="INTERNAL_ERROR", error="could not join")
    try:
        outcome = run_recording(spec, _UntilGone(control, ended, lost))
    finally:
        done.set()
        thread.join(5)
    if lost.is_set() and outcome.stop_reason == "ALL_PEERS_LEFT":
        return replace(outcome, extra={**outcome.extra, LOST_MEETING: "1"})
    return outcome


class _UntilGone:
    """The control, with a stop (`ALL_PEERS_LEFT`) once the room ended or was lost."""

    def __init__(self, control: RecordingControl, *gone: threading.Event) -> None:
        self.control = control
        self.gone = gone

    def stop_requested(self) -> StopReason | None:
        if any(event.is_set() for event in self.gone):
            return self.control.stop_requested() or "ALL_PEERS_LEFT"
        return self.control.stop_requested()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.control, name)
