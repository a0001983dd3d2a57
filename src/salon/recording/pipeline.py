"""The composite's media thread: decode → compose → encode, on a fixed fps clock.

The recorder's asyncio loop only receives RTP and hands encoded packets over through a
queue; everything heavy runs here, so a slow encoder never delays reception (PyAV
releases the GIL while it decodes, scales and encodes; x264 runs its own threads).

Each tick (frame n is due at recorded time n/fps):
1. take the packets that arrived; decode video only for tracks on screen (the others
   are dropped and their decoder reset; a track coming on screen waits for a keyframe,
   which the engine asks the publisher for), Opus into the mixer;
2. compose the tiles of the current scene (a tile repeats its last frame when nothing
   new arrived) and hand frame n to the encoder thread. A thread late by less than half
   a second (a busy moment on the box) repeats its last picture for the frames it
   missed, so the file keeps its frame rate and every picture stays at its true time
   (`repeated` counts them); one further behind skips to the due frame (`skipped`);
3. mix and encode the audio up to `AUDIO_DELAY` before now (late packets still land).

An interactive recording's ID3 tags (`cue`) go to the encoder thread as they are taken
from the inbox, stamped with the recorded time they arrived at; the muxer orders them
among the frames.

A `url` recording's picture is a web page (`salon.recording.page`): step 1 has no video
to decode, and step 2 takes the page's newest frame (black until the first; the
watermark drawn over it once per new frame) instead of composing tiles.

While paused nothing is composed or mixed; the clock stands still, so frame numbers and
sample positions go on from where they stopped.
"""

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

import av

from salon.recording import labels
from salon.recording.clock import RecordingClock
from salon.recording.compositor import BACKGROUND, Compositor, blend
from salon.recording.layout import arrange
from salon.recording.mixer import RATE, AudioMixer
from salon.recording.outputs import CompositeWriter
from salon.recording.page import PagePicture
from salon.recording.roster import Scene
from salon.recording.spec import RecordingSpec

log = logging.getLogger("salon.recording.pipeline")

#: Audio is mixed this far behind now, so packets delayed by jitter are still in time.
AUDIO_DELAY = 0.12
#: aiortc's receiver holds each audio packet until 4 more arrived (its jitter buffer's
#: prefetch: 4 × 20 ms): the mixer places audio by when it really arrived.
AUDIO_HOLD = 0.08
#: The video path is slower than the audio one (a frame is held until the next one
#: starts, then waits for the compositor's next tick), so audio is placed this much
#: later to meet its picture. Measured with bench/recording.py's flash and beep: the
#: offset left is a constant within a run plus, now and then, one output frame (a
#: picture that just missed its tick), so this centres the two between -1/2 and +1/2
#: frame at 30 fps.
VIDEO_LAG = 0.015
DECODERS = {"video/vp8": "vp8", "video/h264": "h264"}


