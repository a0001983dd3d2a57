"""A track received from another peer, with the counters tests and benchmarks read."""

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from salon.media.embedded import rtp

#: Frame arrival times kept for the fps figure.
FPS_WINDOW = 128
#: Frames further apart than this count as a freeze (the gap's length is added up).
FREEZE_SECS = 0.5


@dataclass
class Counters:
    frames: int = 0
    keyframes: int = 0
    bytes: int = 0
    first_frame_at: float | None = None  # time.monotonic()
    last_frame_at: float | None = None
    #: Seconds spent in gaps longer than FREEZE_SECS between frames.
    freeze_s: float = 0.0
    #: RTP packets received (counting sessions only: `count_only=True`).
    packets: int = 0
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=FPS_WINDOW))

    @property
    def fps(self) -> float:
        """Frames per second over the last second (0 when nothing arrived lately)."""
        now = time.monotonic()
        recent = [t for t in self.arrivals if now - t <= 1.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def rate_between(self, start: float, end: float) -> float:
        """Frames per second between two monotonic times (for a measurement window)."""
        inside = [t for t in self.arrivals if start <= t <= end]
        return len(inside) / max(end - start, 1e-6)


class RemoteTrack:
    """Frames of one remote track (`<peer_id>:<kind>`), as received on this peer.

    With a pass-through session (the default) frames stay encoded (`av.Packet`): they
    are counted, not decoded. A decoding session yields `av.VideoFrame`/`AudioFrame`.
    A counting session (`count_only=True`) keeps no frame: `frames()` ends at once.
    """

    def __init__(self, info: dict[str, Any], count_only: bool = False) -> None:
        self.count_only = count_only
        self.track_id: str = info["track_id"]
        self.peer_id: str = info["peer_id"]
        self.kind: str = info["kind"]
        self.counters = Counters()
        self.ended = False
        self._frames: asyncio.Queue[Any] | None = None

    def _arrived(self, frame: Any, keyframe: bool, size: int) -> None:
        now = time.monotonic()
        c = self.counters
        c.frames += 1
        c.keyframes += int(keyframe)
        c.bytes += size
        if c.first_frame_at is None:
            c.first_frame_at = now
        elif now - c.last_frame_at > FREEZE_SECS:  # type: ignore[operator]
            c.freeze_s += now - c.last_frame_at  # type: ignore[operator]
        c.last_frame_at = now
        c.arrivals.append(now)
        if self._frames is not None and frame is not None:
            if self._frames.full():
                self._frames.get_nowait()
            self._frames.put_nowait(frame)

    async def frames(self, maxsize: int = 60):
        """Every frame from now on (encoded or decoded, as the session receives); none
        from a counting session."""
        if self.count_only:
            return
        self._frames = asyncio.Queue(maxsize)
        while True:
            yield await self._frames.get()

    async def wait_frames(self, count: int, timeout: float = 10) -> None:
        """Wait until `count` more frames have arrived."""
        target = self.counters.frames + count
        deadline = time.monotonic() + timeout
        while self.counters.frames < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.track_id}: {self.counters.frames} frames, "
                                   f"waited for {target}")
            await asyncio.sleep(0.02)


def frame_counter(info_of: Callable[[], dict[str, Any] | None],
                  remotes: dict[str, RemoteTrack]) -> Callable[[Any, bool], None]:
    """An RTP packet handler (`hooks.forward_rtp`) that counts the frames of whatever
    track one m-line carries (`info_of()`: its entry in the latest offer, None while
    idle) into `remotes` without keeping them: a frame ends at the marker bit (video)
    or is one packet (audio); a keyframe starts where `rtp.starts_keyframe` says."""
    keyframe, size = False, 0

    def on_packet(packet, retransmitted: bool) -> None:
        nonlocal keyframe, size
        info = info_of()
        if info is None:
            return
        video = info["kind"] != "audio"
        keyframe = keyframe or (video and rtp.starts_keyframe(info["codec"],
                                                              packet.payload))
        size += len(packet.payload)
        remote = remotes.get(info["track_id"])
        if remote is None:
            remote = remotes[info["track_id"]] = RemoteTrack(info, count_only=True)
        remote.counters.packets += 1
        if packet.marker or not video:
            remote._arrived(None, keyframe, size)
            keyframe, size = False, 0

    return on_packet
