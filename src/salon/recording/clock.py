"""Recorded time: the wall clock with the paused spans taken out.

Every output timestamp is a position on this clock, so a pause leaves no gap in the
file: while paused the clock stands still and nothing is fed; on resume it carries on
from where it stopped. `epoch` counts resumes, so whatever anchored itself to the clock
(the mixer's per-peer RTP anchors) knows to anchor again.
"""

import threading
import time


class RecordingClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self.epoch = 0

    def start(self) -> None:
        with self._lock:
            if self._started_at is None:
                self._started_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self._started_at is not None and self._paused_at is None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        """Seconds recorded so far (0 before the start; frozen while paused)."""
        with self._lock:
            if self._started_at is None:
                return 0.0
            end = self._paused_at if self._paused_at is not None else time.monotonic()
            return end - self._started_at - self._paused_total

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None and self._started_at is not None:
                self._paused_at = time.monotonic()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._paused_total += time.monotonic() - self._paused_at
                self._paused_at = None
                self.epoch += 1

    def wall_at(self, recorded: float) -> float:
        """The monotonic time at which the clock will read `recorded` (if not paused)."""
        with self._lock:
            base = self._started_at if self._started_at is not None else time.monotonic()
            return base + self._paused_total + recorded
