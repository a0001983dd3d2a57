"""A small REAL livestream encoder for the control plane's tests: it joins no meeting,
but encodes a moving picture and a tone with the recorder's own `CompositeWriter`, whose
live outputs (HLS, RTMP) are what is under test, in real time, until it is stopped.
Runs as `SALON_LIVESTREAMER=tests.fake_livestreamer:run_recording`."""

import math
import time

import av
import numpy as np

from salon.recording.outputs import CompositeWriter
from salon.recording.spec import RecordingControl, RecordingOutcome, RecordingSpec

RATE = 48000


def picture(index: int, width: int, height: int) -> av.VideoFrame:
    """A bar that moves one step a frame over grey: every frame differs."""
    rgb = np.full((height, width, 3), 96, dtype=np.uint8)
    x = (index * 8) % width
    rgb[:, x:x + 16] = (255, 200, 0)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def run_recording(spec: RecordingSpec, control: RecordingControl) -> RecordingOutcome:
    video = spec.video
    fps = video.fps
    writer = CompositeWriter(spec.output_dir, spec.file_name, video, spec.audio, spec.live)
    began = time.monotonic()
    index = 0
    samples = 0
    reason = None
    while (reason := control.stop_requested()) is None and index < spec.max_seconds * fps:
        due = began + index / fps
        if time.monotonic() < due:
            time.sleep(min(due - time.monotonic(), 0.05))
            continue
        writer.write_video(picture(index, video.width, video.height), index)
        index += 1
        count = index * RATE // fps - samples
        t = (samples + np.arange(count)) / RATE
        tone = (0.2 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
        writer.write_audio(np.vstack([tone, tone]))
        samples += count
        if index == 1:
            control.started()
    writer.close()
    return RecordingOutcome(duration_secs=index / fps, stop_reason=reason or "MAX_SECONDS")
