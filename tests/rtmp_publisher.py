"""An RTMP publisher for tests and the benchmark, as OBS would be: PyAV (FFmpeg's own RTMP
client) encoding H.264 + AAC into FLV at `rtmp://…/live/<key>` in real time."""

import math
import time
from fractions import Fraction

import av
import numpy as np

RATE = 48000


def publish(url: str, seconds: float, width: int = 320, height: int = 180, fps: int = 15,
            draw: object = None) -> int:
    """Publish `seconds` of a moving bar and a tone; returns the frames sent. Raises
    what FFmpeg raises when the server refuses (a wrong key: an I/O error)."""
    container = av.open(url, "w", format="flv", timeout=10)
    try:
        video = container.add_stream("libx264", rate=fps, options={
            "preset": "ultrafast", "tune": "zerolatency",
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        audio = container.add_stream("aac", rate=RATE, layout="stereo")
        audio.codec_context.time_base = Fraction(1, RATE)
        began = time.monotonic()
        frames = samples = 0
        while frames < seconds * fps:
            due = began + frames / fps
            if time.monotonic() < due:
                time.sleep(due - time.monotonic())
            rgb = np.full((height, width, 3), 60, dtype=np.uint8)
            x = (frames * 6) % width
            rgb[:, x:x + 12] = (0, 220, 255)
            if callable(draw):
                draw(rgb, frames)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = frames, Fraction(1, fps)
            container.mux(video.encode(frame))
            frames += 1
            while samples < frames * RATE // fps:
                t = (samples + np.arange(1024)) / RATE
                tone = (0.2 * np.sin(2 * math.pi * 330 * t)).astype(np.float32)
                block = av.AudioFrame.from_ndarray(np.vstack([tone, tone]), format="fltp",
                                                   layout="stereo")
                block.sample_rate = RATE
                block.pts, block.time_base = samples, Fraction(1, RATE)
                samples += 1024
                container.mux(audio.encode(block))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    finally:
        container.close()
    return frames