class CompositePipeline(threading.Thread):
    def __init__(self, spec: RecordingSpec, clock: RecordingClock,
                 page: PagePicture | None = None) -> None:
        super().__init__(name=f"recording-{spec.recording_id}", daemon=True)
        self.spec = spec
        self.clock = clock
        self.fps = spec.video.fps
        video = spec.video
        mark = (labels.watermark(video.watermark_path, video.watermark_size,
                                 (video.width, video.height))
                if video.watermark_path else None)
        self.compositor = Compositor(video.width, video.height, mark, video.watermark_position)
        self.mixer = AudioMixer()
        self.writer = CompositeWriter(spec.output_dir, spec.file_name, video, spec.audio,
                                      spec.live, spec.interactive)
        #: Composed frames and mixed audio on their way to the encoder thread: composing
        #: frame n+1 overlaps encoding frame n (a full queue makes this thread wait).
        self._to_encoder: queue.Queue[tuple[str, Any, int] | None] = queue.Queue(maxsize=3)
        self._encoder = threading.Thread(target=self._encode, daemon=True,
                                         name=f"recording-{spec.recording_id}-encoder")
        #: The current scene, replaced whole by the engine (a snapshot, never mutated).
        self.scene = Scene()
        self.inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.started = threading.Event()
        #: Set once `max_seconds` of frames are written (nothing more is).
        self.full = threading.Event()
        self._max_frames = spec.max_seconds * self.fps
        #: A hiccup shorter than this repeats the last picture; a longer one skips.
        self._max_lag = self.fps // 2
        self.error: BaseException | None = None
        self.frames = 0
        self.skipped = 0
        self.repeated = 0
        self._last: av.VideoFrame | None = None
        self.busy_secs = 0.0
        self._stopping = threading.Event()
        self._next = 0           # the next frame number
        self._audio_at = 0       # the next sample to mix
        self._decoders: dict[str, av.CodecContext] = {}
        self._on_screen: set[str] = set()
        self._keyframes_wanted: set[str] = set()
        self._lock = threading.Lock()
        self.files: list[tuple[Path, str]] = []
        #: A url recording's page frames (None: salon's own layout is composed).
        self.page = page
        self._page_frame: av.VideoFrame | None = None

    # --- from the engine's loop ------------------------------------------------------------

    def video(self, track_id: str, codec: str, packet: av.Packet) -> None:
        self.inbox.put(("video", track_id, codec, packet))

    def audio(self, track_id: str, packet: av.Packet, arrival: float, epoch: int) -> None:
        self.inbox.put(("audio", track_id, packet, arrival - AUDIO_HOLD + VIDEO_LAG, epoch))

    def ended(self, track_id: str) -> None:
        self.inbox.put(("ended", track_id))

    def cue(self, tag: bytes, seconds: float) -> None:
        """An interactive recording's ID3 tag at `seconds` of recorded time."""
        self.inbox.put(("cue", tag, seconds))

    def keyframes_wanted(self) -> set[str]:
        """Tracks that came on screen without a decodable picture (ask for a PLI)."""
        with self._lock:
            wanted, self._keyframes_wanted = self._keyframes_wanted, set()
        return wanted

    def stop(self) -> None:
        self._stopping.set()

    @property
    def duration(self) -> float:
        return self._next / self.fps

    # --- the thread ------------------------------------------------------------------------

    def run(self) -> None:
        self._encoder.start()
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - reported to the engine
            log.exception("recording %s failed", self.spec.recording_id)
            self.error = exc
        finally:
            self._finish()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if not self.clock.running:
                self._drain()
                time.sleep(0.005)
                continue
            now = self.clock.now()
            if self._next >= self._max_frames:
                self.full.set()
                time.sleep(0.005)
                continue
            due = min(int(now * self.fps), self._max_frames - 1)  # the cap's last frame
            if due < self._next:
                wait = self.clock.wall_at(self._next / self.fps) - time.monotonic()
                time.sleep(min(max(wait, 0.0005), 0.01))
                continue
            began = time.perf_counter()
            self._drain()
            if due - self._next > self._max_lag:  # far behind: skip to now
                self.skipped += due - self._next
                self._next = due
            while self._next < due and self._last is not None:  # a hiccup: repeat
                self._submit(("video", self._last, self._next))
                self.repeated += 1
                self.frames += 1
                self._next += 1
            self._tick(due)
            self._mix_until(int((now - AUDIO_DELAY) * RATE))
            self.busy_secs += time.perf_counter() - began

    def _tick(self, index: int) -> None:
        frame = self._last = self._page() if self.page is not None else self._compose()
        self._submit(("video", frame, index))
        self.frames += 1
        self._next = index + 1

    def _page(self) -> av.VideoFrame:
        """The page's newest frame, watermarked once when it is new (a new frame is
        this thread's own, so drawing on it is safe); black before the first."""
        assert self.page is not None
        frame, new = self.page.frame()
        if frame is None:
            if self._page_frame is None:
                self._page_frame = self._mark(self._black())
            return self._page_frame
        if new or self._page_frame is None:
            self._page_frame = self._mark(frame)
        return self._page_frame

    def _black(self) -> av.VideoFrame:
        frame = av.VideoFrame(self.spec.video.width, self.spec.video.height, "yuv420p")
        canvas = labels.planes_of(frame)
        canvas.y[:], canvas.u[:], canvas.v[:] = 16, BACKGROUND[1], BACKGROUND[2]
        return frame

    def _mark(self, frame: av.VideoFrame) -> av.VideoFrame:
        mark = self.compositor.watermark
        if mark is not None:
            blend(labels.planes_of(frame), mark, *self.compositor.watermark_at)
        return frame

    def _compose(self) -> av.VideoFrame:
        scene = self.scene
        tiles = arrange(self.spec.video.width, self.spec.video.height, list(scene.people),
                        scene.speaker, scene.screenshare)
        on_screen = {f"{t.peer_id}:{'screenshare' if t.role == 'screenshare' else 'video'}"
                     for t in tiles}
        for gone in self._on_screen - on_screen:
            self._decoders.pop(gone, None)
            self.compositor.drop(gone)
        self._on_screen = on_screen
        return self.compositor.compose(tiles, scene.names, set(scene.cameras_on))

    def _mix_until(self, sample: int) -> None:
        if sample > self._audio_at:
            pcm = self.mixer.render(self._audio_at, sample - self._audio_at)
            self._submit(("audio", pcm, self._audio_at))
            self._audio_at = sample

    def _submit(self, job: tuple[str, Any, int] | None) -> None:
        while self._encoder.is_alive():
            try:
                self._to_encoder.put(job, timeout=0.5)
                return
            except queue.Full:
                continue
        raise RuntimeError(f"the encoder thread stopped: {self.error!r}")

    def _encode(self) -> None:
        """The encoder thread: every encoder and muxer is used from here only."""
        try:
            while (job := self._to_encoder.get()) is not None:
                kind, payload, index = job
                if kind == "video":
                    self.writer.write_video(payload, index)
                    self.started.set()
                elif kind == "cue":
                    self.writer.write_tag(*payload)
                else:
                    self.writer.write_audio(payload)
        except BaseException as exc:  # noqa: BLE001 - reported to the engine
            log.exception("encoding recording %s failed", self.spec.recording_id)
            self.error = exc

    def _drain(self) -> None:
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            if item[0] == "video":
                self._decode(*item[1:])
            elif item[0] == "audio":
                if self.clock.running:
                    self.mixer.push(*item[1:])
            elif item[0] == "cue":
                self._submit(("cue", item[1:], 0))
            else:
                self._decoders.pop(item[1], None)
                self.compositor.drop(item[1])
                self.mixer.remove(item[1])

    def _decode(self, track_id: str, codec: str, packet: av.Packet) -> None:
        if track_id not in self._on_screen:
            self._decoders.pop(track_id, None)
            return
        decoder = self._decoders.get(track_id)
        if decoder is None:
            if not packet.is_keyframe:
                with self._lock:
                    self._keyframes_wanted.add(track_id)
                return
            name = DECODERS.get(codec.lower())
            if name is None:
                return
            decoder = self._decoders[track_id] = av.CodecContext.create(name, "r")
            decoder.thread_count = 1
        try:
            frames = decoder.decode(packet)
        except av.error.FFmpegError as exc:
            log.debug("%s: undecodable packet (%s); waiting for a keyframe", track_id, exc)
            self._decoders.pop(track_id, None)
            return
        if frames:
            self.compositor.set_frame(track_id, frames[-1])

    def _finish(self) -> None:
        """Mix the audio up to the last frame's end, flush and finalize the files."""
        try:
            if self._encoder.is_alive():
                self._drain()
                self._mix_until(int(self._next / self.fps * RATE))
                self._submit(None)
                self._encoder.join()
            if self.error is not None:
                raise self.error
            if self.frames:
                self.files = self.writer.close()
            else:
                self.writer.abandon()
        except BaseException as exc:  # noqa: BLE001
            log.exception("finalizing recording %s failed", self.spec.recording_id)
            self.error = self.error or exc
            self.writer.abandon()
